"""The Performance page's pictures: NAV and cumulative TWR lines with the flows marked, and the drawdown.

Numbers come from reports/returns.py's `detail` (decimal strings); only pixel positions are computed here. The
drawdown on a day is the cumulative TWR's growth against its best level so far: growth 1.10 then 0.99 gives
0.99 / 1.10 - 1 = -10.00 % (DESIGN §10's example after February).
"""

from __future__ import annotations

from decimal import Decimal

ONE = Decimal(1)


def drawdown(days: list[dict]) -> tuple[list[dict], str | None]:
    """[{date, drawdown}] from the days' cumulative `twr`, and the worst one (as a decimal string)."""
    best: Decimal | None = None
    worst: Decimal | None = None
    out = []
    for day in days:
        if day.get("twr") is None:
            out.append({"date": day["date"], "drawdown": None})
            continue
        growth = ONE + Decimal(day["twr"])
        best = growth if best is None or growth > best else best
        value = growth / best - ONE if best else Decimal(0)
        worst = value if worst is None or value < worst else worst
        out.append({"date": day["date"], "drawdown": str(value)})
    return out, None if worst is None else str(worst)


def line_chart(points: list[tuple[str, str | None]], marks: list[tuple[str, str, str]] = (), width: int = 640,
               height: int = 160, pad: int = 36) -> dict:
    """Geometry of a line over dated values (None leaves a gap) and marks [(date, label, kind)] on the x axis.

    E.g. values 0 and 100 on a 160 px chart with 36 px padding: y = 124 for 0 and 36 for 100."""
    values = [Decimal(v) for _, v in points if v is not None]
    if not points or not values:
        return {"width": width, "height": height, "paths": [], "marks": [], "empty": True}
    low, high = min(values + [Decimal(0)]), max(values + [Decimal(0)])
    span = (high - low) or ONE
    step = Decimal(width - 2 * pad) / max(1, len(points) - 1)
    index = {date: i for i, (date, _) in enumerate(points)}

    def y(value: Decimal) -> float:
        return round(float(pad + (high - value) * (height - 2 * pad) / span), 1)  # pixels, not money

    paths, current = [], []
    for i, (_, value) in enumerate(points):
        if value is None:
            if current:
                paths.append(" ".join(current))
            current = []
            continue
        current.append(f"{round(float(pad + step * i), 1)},{y(Decimal(value))}")
    if current:
        paths.append(" ".join(current))
    flags = [{"x": round(float(pad + step * index[d]), 1), "label": label, "kind": kind}
             for d, label, kind in marks if d in index]
    return {"width": width, "height": height, "paths": paths, "marks": flags, "zero": y(Decimal(0)),
            "low": str(low), "high": str(high), "first": points[0][0], "last": points[-1][0], "empty": False}


def charts(detail: dict) -> dict:
    """NAV, cumulative TWR and drawdown charts of one detail; deposits and withdrawals (and other flows) marked."""
    days = detail.get("days") or []
    marks = [(f["date"], f"{f['kind']} {f['amount']}", "in" if f["side"] == "in" else "out")
             for f in detail.get("flows") or []]
    dd, worst = drawdown(days)
    return {"nav": line_chart([(d["date"], d["value"]) for d in days], marks),
            "twr": line_chart([(d["date"], d["twr"]) for d in days], marks),
            "drawdown": line_chart([(d["date"], d["drawdown"]) for d in dd]), "max_drawdown": worst}
