"""A synthetic IBKR Flex statement generator for the benchmark and the tests (not part of the installed package)."""
