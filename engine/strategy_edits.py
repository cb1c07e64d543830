"""Hand edits of the detected strategy groups: `strategies.yaml` at the workspace root (DESIGN §9).

    groups:
      "U1/trade/1001":                  # a group id as `report strategies` shows it ("strategy:" optional)
        name: XYZ wheel 2024
        kind: wheel
        merge: ["U1/trade/1033"]        # these groups become part of this one
    move: {"U1/trade/1207": "U1/trade/1001"}   # an event (flex_id) into another group
    split: ["U1/trade/1300"]           # a new group (id U1/trade/1300) starts at this event
    ignore: ["U1/trade/1301"]          # left out of every group

Edits win over detection and are applied in a fixed order: ignore, split, merge, move, then name and kind, so a
group made by `split` can be merged, named or receive moved events. Group ids are flex_ids of IBKR rows, so they
survive `rebuild` and re-imports; a group named by the flex_id of any of its members is that group too, so an
edit keeps applying when an older statement imported later gives the group an earlier first row. An edit that
names nothing is a warning (file:line); a file that is not YAML or has the wrong shape is a StrategiesFileError
naming the line. The file is plain YAML with one key per edit, so a page can add an edit by writing one more key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .strategy_detect import Group, Member
from .strategy_shape import ShapeLeg

TOP_KEYS = ("groups", "move", "split", "ignore")
GROUP_KEYS = ("name", "kind", "merge")


class StrategiesFileError(ValueError):
    """strategies.yaml cannot be read: the message names the file and line and says what to write instead."""


@dataclass(frozen=True)
class EditWarning:
    filename: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}: {self.message}"


@dataclass
class GroupEdit:
    lineno: int
    name: str | None = None
    kind: str | None = None
    merge: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Edits:
    filename: str = "strategies.yaml"
    groups: dict[str, GroupEdit] = field(default_factory=dict)
    move: list[tuple[str, str, int]] = field(default_factory=list)  # (flex_id, group id, line)
    split: list[tuple[str, int]] = field(default_factory=list)
    ignore: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[EditWarning] = field(default_factory=list)


def group_id(text: str) -> str:
    """`strategy:U1/trade/1001` or `U1/trade/1001` -> `U1/trade/1001`."""
    return str(text).strip().removeprefix("strategy:")


def load_edits(path: str | Path) -> Edits:
    """Read strategies.yaml; a missing file is no edits. Raises StrategiesFileError on a malformed file."""
    path = Path(path)
    edits = Edits(str(path))
    if not path.is_file():
        return edits
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise StrategiesFileError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', None) or exc}); "
                                  f"see DESIGN §9 for the format") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategiesFileError(f"{path}: cannot read it ({exc})") from None
    if root is None:
        return edits
    for key, value in _mapping(edits, root, "the file"):
        name = key.value
        if name == "groups":
            for gkey, gvalue in _mapping(edits, value, "groups"):
                edits.groups[group_id(gkey.value)] = _group(edits, gkey, gvalue)
        elif name == "move":
            for fkey, fvalue in _mapping(edits, value, "move"):
                edits.move.append((str(fkey.value), group_id(_scalar(edits, fvalue, "move's group id")),
                                   fkey.start_mark.line + 1))
        elif name in ("split", "ignore"):
            getattr(edits, name).extend(_ids(edits, value, name))
        else:
            edits.warnings.append(EditWarning(edits.filename, key.start_mark.line + 1,
                                           f"unknown key {name!r} (known: {', '.join(TOP_KEYS)}); ignored"))
    return edits


def _error(edits: Edits, node, message: str) -> StrategiesFileError:
    return StrategiesFileError(f"{edits.filename}:{node.start_mark.line + 1}: {message}")


def _mapping(edits: Edits, node, what: str):
    if not isinstance(node, yaml.MappingNode):
        raise _error(edits, node, f"{what} must be a mapping of `key: value` lines")
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _error(edits, key, f"a key of {what} must be plain text")
        yield key, value


def _scalar(edits: Edits, node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _error(edits, node, f"{what} must be one text value")
    return str(node.value)


def _ids(edits: Edits, node, what: str) -> list[tuple[str, int]]:
    """A list of flex_ids (or a single one): [(id, line)]."""
    if isinstance(node, yaml.ScalarNode):
        return [(group_id(_scalar(edits, node, what)), node.start_mark.line + 1)]
    if not isinstance(node, yaml.SequenceNode):
        raise _error(edits, node, f"{what} must be a list of flex_ids, e.g. [\"U1/trade/1300\"]")
    return [(group_id(_scalar(edits, item, f"an item of {what}")), item.start_mark.line + 1) for item in node.value]


def _group(edits: Edits, key, node) -> GroupEdit:
    edit = GroupEdit(key.start_mark.line + 1)
    for field_key, value in _mapping(edits, node, f"group {key.value}"):
        name = field_key.value
        if name in ("name", "kind"):
            setattr(edit, name, _scalar(edits, value, name))
        elif name == "merge":
            edit.merge = _ids(edits, value, "merge")
        else:
            raise _error(edits, field_key, f"unknown group key {name!r}; one of {', '.join(GROUP_KEYS)}")
    return edit


def apply_edits(groups: dict[str, Group], edits: Edits) -> tuple[dict[str, Group], list[Member]]:
    """The groups after the edits (in place, as far as possible), and the members `ignore` took out. Warnings go
    to `edits.warnings`."""
    groups = dict(groups)
    where = {m.flex_id: gid for gid, g in groups.items() for m in g.members}
    warn = lambda line, text: edits.warnings.append(EditWarning(edits.filename, line, text))  # noqa: E731
    ignored = []
    for flex_id, line in edits.ignore:
        gid = where.pop(flex_id, None)
        if gid is None:
            warn(line, f"ignore: no event {flex_id!r} in any group")
            continue
        ignored.extend(_take(groups[gid], {flex_id}))
    for flex_id, line in sorted(edits.split, key=lambda item: _position(groups, where, item[0])):
        _split(groups, where, flex_id, line, warn)
    resolve = lambda key: key if key in groups else where.get(key)  # noqa: E731 - see _resolve's doc
    for key, edit in edits.groups.items():
        for other_key, line in edit.merge:
            gid, other = resolve(key), resolve(other_key)
            if gid is None or other is None or other == gid:
                warn(line, f"merge: no group {other_key!r}" if other is None else
                     f"merge: no group {key!r} to merge into" if gid is None else "merge: a group into itself")
                continue
            moved = groups.pop(other)
            _receive(groups[gid], moved.members, f"merged from strategy:{other}")
            groups[gid].chain = sorted(groups[gid].chain + moved.chain, key=lambda c: c["date"])
            where.update({m.flex_id: gid for m in moved.members})
    for flex_id, target_key, line in edits.move:
        source, target = where.get(flex_id), resolve(target_key)
        if source is None or target is None:
            warn(line, f"move: no event {flex_id!r} in any group" if source is None else
                 f"move: no group {target_key!r}")
            continue
        _receive(groups[target], _take(groups[source], {flex_id}), "moved here by hand")
        where[flex_id] = target
    for key, edit in edits.groups.items():
        gid = resolve(key)
        if gid is None:
            warn(edit.lineno, f"groups: no group {key!r} (ids are shown by `beanflex report strategies`)")
            continue
        groups[gid].name = edit.name or groups[gid].name
        groups[gid].kind_set = edit.kind or groups[gid].kind_set
    return {gid: g for gid, g in groups.items() if g.members}, ignored


def _position(groups, where, flex_id):
    gid = where.get(flex_id)
    member = next((m for m in groups[gid].members if m.flex_id == flex_id), None) if gid else None
    return (member.date, member.when, flex_id) if member else (None, "", flex_id)


def _take(group: Group, flex_ids: set[str]) -> list[Member]:
    taken = [m for m in group.members if m.flex_id in flex_ids]
    group.members = [m for m in group.members if m.flex_id not in flex_ids]
    return taken


def _receive(group: Group, members: list[Member], rule: str) -> None:
    """Members join `group`; each keeps what detection said next to the edit that moved it."""
    for member in members:
        member.rule = f"{rule} (detected: {member.rule})"
    group.members = sorted(group.members + members, key=lambda m: (m.date, m.when, m.flex_id))


def _split(groups, where, flex_id: str, line: int, warn) -> None:
    """A new group with id `flex_id`, from that event on (its group keeps what came before)."""
    gid = where.get(flex_id)
    if gid is None:
        warn(line, f"split: no event {flex_id!r} in any group")
        return
    group = groups[gid]
    index = next(i for i, m in enumerate(group.members) if m.flex_id == flex_id)
    if index == 0:
        warn(line, f"split: {flex_id!r} already starts group strategy:{gid}")
        return
    new = Group(flex_id, group.account, group.underlying, group.underlying_symbol)
    new.members = group.members[index:]
    group.members = group.members[:index]
    for member in new.members:
        where[member.flex_id] = flex_id
    new.members[0].rule, new.members[0].link = "split by hand: a new group starts here", None
    ids = {m.flex_id for m in new.members}
    new.chain = [c for c in group.chain if set(c["opened"] + c["closed"]) & ids]
    group.chain = [c for c in group.chain if not set(c["opened"] + c["closed"]) <= ids]
    first = new.members[0]
    new.opened = [ShapeLeg(f.right, f.strike, f.expiry, e.quantity, f.category) for m in new.members
                  if (m.date, m.when) == (first.date, first.when) for e, f in m.events if e.legs]
    groups[flex_id] = new
