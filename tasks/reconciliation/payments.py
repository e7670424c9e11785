"""Payment matching (issue #5): which invoice each bank transaction pays, and what is left over.

Money into the account is matched to our customer invoices, money out to supplier invoices,
in steps, each only for what the one before left:

1. **OCR.** Every number in a transaction's reference and text (banks put the OCR in either,
   often inside text: ``BG 5051-6905 OCR 10000180``) that is exactly an invoice's OCR. Swedish
   OCR numbers end in a Luhn check digit, which is what makes this safe without checking the
   number again here: a mistyped OCR (any one wrong digit, nearly any swap of two neighbours)
   is no valid OCR, so it equals none of the invoices' and falls to step 2. One invoice found:
   matched whatever the amount, so that a partial or an over-payment shows as one. Exactly two
   invoices whose amounts due add up to the transfer: a combined payment, one match for each.
   Anything else names invoices the amount does not fit, and is left to a person.
2. **Amount and date.** A transaction without an OCR hit is matched to an open invoice (one
   no OCR payment was found for) of exactly its amount and currency, booked between the invoice date and `WINDOW_AFTER_DUE`
   past the due date, but only if that invoice is its only candidate and it is that invoice's
   only candidate. Two open invoices of one amount stay unmatched: a wrong match is worse
   than none, since it marks the other invoice unpaid and the customer gets a reminder.
3. What is left is listed: the transactions with the reason, and the open invoices that no
   transaction in the period paid.

Each match carries what was still due on the invoice before that payment (several payments of
one invoice are taken in booking order) and the difference, so partial and over-payments
show their amounts. The amount due is the invoice's as stored: an invoice the accounting
system already marks paid has nothing due, and a payment found for it by OCR is shown as an
over-payment (a double payment is one).

The store is read with one query per table and matched on whole columns (pandas). Invoices and
transactions are numbered by their row in the frames read, in the order the report shows them,
and amounts are integer öre: the joins and sorts are then on integers, not on UUID strings,
Decimal or date objects, which is most of what keeps 100,000 of each to about two seconds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from models.store import gc_paused
from models.tables import ENTITIES

Direction = Literal["incoming", "outgoing"]
Method = Literal["ocr", "ocr_combined", "amount_date"]
Status = Literal["exact", "partial", "overpaid"]
Reason = Literal["several_references", "ambiguous_amount", "no_candidate"]
OpenReason = Literal["no_payment", "ambiguous_payment"]

WINDOW_AFTER_DUE = dt.timedelta(days=30)  # a late payment is still matched by amount this long after the due date
# A run of 2-25 digits (Bankgirot's OCR lengths) that is not part of a Bankgiro number, a date
# or an amount: no hyphen, slash or digit on either side, no decimal separator between digits.
_OCR_CANDIDATE = re.compile(r"(?<![\d/-])(?<!\d[.,])\d{2,25}(?![\d/-]|[.,]\d)")
_CLOSED = ("draft", "cancelled", "voided")  # customer invoices nobody can owe anything on

# The report's vocabulary (tasks/reconciliation/report.py): rows are keyed by these English names,
# which are also the CSV headings; each has its Swedish / English heading and how it is shown.
COLUMNS: dict[str, tuple[str, str]] = {
    "booking_date": ("Bokföringsdag / Booking date", "date"),
    "direction": ("Riktning / Direction", "code"),
    "invoice_number": ("Faktura / Invoice", "text"),
    "party": ("Kund eller leverantör / Customer or supplier", "text"),
    "method": ("Metod / Method", "code"),
    "amount": ("Belopp / Amount", "amount"),
    "amount_due": ("Att betala / Amount due", "amount"),
    "difference": ("Differens / Difference", "amount"),
    "status": ("Status / Status", "code"),
    "currency": ("Valuta / Currency", "text"),
    "description": ("Text / Description", "text"),
    "reference": ("Referens / Reference", "text"),
    "counterparty": ("Motpart / Counterparty", "text"),
    "reason": ("Orsak / Reason", "code"),
    "invoice_date": ("Fakturadatum / Invoice date", "date"),
    "due_date": ("Förfallodag / Due date", "date"),
    "ocr": ("OCR / OCR", "text"),
    "transaction_id": ("Transaktion-id / Transaction id", "text"),
    "invoice_id": ("Faktura-id / Invoice id", "text"),
}
CODES: dict[str, str] = {
    "incoming": "Inbetalning / Incoming",
    "outgoing": "Utbetalning / Outgoing",
    "ocr": "OCR-nummer / OCR reference",
    "ocr_combined": "Flera OCR-nummer, samlad betalning / Several OCR references, one payment",
    "amount_date": "Belopp och datum / Amount and date",
    "exact": "Exakt / Exact",
    "partial": "Delbetalning / Partial payment",
    "overpaid": "Överbetalning / Overpayment",
    "several_references": "Flera referenser, beloppet stämmer inte / Several references, amount does not fit",
    "ambiguous_amount": "Flera möjliga fakturor / Several possible invoices",
    "no_candidate": "Ingen faktura hittad / No invoice found",
    "no_payment": "Ingen betalning / No payment",
    "ambiguous_payment": "Möjlig betalning, ej entydig / Possible payment, ambiguous",
}


@dataclass(frozen=True, slots=True)
class Match:
    """One invoice a transaction pays (a combined payment gives one per invoice)."""

    booking_date: dt.date
    direction: Direction
    invoice_number: str
    party: str
    method: Method
    amount: Decimal  # the part of the transaction that went to this invoice
    amount_due: Decimal  # what was still due on the invoice before this payment
    difference: Decimal  # amount - amount_due: below zero a partial payment, above an over-payment
    status: Status
    transaction_id: str
    invoice_id: str


@dataclass(frozen=True, slots=True)
class UnmatchedTransaction:
    """A transaction no invoice was found for, and why."""

    booking_date: dt.date
    amount: Decimal  # signed, as the bank shows it
    currency: str
    description: str
    reference: str | None
    counterparty: str | None
    reason: Reason
    transaction_id: str


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice with something due that no transaction of the period paid."""

    direction: Direction
    invoice_number: str
    party: str
    invoice_date: dt.date
    due_date: dt.date
    amount_due: Decimal
    currency: str
    ocr: str | None
    reason: OpenReason
    invoice_id: str


