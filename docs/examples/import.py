#!/usr/bin/env python3
"""beangulp import script for IBKR Flex statements: `python import.py extract statement.xml -e ledger/main.beancount`."""
import beangulp
from beanflex.importers.flex.importer import FlexImporter

if __name__ == "__main__":
    beangulp.Ingest([FlexImporter()])()
