"""Read labels.yaml into labels, and match labels to instruments; every problem is an error value with file+line.

labels.yaml (DESIGN §6b) is read with PyYAML's node API, not `safe_load`, for two reasons: every key and
member keeps its line (so an error says `labels.yaml:7`), and a weight such as `0.6` is turned into
`Decimal("0.6")` from its text instead of passing through a float.

    labels:
      Software:
        description: Software and cloud names
        colour: "#3b82f6"
        members:
          - AAPL                          # symbol (the ledger's commodity name), manual entry
          - "conid:272093"                # IBKR conid, manual entry
          - "isin:DE0007164600"           # ISIN, manual entry
          - "re:^SNOW$"                   # rule: regex searched in the symbol
          - "desc:(?i)software"           # rule: regex searched in the description (also `re-desc:`)
          - "category:STK"                # rule: IBKR asset category
          - {member: TSLA, weight: 0.5}   # any of the above with a weight in [0, 1]
        exclude: ["re:^AAPL-"]            # same forms; wins over members and rules

Membership is by instrument (conid) over the whole history. When several entries of one label match the same
instrument, a manual entry (symbol, conid, isin) beats a rule; two entries of the same kind with different
weights are an error. A member or exclusion that matches no instrument is an error (a typo would otherwise
silently drop an instrument from a label).
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from beanflex.contract.textfile import NotUtf8Error, read_utf8

LabelsError = collections.namedtuple("LabelsError", "source message entry")

LABEL_KEYS = ("description", "colour", "color", "members", "exclude")
MEMBER_KEYS = ("member", "weight")
#: prefix -> kind; a member without a prefix is a symbol.
PREFIXES = {"conid:": "conid", "isin:": "isin", "re:": "re", "re-desc:": "desc", "desc:": "desc",
            "category:": "category"}
MANUAL_KINDS = ("symbol", "conid", "isin")
ONE = Decimal(1)


@dataclass(frozen=True)
class Instrument:
    """What labels can match on, from the commodity directive (docs/ledger-format.md "Commodities")."""

    symbol: str                      # the commodity name, e.g. "AAPL", "AAPL-240621C200"
    conid: str | None = None         # "265598"
    isin: str | None = None          # "US0378331005"
    name: str | None = None          # IBKR description, e.g. "APPLE INC"
    asset_category: str | None = None  # "STK", "OPT", …

    @property
    def key(self) -> str:
        """Identity: the conid, else (hand-made commodities) the symbol."""
        return self.conid or self.symbol


@dataclass(frozen=True)
class Member:
    """One entry of `members:` or `exclude:`, e.g. `re:^SNOW$` at line 7."""

    kind: str                        # symbol | conid | isin | re | desc | category
    value: str                       # the text after the prefix
    weight: Decimal = ONE
    lineno: int = 0
    pattern: re.Pattern | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return self.value if self.kind == "symbol" else f"{self.kind}:{self.value}"

    def matches(self, inst: Instrument) -> bool:
        if self.kind == "symbol":
            return inst.symbol == self.value
        if self.kind == "conid":
            return inst.conid == self.value
        if self.kind == "isin":
            return (inst.isin or "").upper() == self.value.upper()
        if self.kind == "category":
            return (inst.asset_category or "").upper() == self.value.upper()
        if self.kind == "re":
            return bool(self.pattern.search(inst.symbol))
        return bool(self.pattern.search(inst.name or ""))  # desc


@dataclass(frozen=True)
class Label:
    name: str
    description: str = ""
    colour: str | None = None
    members: tuple[Member, ...] = ()
    exclude: tuple[Member, ...] = ()
    lineno: int = 0


@dataclass(frozen=True)
class LabelsConfig:
    filename: str
    labels: tuple[Label, ...] = ()

    def get(self, name: str) -> Label | None:
        return next((label for label in self.labels if label.name == name), None)


def error_at(filename: str, node_or_line, message: str) -> LabelsError:
    line = node_or_line if isinstance(node_or_line, int) else node_or_line.start_mark.line + 1
    return LabelsError({"filename": filename, "lineno": line}, message, None)


def load_labels(path: str | Path) -> tuple[LabelsConfig, list[LabelsError]]:
    """Read and validate labels.yaml; a missing or unreadable file is one error, never an exception."""
    filename = str(path)
    try:
        text = read_utf8(path)
    except NotUtf8Error as exc:
        return LabelsConfig(filename), [error_at(filename, exc.line, exc.message)]
    except OSError as exc:
        return LabelsConfig(filename), [error_at(filename, 0, f"cannot read labels file ({exc.strerror}); "
                                                          "create it (beanflex init writes one) or fix the "
                                                          "path in the plugin line")]
    return parse_labels(text, filename)


def parse_labels(text: str, filename: str = "labels.yaml") -> tuple[LabelsConfig, list[LabelsError]]:
    """Parse labels.yaml text; returns the labels that are valid plus one error per problem found."""
    errors: list[LabelsError] = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        return LabelsConfig(filename), [error_at(filename, line, f"YAML syntax error: {problem}")]
    if root is None:
        return LabelsConfig(filename), []
    if not isinstance(root, yaml.MappingNode):
        return LabelsConfig(filename), [error_at(filename, root, "expected a mapping with a 'labels:' key")]
    labels: list[Label] = []
    for key, value in _pairs(root, filename, errors):
        if key.value != "labels":
            errors.append(error_at(filename, key, f"unknown key '{key.value}' (expected 'labels')"))
        elif isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
            continue
        elif not isinstance(value, yaml.MappingNode):
            errors.append(error_at(filename, value, "'labels' must be a mapping of label name -> settings"))
        else:
            for name_node, spec in _pairs(value, filename, errors):
                label = _parse_label(name_node, spec, filename, errors)
                if label is not None:
                    labels.append(label)
    return LabelsConfig(filename, tuple(labels)), errors


def _pairs(node: yaml.MappingNode, filename: str, errors: list) -> list[tuple[yaml.Node, yaml.Node]]:
    """The mapping's (key, value) nodes; a duplicate key is an error (YAML would keep only the last)."""
    seen: dict[str, int] = {}
    out = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            errors.append(error_at(filename, key, "keys must be plain text"))
            continue
        if key.value in seen:
            errors.append(error_at(filename, key, f"duplicate key '{key.value}' (first at line {seen[key.value]})"))
            continue
        seen[key.value] = key.start_mark.line + 1
        out.append((key, value))
    return out


