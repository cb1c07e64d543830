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

from decimal import Decimal

from beancount.core import data

from beanflex.contract.gcpause import paused_gc
from beanflex.engine.labels import instruments_from_entries, labels_path, tag_for, watch
from beanflex.engine.labels_config import assign, error_at, load_labels

__plugins__ = ("labels",)


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
