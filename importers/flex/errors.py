"""Exceptions raised at the edges of the importer: fetching, archiving and parsing Flex statements.

Every error names where the problem is (file, section, line, attribute) and what to do about it, because the
person reading it is usually a cron mail recipient who has only this one message to go on.
"""

from __future__ import annotations


class FlexError(Exception):
    """Base class: a problem with a Flex statement or the Flex Web Service; the CLI maps it to exit 1."""

    def __init__(self, message: str, *, file: str | None = None, section: str | None = None,
                 line: int | None = None, attribute: str | None = None, hint: str | None = None):
        self.message = message
        self.file = file
        self.section = section
        self.line = line
        self.attribute = attribute
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"{self.file}" + (f":{self.line}" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        if self.section:
            where.append(f"section {self.section}")
        if self.attribute:
            where.append(f"attribute {self.attribute}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class FlexParseError(FlexError):
    """The bytes are not a usable Flex statement: empty, not XML, truncated, unsafe, or another document."""


class SchemaDriftError(FlexError):
    """A section or attribute the mapper needs is missing; the import stops before anything is written."""


class FlexServiceError(FlexError):
    """The Flex Web Service refused or failed; carries IBKR's error code when there is one."""

    def __init__(self, message: str, *, code: str | None = None, **kwargs):
        self.code = code
        super().__init__(message, **kwargs)


class LedgerLockedError(FlexError):
    """Another beanflex run holds the ledger lock."""
