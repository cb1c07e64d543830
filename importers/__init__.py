"""Flex XML in, Beancount directives out. Never imports engine/, plugins/ or reports/: the ledger is the contract
(plus the small shared module beanflex.contract)."""
