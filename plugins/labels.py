"""A plugin that puts the user's labels (labels.yaml) on instruments: commodity metadata and transaction tags.

`plugin "beanflex.plugins.labels" "../labels.yaml"` -- the config is the path of labels.yaml relative to the
folder of the ledger's main file (ledger/main.beancount -> ../labels.yaml is the repo root). Minimal version:
symbols and conids only; the full rule set lands next.
"""

from __future__ import annotations

import collections
from pathlib import Path

import yaml
from beancount.core import data

__plugins__ = ("labels",)

LabelsError = collections.namedtuple("LabelsError", "source message entry")


def labels(entries, options_map, config_str=None):
    """Tag every transaction of a labelled instrument and list the labels on its commodity."""
    path = Path(options_map.get("filename") or ".").parent / (config_str or "../labels.yaml")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return entries, [LabelsError({"filename": str(path), "lineno": 0}, f"Cannot read labels: {exc}", None)]
    by_key: dict[str, list[str]] = collections.defaultdict(list)
    for name, spec in (doc.get("labels") or {}).items():
        for member in (spec or {}).get("members") or []:
            by_key[str(member)].append(str(name))
    conid_labels: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, data.Commodity):
            found = by_key.get(entry.currency, []) + by_key.get(f"conid:{entry.meta.get('conid')}", [])
            if found:
                conid_labels[entry.currency] = sorted(set(found))
    out = []
    for entry in entries:
        if isinstance(entry, data.Commodity) and entry.currency in conid_labels:
            entry = entry._replace(meta={**entry.meta, "labels": ",".join(conid_labels[entry.currency])})
        elif isinstance(entry, data.Transaction):
            tags = {t for p in entry.postings for t in conid_labels.get(p.units.currency, [])}
            if tags:
                entry = entry._replace(tags=frozenset(entry.tags or ()) | tags)
        out.append(entry)
    return out, []
