"""Beancount plugins and reports over the loaded ledger. Never imports beanflex.importers."""
