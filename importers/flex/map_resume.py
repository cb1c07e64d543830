"""Map new statements on top of a kept MapState: exactly what mapping the whole archive again would give.

The full mapping (mapper.py) is a fold over statements in time order except where it looks across them. Each of
those places is checked here, and any doubt raises NotResumable with a one-line reason (the caller then maps
everything again):

- order: every new statement starts after the last day mapped, and none of its events sorts before the last
  event booked (an overlapping statement, a late correction);
- instruments: no instrument of the archive changes (first date, symbol, an attribute read), every new name
  is free and unsuffixed, so no name of the archive moves;
- cancels: the new statements hold no cancel, and no archived cancel could pair with a new trade;
- lots from before the archive (window_lots.py): their full quantities stay what they were;
- the emitter: no new booked directive repeats a key an archived cash row already used, and no new directive
  names a row of an archived file (that file's counts would change).

E.g. ten years of history and one new day: the day's rows are parsed and mapped, the years are not.
"""

from __future__ import annotations

from itertools import chain

from . import mapper, window_lots
from .adapter import FlexDocument
from .context import ImportConfig, MapContext
from .drift import DriftReport
from .map_state import MapState, StatementStub
from .row_counts import count_rows


class NotResumable(Exception):
    """The new statements cannot be mapped on top of the kept state; the message says why, in one line."""


def resume(state: MapState, documents: list[tuple[str, FlexDocument]], config: ImportConfig,
           manual_flex_ids: set[str] | frozenset) -> mapper.BuildResult:
    """The BuildResult of the archive the state covers plus `documents`, with its own `state` for the next run.

    Consumes `state` (its objects are moved into the new one). Raises NotResumable when unsure.
    """
    ordered = sorted(documents, key=mapper._archive_order)
    _check_dates(state, ordered)
    contexts, drifts, taken = _collect(state, ordered, config)
    instruments, booker = state.instruments, state.booker
    stubs = list(state.statements)
    firsts = mapper._first_statements([*stubs, *contexts])
    booker.history.forget_statements({id(c) for c in firsts.values() if isinstance(c, MapContext)})

    out = mapper._Emitter(manual_flex_ids)
    out.seen = set(state.seen_booked)
    out.by_account = {account: list(entries) for account, entries in state.booked.items()}
    out.overridden = set(state.overridden)
    accounted: set[tuple[str, int]] = set()
    events = []
    for seq, ctx in enumerate(contexts, start=len(stubs)):
        events.extend(mapper._statement_events(seq, ctx, instruments, out, accounted, state.seen_ids))
    rows = [e[4] for e in events if e[3] == "trade"]
    _check_cancels(state, rows, events)
    trade_ids = _resume_window(state, rows, contexts)
    if events and min(e[:2] for e in events) < state.last_event:
        raise NotResumable("an event of the new statement is dated before the last one already mapped")
    mapper.book_sorted(events, set(), instruments, booker, out)
    clash = (out.seen - state.seen_booked) & state.seen_sections
    if clash:
        raise NotResumable(f"a new trade-like row repeats the id of an archived cash row ({min(map(str, clash))})")
    booked = {account: len(entries) for account, entries in out.by_account.items()}
    seen_booked = set(out.seen)
    for account, entries in state.sections.items():
        out.by_account.setdefault(account, []).extend(entries)
    out.seen |= state.seen_sections
    mapper._map_sections(contexts, out, firsts)
    _check_sources(drifts, out, accounted)
    _check_names(taken, instruments.namer)

    everything = [*stubs, *contexts]
    result = mapper.BuildResult(overridden=sorted(out.overridden),
                                base_currencies=mapper._base_currencies(everything))
    result.files = mapper._files(out, instruments, config, mapper._account_bases(everything))
    result.counts = dict(state.counts)
    for drift in state.drifts.values():
        result.drift.extend(drift)
    for path in drifts:
        result.counts[path] = mapper.FileCounts()
    count_rows(contexts, out, mapper.NOT_MAPPED, accounted, drifts, result)
    result.state = MapState(
        last_order=max(state.last_order, mapper._archive_order(ordered[-1])) if ordered else state.last_order,
        last_event=max([state.last_event, *(e[:2] for e in events)]), statements=[
            *stubs, *(StatementStub.of(ctx) for ctx in contexts)], instruments=instruments, booker=booker,
        seen_ids=state.seen_ids, trade_ids=trade_ids, window=state.window, cancel_refs=state.cancel_refs,
        booked={a: e[:booked.get(a, 0)] for a, e in out.by_account.items()},
        sections={a: e[booked.get(a, 0):] for a, e in out.by_account.items()}, seen_booked=seen_booked,
        seen_sections=out.seen - seen_booked, overridden=set(out.overridden), counts=dict(result.counts),
        drifts={**state.drifts, **drifts})
    return result


