"""Which of the loader's errors stop a nightly commit, and which are only reported.

Only the ledger's own integrity may block `sync` (and make `check` exit 1): syntax, booking and balance errors in
the generated or hand-edited ledger files. Two kinds never do:
- `ReconcileError`: our figures vs IBKR's (reported as reconciliation diffs; exit 3 under --strict);
- `LabelsError`, `NotesError`: a label for a symbol not held yet, a draft note, a labels.yaml typo. The numbers do
  not depend on them, so fetched data is still committed and they are listed as warnings (exit 3 under --strict).
"""

from __future__ import annotations

DIFF = "ReconcileError"
#: Problems in the user's labels.yaml and notes/: shown as warnings in the commit message, `check` and Fava.
WARNINGS = frozenset({"LabelsError", "NotesError"})


def kind(error) -> str:
    """"diff", "warning" or "error" for one loader error, e.g. a LabelsError -> "warning"."""
    name = type(error).__name__
    if name == DIFF:
        return "diff"
    return "warning" if name in WARNINGS else "error"
