"""Helpers of scripts/bench: core (processes, rows) and sync (the nightly sync step, P6)."""