R = TypeVar("R", Match, UnmatchedTransaction, OpenInvoice)


@dataclass(frozen=True)
class Section(Generic[R]):
    """One table of the result, as the report writes it: ``<key>.csv`` and a table under `title`."""

    key: str
    title: str
    record: type[R]
    items: tuple[R, ...]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    @property
    def columns(self) -> tuple[str, ...]:
        """The row keys in the order shown: the record's fields (all of them are in `COLUMNS`)."""
        return tuple(f.name for f in fields(self.record))

    def as_rows(self) -> list[dict[str, Any]]:
        """One dict per record, keyed by `columns`, values as they are (Decimal, date, code)."""
        names = self.columns
        return [{name: getattr(item, name) for name in names} for item in self.items]


@dataclass(frozen=True)
class PaymentMatching:
    """The matches, the transactions left unmatched and the open invoices nobody paid."""

    matches: Section[Match]
    unmatched: Section[UnmatchedTransaction]
    open_invoices: Section[OpenInvoice]

    def sections(self) -> tuple[Section[Any], ...]:
        return self.matches, self.unmatched, self.open_invoices


@gc_paused()
def match_payments(
    connection: sa.Connection, tenant_id: str, period: tuple[dt.date, dt.date] | None = None
) -> PaymentMatching:
    """Match the tenant's booked transactions of `period` (booking dates, both ends included; all
    when None) to the invoices issued by its end."""
    invoices = _invoices(connection, tenant_id, period[1] if period else None)
    transactions = _transactions(connection, tenant_id, period)
    hits = _ocr_hits(transactions, invoices)
    by_ocr, several = _resolve_ocr(hits, transactions, invoices)
    remaining = transactions.drop(index=hits["t"].unique())
    payable = invoices[invoices["due"] > 0].drop(index=by_ocr["i"].unique(), errors="ignore")
    by_amount, undecided_transactions, undecided_invoices = _match_amount_date(remaining, payable)
    matches = pd.concat([by_ocr, by_amount], ignore_index=True)
    reasons = np.full(len(transactions), "no_candidate", dtype=object)
    reasons[list(undecided_transactions)] = "ambiguous_amount"
    reasons[list(several)] = "several_references"
    unmatched = transactions.assign(reason=reasons).drop(index=matches["t"].unique())
    unpaid = invoices[invoices["due"] > 0].drop(index=matches["i"].unique(), errors="ignore")
    open_reasons = np.where(unpaid.index.isin(list(undecided_invoices)), "ambiguous_payment", "no_payment")
    return PaymentMatching(
        Section("payment_matches", "Matchade betalningar / Matched payments", Match,
                _matches(matches, transactions, invoices)),
        Section("unmatched_transactions", "Omatchade transaktioner / Unmatched transactions", UnmatchedTransaction,
                _unmatched(unmatched)),
        Section("open_invoices", "Obetalda fakturor / Open invoices", OpenInvoice,
                _open(unpaid.assign(reason=open_reasons))),
    )


