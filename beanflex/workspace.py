"""Where things live: the ledger root file and the folders DESIGN §2 places around it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LEDGER = Path("ledger") / "main.beancount"


@dataclass(frozen=True)
class Workspace:
    """Paths derived from the ledger's root file, e.g. `/home/me/money/ledger/main.beancount`.

    The repo root (where `labels.yaml` and `notes/` live) is the folder that holds `ledger/`.
    """

    main_file: Path
    verbose: bool = False
    quiet: bool = False
    strict: bool = False  # global --strict: a ledger with Beancount errors exits 3 (ledger_load.py)
    #: progress.Progress on a terminal (import, rebuild, sync set it), else None: ingest reports its phases to it
    progress: object = field(default=None, compare=False, repr=False)

    @classmethod
    def from_option(cls, ledger: str | None, verbose: bool = False, quiet: bool = False,
                    strict: bool = False) -> "Workspace":
        path = ledger or os.environ.get("BEANFLEX_LEDGER") or str(DEFAULT_LEDGER)
        return cls(Path(path).absolute(), verbose, quiet, strict)

    @property
    def ledger_dir(self) -> Path:
        return self.main_file.parent

    @property
    def raw_dir(self) -> Path:
        return self.ledger_dir / "raw"

    @property
    def generated_dir(self) -> Path:
        return self.ledger_dir / "generated"

    @property
    def manual_file(self) -> Path:
        return self.ledger_dir / "manual.beancount"

    @property
    def runs_log(self) -> Path:
        return self.ledger_dir / "runs.log"

    @property
    def lock_file(self) -> Path:
        return self.ledger_dir / ".beanflex.lock"

    @property
    def root_dir(self) -> Path:
        return self.ledger_dir.parent

    @property
    def labels_file(self) -> Path:
        return self.root_dir / "labels.yaml"

    @property
    def notes_dir(self) -> Path:
        return self.root_dir / "notes"
