"""Edit labels.yaml as a person would: change one line (or add one), leave every other byte alone.

labels.yaml is the user's file (DESIGN §6b): comments, order, quoting and flow or block lists must survive an edit
made from the browser. So edits are line edits, not a load-and-dump: adding AAPL to `members: [MSFT]  # core`
rewrites that one line to `members: [MSFT, AAPL]  # core`; adding it to a block list inserts `    - AAPL` after the
last item. Every edit is then checked by loading both texts: the new one must equal the old one plus exactly the
intended change, else EditRefused says to edit the file by hand (a layout this editor does not know is never
guessed at).
"""

from __future__ import annotations

import copy
import json
import re

import yaml

_PLAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._/&+-]*[A-Za-z0-9._-])?$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&/+-]{0,47}$")


class EditRefused(Exception):
    """The edit cannot be made safely; the message says why and what to do."""


def scalar(text: str) -> str:
    """A YAML scalar for `text`: plain when that reads back the same (`AAPL`), else double-quoted (`"conid:1"`)."""
    if _PLAIN.match(text) and "  " not in text and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _load(text: str) -> dict:
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise EditRefused(f"labels.yaml does not parse ({exc}); fix it by hand first") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict) or not isinstance(loaded.get("labels") or {}, dict):
        raise EditRefused("labels.yaml has no `labels:` mapping at the top; fix it by hand first")
    return loaded


def _verified(old: dict, new_text: str, change) -> str:
    expected = copy.deepcopy(old)
    expected.setdefault("labels", {})
    if expected["labels"] is None:
        expected["labels"] = {}
    change(expected["labels"])
    if _load(new_text) != expected:
        raise EditRefused("labels.yaml is laid out in a way this editor does not change safely; edit it by hand")
    return new_text


def _label_block(lines: list[str], label: str) -> tuple[int, int, int]:
    """(line of `Label:`, end of its block (exclusive), its indent) inside the top-level `labels:` mapping."""
    top = next((i for i, line in enumerate(lines) if re.match(r"^labels\s*:\s*(#.*)?$", line)), None)
    if top is None:
        raise EditRefused("labels.yaml has no block `labels:` line; edit it by hand")
    for i in range(top + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line.startswith((" ", "#")):
            break
        match = re.match(r"^(\s+)(.+?)\s*:(\s*(#.*)?)?$", line)
        if match and _key(match.group(2)) == label:
            indent = len(match.group(1))
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            return i, end, indent
    raise EditRefused(f"no label {label!r} in labels.yaml")


def _key(text: str) -> str:
    try:
        return str(yaml.safe_load(text))
    except yaml.YAMLError:
        return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _list_add(lines: list[str], start: int, end: int, indent: int, key: str, item: str) -> None:
    """Add `item` to the list under `key:` in the block lines[start+1:end], or add the key with `[item]`."""
    for i in range(start + 1, end):
        match = re.match(rf"^(\s+){key}\s*:\s*(.*)$", lines[i])
        if not match or _indent(lines[i]) <= indent:
            continue
        rest = match.group(2)
        flow = re.match(r"^\[(.*)\](\s*#.*)?$", rest)
        if flow:
            inner = flow.group(1).strip()
            lines[i] = f"{match.group(1)}{key}: [{inner + ', ' if inner else ''}{item}]{flow.group(2) or ''}"
            return
        if rest and not rest.startswith("#"):
            raise EditRefused(f"`{key}:` of this label is not a list; edit labels.yaml by hand")
        last = i
        for j in range(i + 1, end):
            if lines[j].strip().startswith("- "):
                last = j
            elif lines[j].strip() and not lines[j].strip().startswith("#") and _indent(lines[j]) <= _indent(lines[i]):
                break
        dash = _indent(lines[last]) if last != i else _indent(lines[i]) + 2
        lines.insert(last + 1, " " * dash + f"- {item}")
        return
    keys = [_indent(lines[i]) for i in range(start + 1, end) if lines[i].strip() and not lines[i].strip().startswith("#")]
    lines.insert(end, " " * (min(keys) if keys else indent + 2) + f"{key}: [{item}]")


def add_member(text: str, label: str, member: str, key: str = "members") -> str:
    """`text` with `member` added to the label's `members` (or `exclude`); unchanged when already there."""
    old = _load(text)
    group = (old.get("labels") or {}).get(label)
    if label not in (old.get("labels") or {}):
        raise EditRefused(f"no label {label!r} in labels.yaml; create it first")
    present = (group or {}).get(key) or []
    if member in present or any(isinstance(m, dict) and m.get("member") == member for m in present):
        return text
    lines = text.split("\n")
    start, end, indent = _label_block(lines, label)
    _list_add(lines, start, end, indent, key, scalar(member))

    def change(labels):
        labels[label] = labels[label] or {}
        labels[label][key] = [*(labels[label].get(key) or []), member]
    return _verified(old, "\n".join(lines), change)


def _flow_items(inner: str) -> list[str]:
    """The items of a flow list's inside, split on top-level commas: `A, {member: B, weight: 0.5}` -> 2 items."""
    items, depth, quote, current = [], 0, "", ""
    for char in inner:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        items.append(current.strip())
    return items


def _is(item_text: str, members: set[str]) -> bool:
    value = _key(item_text) if not item_text.startswith("{") else yaml.safe_load(item_text)
    if isinstance(value, dict):
        value = value.get("member")
    return str(value) in members


def remove_members(text: str, label: str, members: set[str], key: str = "members") -> str:
    """`text` without the entries of the label's `members` that name any of `members` (symbol, `conid:…`)."""
    old = _load(text)
    group = ((old.get("labels") or {}).get(label)) or {}
    present = group.get(key) or []
    gone = [m for m in present if str(m.get("member") if isinstance(m, dict) else m) in members]
    if not gone:
        return text
    lines = text.split("\n")
    start, end, indent = _label_block(lines, label)
    for i in range(start + 1, end):
        match = re.match(rf"^(\s+){key}\s*:\s*\[(.*)\](\s*#.*)?$", lines[i])
        if match:
            kept = [item for item in _flow_items(match.group(2)) if not _is(item, members)]
            lines[i] = f"{match.group(1)}{key}: [{', '.join(kept)}]{match.group(3) or ''}"
            break
    else:
        for i in range(end - 1, start, -1):
            item = re.match(r"^\s+-\s+(.*?)(\s+#.*)?$", lines[i])
            if item and _is(item.group(1), members):
                del lines[i]

    def change(labels):
        labels[label][key] = [m for m in present if m not in gone]
    return _verified(old, "\n".join(lines), change)


def create_label(text: str, label: str, description: str = "") -> str:
    """`text` with a new empty label at the end of `labels:` (with its description when given)."""
    if not LABEL_NAME.match(label):
        raise EditRefused(f"{label!r} is not a label name: letters, digits, spaces and . _ & / + - (up to 48)")
    old = _load(text)
    if label in (old.get("labels") or {}):
        raise EditRefused(f"label {label!r} already exists")
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    top = next((i for i, line in enumerate(lines) if re.match(r"^labels\s*:\s*(#.*)?$", line)), None)
    new = [f"  {scalar(label)}:"] + ([f"    description: {scalar(description)}"] if description else [])
    if top is None:
        lines += ["labels:", *new]
    else:
        end = i = top + 1  # after the block's last indented line (a comment at column 0 stays where it is)
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "#"))):
            end = i + 1 if lines[i].startswith(" ") and lines[i].strip() else end
            i += 1
        lines[end:end] = new

    def change(labels):
        labels[label] = {"description": description} if description else None
    return _verified(old, "\n".join(lines) + "\n", change)
