"""A plugin that puts the user's labels (labels.yaml) on instruments: commodity metadata and transaction tags.

    plugin "beanflex.plugins.labels" "../labels.yaml"

The config is the path of labels.yaml, relative to the folder of the ledger's main file, written exactly as
`beanflex init` writes it: main.beancount sits in `ledger/`, labels.yaml in the repo root, hence
`../labels.yaml`. An absolute path works too; no config means `../labels.yaml`.

What it adds (membership is per instrument, i.e. per conid, over the whole history):
  - on the commodity: `labels: "Software,Dividend"` (label names, labels.yaml order) and, when a weight is not 1,
    `label_weights: "Dividend=0.25"` (missing labels weigh 1);
  - on every transaction of the instrument (its `conid` metadata, or a posting in its commodity): one tag per
    label, e.g. `#Software`, so Fava's tag filter and bean-query (`WHERE 'Software' IN tags`) work.

A tag may hold only `A-Z a-z 0-9 - _ / .` (Beancount's lexer), so every other character of a label name becomes
`-` ("Dividend Growth" -> `#Dividend-Growth`, "Europe (ex UK)" -> `#Europe-ex-UK`). Two labels that give the
same tag are an error. Every problem in labels.yaml is a Beancount error at labels.yaml's file and line; the
labels that are valid are still applied and the ledger still loads.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

from beancount.core import data

from .gcpause import paused_gc
from .labels_config import Instrument, LabelsConfig, assign, error_at, load_labels

__plugins__ = ("labels",)

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


@paused_gc()
def labels(entries, options_map, config_str=None):
    """Tag every transaction of a labelled instrument and list the labels on its commodity."""
    path = labels_path(options_map, config_str)
    watch(options_map, path)
    config, errors = load_labels(path)
    instruments = instruments_from_entries(entries)
    membership, match_errors = assign(config, instruments)
    errors.extend(match_errors)
    tags: dict[str, str] = {}
    for label in config.labels:
        tag = tag_for(label.name)
        if not tag:
            errors.append(error_at(config.filename, label.lineno, f"label '{label.name}' has no character usable "
                                                                "in a Beancount tag (A-Z a-z 0-9 - _ / .)"))
        elif tag in tags:
            errors.append(error_at(config.filename, label.lineno, f"label '{label.name}' gives the tag #{tag}, "
                                                                f"like label '{tags[tag]}'; rename one"))
        else:
            tags[tag] = label.name
    tag_of = {name: tag for tag, name in tags.items()}
    by_symbol: dict[str, dict[str, Decimal]] = {}
    by_conid: dict[str, frozenset[str]] = {}
    for inst in instruments:
        weights = membership.get(inst.key)
        if weights:
            by_symbol[inst.symbol] = weights
            if inst.conid:
                by_conid[inst.conid] = frozenset(tag_of[n] for n in weights if n in tag_of)
    symbol_tags = {sym: frozenset(tag_of[n] for n in w if n in tag_of) for sym, w in by_symbol.items()}
    out = []
    for entry in entries:
        if isinstance(entry, data.Commodity) and entry.currency in by_symbol:
            entry = entry._replace(meta=_commodity_meta(entry.meta, by_symbol[entry.currency]))
        elif isinstance(entry, data.Transaction):
            add = set(by_conid.get(str(entry.meta.get("conid")), ()))
            for posting in entry.postings:
                add |= symbol_tags.get(posting.units.currency, frozenset())
            if add:
                entry = entry._replace(tags=frozenset(entry.tags or ()) | add)
        out.append(entry)
    return out, errors


def _commodity_meta(meta: dict, weights: dict[str, Decimal]) -> dict:
    """`labels: "Software,Dividend"` plus `label_weights: "Dividend=0.25"` for weights other than 1."""
    new = {**meta, "labels": ",".join(weights)}
    weighted = [f"{name}={weight}" for name, weight in weights.items() if weight != 1]
    if weighted:
        new["label_weights"] = ",".join(weighted)
    return new
