"""Flex XML in, Beancount directives out. Never imports beanflex.plugins: the ledger is the contract."""