def _parse_label(name_node, spec, filename: str, errors: list) -> Label | None:
    name = name_node.value.strip()
    if not name or "," in name or "=" in name:
        errors.append(error_at(filename, name_node, f"label name '{name}' must be non-empty and contain no ',' "
                                                  "or '=' (they separate labels in the commodity metadata)"))
        return None
    settings: dict[str, yaml.Node] = {}
    if isinstance(spec, yaml.MappingNode):
        for key, value in _pairs(spec, filename, errors):
            if key.value not in LABEL_KEYS:
                errors.append(error_at(filename, key, f"unknown key '{key.value}' in label '{name}' "
                                                    f"(expected one of: {', '.join(LABEL_KEYS)})"))
            else:
                settings["colour" if key.value == "color" else key.value] = value
    elif isinstance(spec, yaml.SequenceNode):  # shorthand: `Software: [AAPL, MSFT]`
        settings["members"] = spec
    elif not (isinstance(spec, yaml.ScalarNode) and spec.value in ("", "~", "null")):
        errors.append(error_at(filename, spec, f"label '{name}' must be a mapping (description, members, exclude)"))
        return None
    description = _scalar(settings.get("description"), filename, errors, f"description of '{name}'")
    colour = _scalar(settings.get("colour"), filename, errors, f"colour of '{name}'") or None
    members = _parse_members(settings.get("members"), filename, errors, name, weighted=True)
    exclude = _parse_members(settings.get("exclude"), filename, errors, name, weighted=False)
    return Label(name, description, colour, members, exclude, name_node.start_mark.line + 1)


def _scalar(node, filename: str, errors: list, what: str) -> str:
    if node is None:
        return ""
    if not isinstance(node, yaml.ScalarNode):
        errors.append(error_at(filename, node, f"{what} must be text"))
        return ""
    return node.value


def _parse_members(node, filename: str, errors: list, label: str, weighted: bool) -> tuple[Member, ...]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return ()
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out = []
    for item in items:
        member = _parse_member(item, filename, errors, label, weighted)
        if member is not None:
            out.append(member)
    return tuple(out)