def _check_dates(state: MapState, ordered: list) -> None:
    """Every new statement starts after the last day of every mapped one and sorts after them in the archive."""
    last = max((s.to_date for s in state.statements if s.to_date is not None), default=None)
    for path, document in ordered:
        for statement in document.statements:
            if statement.from_date is None or (last is not None and statement.from_date <= last):
                raise NotResumable(f"{path} starts on {statement.from_date}, not after the last day already "
                                   f"mapped ({last})")
        if mapper._archive_order((path, document)) <= state.last_order:
            raise NotResumable(f"{path} sorts before a statement already mapped")


def _collect(state: MapState, ordered: list, config: ImportConfig) -> tuple[list[MapContext], dict, tuple]:
    """MapContexts and instruments of the new statements (an instrument of the archive must not change), and the
    names and conids the namer held before them."""
    instruments = state.instruments
    before = {key: _identity(inst) for key, inst in instruments.by_key.items()}
    contexts: list[MapContext] = []
    drifts: dict[str, DriftReport] = {}
    for path, document in ordered:
        drift = drifts.setdefault(path, DriftReport())
        for statement in document.statements:
            contexts.append(MapContext(statement, path, instruments.namer, drift, config))
            instruments.collect(statement, drift, path)
    for key, identity in before.items():
        if _identity(instruments.by_key[key]) != identity:
            raise NotResumable(f"the new statement changes what the archive says of instrument {key}")
    taken = (set(instruments.namer._taken), set(instruments.namer.by_conid))
    instruments.assign_names()
    return contexts, drifts, taken


#: The merged attributes of an Instrument that the mapping reads (instruments.py multiplier, occ, commodity_meta;
#: ca_settle.py isin; option_actions.py conid). Others, e.g. an OpenPositions row's markPrice that a new day adds
#: to an instrument of the archive, change nothing mapped. Reading another one means adding it here.
READ_ATTRS = ("symbol", "multiplier", "conid", "isin", "description", "underlyingConid", "underlyingSymbol", "expiry",
              "putCall", "subCategory", "strike")


def _identity(inst) -> tuple:
    return inst.first_date, inst.symbol, inst.asset_category, tuple(inst.attrs.get(name) for name in READ_ATTRS)


def _check_names(before: tuple[set, set], namer) -> None:
    """Each new commodity name is free and unsuffixed: then no name clash depends on the order of naming."""
    taken, named = before
    for conid, name in namer.by_conid.items():
        if conid in named:
            continue
        suffix = "-" + "".join(ch for ch in conid.upper() if ch.isalnum())
        if name in taken or name.endswith(suffix):
            raise NotResumable(f"the new commodity {name} ({conid}) shares a name with one already mapped")


def _check_cancels(state: MapState, rows: list, events: list) -> None:
    """No cancel among the new rows; no archived cancel that could pair with a new trade (cancels.py)."""
    for row in rows:
        if row.is_cancel:
            raise NotResumable(f"{row.ctx.raw_path}:{row.record.line} cancels a trade")
    new_ids = {row.record.text("transactionID") for row in rows}
    first = min((e[0] for e in events), default=None)
    for original, when in state.cancel_refs:
        if (original and original in new_ids) or (not original and first is not None and when >= first):
            raise NotResumable("an archived cancel could pair with a new trade")


def _resume_window(state: MapState, rows: list, contexts: list) -> set[str]:
    """Add the new rows to the lots from before the archive; their full quantities must not change."""
    window = state.window
    ids = {row.flex_id for row in rows}
    if ids & set(window.lots):
        raise NotResumable("a new trade opens a lot the archive took to be from before its first statement")
    known = state.trade_ids | ids
    for label in ids & set(window.unsold):
        del window.unsold[label]
    before = state.booker.history.full_lots
    window_lots.add_pieces(window, rows, known)
    window_lots.add_positions(window, contexts, known)
    full = window.full()
    for label, value in before.items():
        if full.get(label) != value:
            raise NotResumable(f"the new statement changes the full quantity of lot {label}")
    state.booker.history.full_lots = full
    return known


def _check_sources(drifts: dict, out, accounted: set) -> None:
    """No new directive or repeat names a row of an archived file: its counts stay what they were."""
    for path, _line in chain(out.lines, out.duplicate_lines, accounted):
        if path not in drifts:
            raise NotResumable(f"a new row refers to {path}, already mapped")