def _ore(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """An amount as whole öre, computed by the database (exact for NUMERIC(18, 2) on both)."""
    return sa.cast(sa.func.round(column * 100), sa.BigInteger)


def _frame(connection: sa.Connection, query: sa.Select[Any]) -> pd.DataFrame:
    """The rows as Python objects, column by column (a missing text stays None, as stored, not NaN);
    the index numbers the rows in the query's order."""
    result = connection.execute(query)
    names = list(result.keys())
    columns = list(zip(*result.all(), strict=True)) or [()] * len(names)
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(names, columns, strict=True)})


def _invoices(connection: sa.Connection, tenant_id: str, end: dt.date | None) -> pd.DataFrame:
    """Customer invoices (money in), then supplier invoices (money out), each by due date; `due` in öre."""
    customer, supplier = ENTITIES["invoice"].table, ENTITIES["supplier_invoice"].table
    queries = [
        sa.select(customer.c.id.label("invoice_id"), sa.literal("incoming").label("direction"),
                  customer.c.invoice_number, customer.c.customer_name.label("party"), customer.c.invoice_date,
                  customer.c.due_date, customer.c.currency, _ore(customer.c.amount_due).label("due"), customer.c.ocr)
        .where(customer.c.tenant_id == tenant_id, customer.c.type == "invoice", customer.c.status.not_in(_CLOSED)),
        sa.select(supplier.c.id.label("invoice_id"), sa.literal("outgoing").label("direction"),
                  supplier.c.invoice_number, supplier.c.supplier_name.label("party"), supplier.c.invoice_date,
                  supplier.c.due_date, supplier.c.currency, _ore(supplier.c.total).label("due"), supplier.c.ocr)
        .where(supplier.c.tenant_id == tenant_id),
    ]
    if end is not None:
        queries = [query.where(query.selected_columns.invoice_date <= end) for query in queries]
    frames = [_frame(connection, query.order_by("due_date", "invoice_number", "invoice_id")) for query in queries]
    return pd.concat(frames, ignore_index=True).astype({"due": "int64"})


def _transactions(connection: sa.Connection, tenant_id: str, period: tuple[dt.date, dt.date] | None) -> pd.DataFrame:
    """Booked transactions that moved money, by booking date; `amount` in öre (signed), `paid` unsigned."""
    table = ENTITIES["bank_transaction"].table
    query = sa.select(
        table.c.id.label("transaction_id"), table.c.booking_date, _ore(table.c.amount).label("amount"),
        table.c.currency, table.c.description, table.c.reference, table.c.counterparty,
    ).where(table.c.tenant_id == tenant_id, table.c.status == "booked", table.c.amount != 0)
    if period is not None:
        query = query.where(table.c.booking_date.between(*period))
    frame = _frame(connection, query.order_by(table.c.booking_date, table.c.id)).astype({"amount": "int64"})
    frame["direction"] = np.where(frame["amount"] > 0, "incoming", "outgoing")
    frame["paid"] = frame["amount"].abs()
    return frame