def _parse_member(item, filename: str, errors: list, label: str, weighted: bool) -> Member | None:
    weight = ONE
    where = "members" if weighted else "exclude"
    if isinstance(item, yaml.MappingNode):
        parts = dict((k.value, v) for k, v in _pairs(item, filename, errors))
        for key in parts:
            if key not in MEMBER_KEYS:
                errors.append(error_at(filename, item, f"unknown key '{key}' in a member of '{label}' "
                                                     "(expected 'member' and 'weight')"))
                return None
        if "member" not in parts or not isinstance(parts["member"], yaml.ScalarNode):
            errors.append(error_at(filename, item, f"a member of '{label}' written as a mapping needs 'member: X'"))
            return None
        if "weight" in parts:
            if not weighted:
                errors.append(error_at(filename, item, f"'exclude' of '{label}' takes no weight"))
                return None
            weight = _weight(parts["weight"], filename, errors, label)
            if weight is None:
                return None
        item = parts["member"]
    if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
        errors.append(error_at(filename, item, f"each of '{label}' {where} must be a symbol, conid:…, isin:…, "
                                             "re:…, desc:… or category:…"))
        return None
    text = item.value.strip()
    kind, value = "symbol", text
    for prefix, prefix_kind in PREFIXES.items():
        if text.startswith(prefix):
            kind, value = prefix_kind, text[len(prefix):].strip()
            break
    pattern = None
    if kind in ("re", "desc"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            errors.append(error_at(filename, item, f"invalid regular expression '{value}' in '{label}': {exc}"))
            return None
    return Member(kind, value, weight, item.start_mark.line + 1, pattern)


def _weight(node, filename: str, errors: list, label: str) -> Decimal | None:
    text = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
    try:
        weight = Decimal(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        weight = None
    if weight is None or not weight.is_finite() or not Decimal(0) <= weight <= ONE:
        errors.append(error_at(filename, node, f"weight '{text}' in '{label}' must be a number from 0 to 1 "
                                             "(e.g. 0.6, or 60%)"))
        return None
    return weight


def assign(config: LabelsConfig, instruments: list[Instrument]) -> tuple[dict[str, dict[str, Decimal]],
                                                                        list[LabelsError]]:
    """Label membership per instrument key (conid, else symbol): {key: {label: weight}}, labels in file order.

    Example: Software members [AAPL, "re:^MS"], exclude ["category:OPT"] over AAPL, MSFT and an MSFT option
    gives {"265598": {"Software": 1}, "272093": {"Software": 1}}; the option is matched by the rule and then
    excluded.
    """
    errors: list[LabelsError] = []
    result: dict[str, dict[str, Decimal]] = {}
    for label in config.labels:
        excluded = set()
        for entry in label.exclude:
            hits = [inst.key for inst in instruments if entry.matches(inst)]
            if not hits:
                errors.append(_no_match(config.filename, label, entry, "exclude"))
            excluded.update(hits)
        chosen: dict[str, Member] = {}
        for entry in label.members:
            hits = [inst for inst in instruments if entry.matches(inst)]
            if not hits:
                errors.append(_no_match(config.filename, label, entry, "members"))
            for inst in hits:
                prior = chosen.get(inst.key)
                if prior is None or _rank(entry) > _rank(prior):
                    chosen[inst.key] = entry
                elif _rank(entry) == _rank(prior) and entry.weight != prior.weight:
                    errors.append(error_at(config.filename, entry.lineno,
                                         f"'{entry.text}' gives {inst.symbol} weight {entry.weight} in "
                                         f"'{label.name}', but line {prior.lineno} gives {prior.weight}; keep one"))
        for key, entry in chosen.items():
            if key not in excluded:
                result.setdefault(key, {})[label.name] = entry.weight
    return result, errors


def _rank(member: Member) -> int:
    return 1 if member.kind in MANUAL_KINDS else 0


def _no_match(filename: str, label: Label, entry: Member, where: str) -> LabelsError:
    hint = " (a conid is written conid:272093)" if entry.kind == "symbol" and entry.value.isdigit() else ""
    return error_at(filename, entry.lineno, f"'{entry.text}' in {where} of '{label.name}' matches no instrument "
                                          f"in the ledger{hint}; fix the symbol or remove the line")
