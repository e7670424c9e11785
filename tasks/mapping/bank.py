"""Bank statement rows to canonical bank transactions, with the identity that makes duplicates visible.

Seed 004 §5.3: a transaction is a duplicate of one already stored for the same account when
date, amount, description (case-insensitive) and direction agree. Two coffees bought on one
day are two real transactions with that same key, so the key alone cannot be the identity:
the n-th row with a key in a file is the n-th transaction with that key. Its id is the key
plus n, so re-importing a file, or a later export that overlaps it, finds the same ids for
what is already stored and new ids only for what is new.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from connectors.banks import Statement, Transaction
from models.payments import BankTransaction


@dataclass(frozen=True)
class Keyed:
    """A statement row as a canonical record, with the id the duplicate rule gives it."""

    external_id: str
    transaction: BankTransaction
    row: int


def duplicate_key(account: str, row: Transaction) -> str:
    description = hashlib.sha256(row.description.strip().casefold().encode()).hexdigest()[:16]
    direction = "in" if row.amount > 0 else "out"
    return f"{account}/{row.booking_date.isoformat()}/{row.amount}/{direction}/{description}"


def canonical_transactions(statement: Statement, account: str, chunk_size: int) -> Iterator[list[Keyed]]:
    """The statement's booked rows as canonical records keyed by the duplicate rule, `chunk_size`
    at a time: a canonical record takes about a kilobyte, so a large file is better gated and
    stored a chunk at a time than made into records all at once. (The caller pauses the cyclic
    GC for the whole file: ``models.store.gc_paused``.)"""
    seen: Counter[str] = Counter()
    # Pending amounts are left out: the bank books them later under another text and date.
    booked = [row for row in statement.transactions if row.status == "booked"]
    for start in range(0, len(booked), chunk_size):
        yield _keyed(statement, account, booked[start : start + chunk_size], seen)


def _keyed(statement: Statement, account: str, rows: list[Transaction], seen: Counter[str]) -> list[Keyed]:
    keyed = []
    for row in rows:
        key = duplicate_key(account, row)
        external_id = f"{key}/{seen[key]}"
        seen[key] += 1
        keyed.append(Keyed(external_id, BankTransaction(
            account=account, booking_date=row.booking_date, transaction_date=row.transaction_date,
            value_date=row.value_date, amount=row.amount, currency=row.currency, description=row.description,
            counterparty=row.counterparty, reference=row.reference, balance=row.balance,
            bank=statement.bank or "other", status=row.status, source_file=statement.file_name, source_row=row.row,
        ), row.row))
    return keyed


def as_distinct(keyed: Keyed, statement: Statement) -> Keyed:
    """The same row under an id of its own (``--allow-duplicates``): the file and its line are
    added, so the row is stored beside the transaction it duplicates, and still once per file."""
    return Keyed(f"{keyed.external_id}/{statement.sha256[:12]}:{keyed.row}", keyed.transaction, keyed.row)
