"""ICA-banken and Swedbank CSV statements (seed 004): every real export variant, detected and validated."""

from connectors.banks.messages import RowMessage
from connectors.banks.statement import Statement, read_statement
from connectors.banks.transaction import Transaction

__all__ = ["RowMessage", "Statement", "Transaction", "read_statement"]
