"""Where labels meet the ledger: labels.yaml's path from the plugin line, a label's tag, the ledger's instruments.

The labels plugin (plugins/labels.py), `report labels` and the Fava pages all need these, so they live here once:
e.g. the label `Dividend Growth` is the tag `#Dividend-Growth`, and `plugin "beanflex.plugins.labels"
"../labels.yaml"` in `ledger/main.beancount` means `<repo>/labels.yaml`. labels_config.py reads the file itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from beancount.core import data

from .labels_config import Instrument, LabelsConfig

DEFAULT_CONFIG = "../labels.yaml"
_TAG_BAD = re.compile(r"[^A-Za-z0-9_/.-]+")


def tag_for(label: str) -> str:
    """The Beancount tag of a label: `Dividend Growth` -> `Dividend-Growth`; `Ü` -> `` (then an error)."""
    return _TAG_BAD.sub("-", label).strip("-")


def labels_path(options_map, config_str: str | None) -> Path:
    """labels.yaml's path: the plugin config, relative to the main file's folder (`ledger/../labels.yaml`)."""
    main = options_map.get("filename") or ""
    base = Path(main).parent if main and not main.startswith("<") else Path.cwd()
    return base / (config_str or "").strip() if (config_str or "").strip() else base / DEFAULT_CONFIG


def configured_path(options_map) -> Path | None:
    """labels.yaml as the loaded ledger's `plugin "beanflex.plugins.labels" "…"` line names it (None: no line)."""
    for name, config_str in options_map.get("plugin") or []:
        if name == "beanflex.plugins.labels":
            return labels_path(options_map, config_str)
    return None


def label_for_tag(config: LabelsConfig, tag: str) -> str | None:
    """The label whose tag is `tag` (`Dividend-Growth` -> "Dividend Growth"), for Fava's `#tag` filter."""
    return next((label.name for label in config.labels if tag_for(label.name) == tag.lstrip("#")), None)


def instruments_from_entries(entries) -> list[Instrument]:
    """Instruments: commodities with a `conid`, plus any commodity held at cost without a commodity directive."""
    found: dict[str, Instrument] = {}
    for entry in entries:
        if isinstance(entry, data.Commodity) and entry.meta.get("conid") is not None:
            meta = entry.meta
            found[entry.currency] = Instrument(entry.currency, str(meta["conid"]), _text(meta.get("isin")),
                                               _text(meta.get("name")), _text(meta.get("asset_category")))
    for entry in data.filter_txns(entries):
        for posting in entry.postings:
            if posting.cost is not None and posting.units.currency not in found:
                found[posting.units.currency] = Instrument(posting.units.currency)
    return sorted(found.values(), key=lambda inst: inst.symbol)


def _text(value) -> str | None:
    return None if value is None else str(value)


def watch(options_map, path: Path) -> None:
    """Add an existing file (or folder) to the ledger's `include` list, so a change to it reloads the ledger.

    Beancount's pickle cache and Fava's file watcher both decide "has the ledger changed?" from the mtimes of
    `options_map["include"]`; without this, editing labels.yaml would leave a cached ledger with the old labels.
    A missing path is not added (Fava's polling watcher would then reload on every check).
    """
    include = options_map.get("include")
    main = options_map.get("filename") or ""
    if include is None or main.startswith("<") or not path.exists():
        return
    name = os.path.normpath(os.path.abspath(path))
    if name not in include:
        include.append(name)
