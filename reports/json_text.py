"""`--format json` text: exactly json.dumps(report, indent=2, ensure_ascii=False), built faster.

With `indent` the standard library encodes in pure Python through a chain of generators, and on the large
reports (report strategies on 100k trades writes ~150 MB) that took as long as the report itself. This walks the
same values appending strings to one list, with the C string escaper json uses; anything it does not know (a
type json would pass to `default`) falls back to json.dumps, so the text and the errors stay json's. E.g.
{"a": [1, "x"], "b": {}} gives the lines `{`, `  "a": [`, `    1,`, `    "x"`, `  ],`, `  "b": {}`, `}`.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring

_CONSTANTS = {True: "true", False: "false", None: "null"}


class _Unsupported(Exception):
    """A value json.dumps handles its own way (or rejects): let it."""


def dumps(report) -> str:
    parts: list[str] = []
    try:
        _value(report, parts, "\n")
    except _Unsupported:
        return json.dumps(report, indent=2, ensure_ascii=False)
    return "".join(parts)


def _value(value, parts: list[str], newline: str) -> None:
    """Append `value` at the indentation `newline` ends with (json's order of checks: str, constants, int,
    float, list/tuple, dict)."""
    if isinstance(value, str):
        parts.append(encode_basestring(value))
    elif value is None or value is True or value is False:
        parts.append(_CONSTANTS[value])
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        parts.append("[" + inner)
        for i, item in enumerate(value):
            if i:
                parts.append("," + inner)
            if type(item) is str:  # the common case, without a call
                parts.append(encode_basestring(item))
            else:
                _value(item, parts, inner)
        parts.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        parts.append("{" + inner)
        for i, (key, item) in enumerate(value.items()):
            head = ("," + inner if i else "") + (encode_basestring(key) if type(key) is str else _key(key)) + ": "
            if type(item) is str:  # most values of a report are decimal strings
                parts.append(head + encode_basestring(item))
            else:
                parts.append(head)
                _value(item, parts, inner)
        parts.append(newline + "}")
    else:
        raise _Unsupported


def _key(key) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if key is None or key is True or key is False:
        return encode_basestring(_CONSTANTS[key])
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    if isinstance(key, float):
        return encode_basestring(_float(key))
    raise _Unsupported


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise _Unsupported  # NaN, Infinity: json's spelling (or its error with allow_nan=False)
    return float.__repr__(value)
