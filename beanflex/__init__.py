"""beanflex: IBKR Flex statements into a Beancount ledger that reconciles with IBKR's own P&L."""

__version__ = "0.1.0"
