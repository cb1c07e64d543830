"""Reading the user's own text files (labels.yaml, notes/*.md) as UTF-8, with a message that finds a bad byte.

An editor that saved Latin-1 (`é` as the single byte 0xE9) makes Python's decode fail with a traceback; the
user needs the file, the byte and where it is. E.g. b"a: 1\\nname: Caf\\xe9\\n" -> "labels.yaml: not UTF-8 text:
byte 0xE9 at byte position 14 (line 2, column 10); save the file as UTF-8".
"""

from __future__ import annotations

from pathlib import Path


class NotUtf8Error(ValueError):
    """A user file that is not UTF-8; `line` (1-based) and `position` (0-based byte offset) locate the bad byte."""

    def __init__(self, path: Path | str, data: bytes, exc: UnicodeDecodeError):
        self.path = str(path)
        self.position = exc.start
        before = data[:exc.start]
        self.line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        self.message = (f"not UTF-8 text: byte 0x{data[exc.start]:02X} at byte position {exc.start} "
                        f"(line {self.line}, column {column}); save the file as UTF-8")
        super().__init__(f"{self.path}: {self.message}")


def read_utf8(path: Path | str) -> str:
    """The file's text; raises NotUtf8Error naming the first byte that is not UTF-8 (OSError as usual)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(path, data, exc) from None
