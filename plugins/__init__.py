"""Beancount plugins, one job each (labels, notes, pnl_meta, reconcile), each a few lines over engine/.

A ledger enables them with `plugin "beanflex.plugins.<name>"`. Never imports beanflex.importers."""
