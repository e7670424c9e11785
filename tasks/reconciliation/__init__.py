"""Reconciliation: what the bank, the books and the remote systems say, compared."""