def _ocr_hits(transactions: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """(t, i, ocr): transaction t names invoice i's OCR, i being of t's direction."""
    by_ocr: dict[tuple[str, str], list[int]] = {}
    for i, direction, ocr in zip(invoices.index, invoices["direction"], invoices["ocr"], strict=True):
        if ocr:
            by_ocr.setdefault((direction, ocr), []).append(i)
    texts = transactions["description"] + " " + transactions["reference"].fillna("")
    found = [
        (t, i, number)
        for t, direction, text in zip(transactions.index, transactions["direction"], texts, strict=True)
        for number in set(_OCR_CANDIDATE.findall(text))
        for i in by_ocr.get((direction, number), ())
    ]
    return pd.DataFrame(found, columns=["t", "i", "ocr"]).astype({"t": "int64", "i": "int64"})


def _resolve_ocr(
    hits: pd.DataFrame, transactions: pd.DataFrame, invoices: pd.DataFrame
) -> tuple[pd.DataFrame, set[int]]:
    """The OCR matches (t, i, method, amount) and the transactions whose OCRs do not fit the amount.
    One invoice takes the whole transfer; two take their amounts due if the transfer is their sum."""
    hits = hits.assign(paid=transactions["paid"].to_numpy()[hits["t"]], due=invoices["due"].to_numpy()[hits["i"]])
    per = hits.groupby("t")
    invoice_count = per["i"].transform("size")  # an OCR is one per invoice: rows are distinct (t, i)
    combined = (invoice_count == 2) & (per["ocr"].transform("nunique") == 2) & (
        per["due"].transform("sum") == hits["paid"]) & (per["due"].transform("min") > 0)
    single = invoice_count == 1
    matches = pd.concat([
        hits[single].assign(method="ocr", amount=lambda f: f["paid"]),
        hits[combined].assign(method="ocr_combined", amount=lambda f: f["due"]),
    ], ignore_index=True)
    return matches[["t", "i", "method", "amount"]], set(hits.loc[~(single | combined), "t"])


def _match_amount_date(transactions: pd.DataFrame, invoices: pd.DataFrame) -> tuple[pd.DataFrame, set[int], set[int]]:
    """Amount-and-date matches (t, i, method, amount) where transaction and invoice are each other's
    only candidate, and the transactions and invoices that had candidates but no unique one."""
    signed_due = np.where(invoices["direction"] == "incoming", invoices["due"], -invoices["due"])
    candidates = pd.merge(
        transactions[["amount", "currency", "booking_date"]].rename_axis("t").reset_index(),
        invoices[["currency", "invoice_date", "due_date"]].assign(amount=signed_due).rename_axis("i").reset_index(),
        on="amount", suffixes=("", "_invoice"),
    )
    fits = (candidates["currency"] == candidates["currency_invoice"]) & (
        candidates["booking_date"] >= candidates["invoice_date"]) & (
        candidates["booking_date"] <= candidates["due_date"] + WINDOW_AFTER_DUE)
    candidates = candidates[fits]
    unique = (candidates.groupby("t")["i"].transform("size") == 1) & (
        candidates.groupby("i")["t"].transform("size") == 1)
    matches = candidates[unique].assign(method="amount_date", amount=lambda f: f["amount"].abs())
    undecided = candidates[~unique]
    return matches[["t", "i", "method", "amount"]], set(undecided["t"]), set(undecided["i"])


def _money(ore: int) -> Decimal:
    return Decimal(ore).scaleb(-2)


def _matches(matches: pd.DataFrame, transactions: pd.DataFrame, invoices: pd.DataFrame) -> tuple[Match, ...]:
    """The matches in booking order, each with what was due before it: the invoice's due amount
    less its payments booked earlier."""
    rows = matches.sort_values(["t", "i"])  # transactions are numbered in booking order
    due = invoices["due"].to_numpy()[rows["i"]]
    due_before = due - (rows.groupby("i")["amount"].cumsum() - rows["amount"]).to_numpy()
    difference = rows["amount"].to_numpy() - due_before
    status = np.select([difference < 0, difference > 0], ["partial", "overpaid"], "exact")
    t, i = rows["t"].to_numpy(), rows["i"].to_numpy()
    return tuple(map(
        Match,
        transactions["booking_date"].to_numpy()[t], invoices["direction"].to_numpy()[i],
        invoices["invoice_number"].to_numpy()[i], invoices["party"].to_numpy()[i], rows["method"].tolist(),
        map(_money, rows["amount"].tolist()), map(_money, due_before.tolist()), map(_money, difference.tolist()),
        status.tolist(), transactions["transaction_id"].to_numpy()[t], invoices["invoice_id"].to_numpy()[i],
    ))


def _unmatched(transactions: pd.DataFrame) -> tuple[UnmatchedTransaction, ...]:
    return tuple(map(
        UnmatchedTransaction, transactions["booking_date"], map(_money, transactions["amount"].tolist()),
        transactions["currency"], transactions["description"], transactions["reference"],
        transactions["counterparty"], transactions["reason"], transactions["transaction_id"],
    ))


def _open(invoices: pd.DataFrame) -> tuple[OpenInvoice, ...]:
    return tuple(map(
        OpenInvoice, invoices["direction"], invoices["invoice_number"], invoices["party"], invoices["invoice_date"],
        invoices["due_date"], map(_money, invoices["due"].tolist()), invoices["currency"], invoices["ocr"],
        invoices["reason"], invoices["invoice_id"],
    ))
