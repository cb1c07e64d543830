"""IBKR Flex Query statements: fetch, archive, parse, map."""
