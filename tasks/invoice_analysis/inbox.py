"""Step 1-2: the Fortnox supplier invoices that need a decision, and their PDFs.

An invoice needs one when it is new or changed since it was last decided, is neither booked (a
booked invoice is past attestation and Fortnox no longer lets its project change) nor cancelled
(list items do not carry that flag, so the cancelled ones are asked for with ``filter=cancelled``),
and has no project yet. An invoice still on the reviewer's list that was booked, cancelled or
given a project in Fortnox meanwhile is settled there, and leaves the list. "Changed" is judged on what the decision rests on (supplier, number,
dates, amount), so our own write-back of `Project` and `Comments` never makes an invoice look
changed, and a decided invoice is not decided again unless it really changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tasks.runtime import task

from connectors import fortnox as fx
from models.reviews import InvoiceSeen

PDF_WORKERS = 4  # requests in flight; the client's shared limiter keeps the pace within Fortnox's limit
BULK_FROM = 25  # more invoices than this: list every file connection instead of one request each


@dataclass(frozen=True)
class Incoming:
    invoice: InvoiceSeen
    file_name: str  # the archive file's name, or the invoice's when it has none
    pdf: bytes | None  # None: no document connected


def seen(item: fx.SupplierInvoiceItem) -> InvoiceSeen:
    decisive = "|".join(str(v) for v in (item.supplier_number, item.invoice_number, item.invoice_date, item.due_date,
                                          item.total, item.currency))
    return InvoiceSeen(item.given_number, item.invoice_number, item.supplier_number, item.supplier_name,
                       item.invoice_date, item.due_date, item.total, item.currency,
                       hashlib.sha256(decisive.encode()).hexdigest())


@dataclass(frozen=True)
class Changes:
    """What changed in Fortnox since the cursor: the invoices still open for a decision, and why
    the others are settled (for reviews still waiting on them)."""

    open: list[fx.SupplierInvoiceItem]
    settled: dict[str, str]  # given number -> reason, in Swedish


def changes(client: fx.FortnoxClient, since: dt.datetime | None) -> Changes:
    items = list(client.supplier_invoices(since))
    cancelled = {item.given_number for item in client.supplier_invoices(since, filter="cancelled")}
    settled: dict[str, str] = {}
    for item in items:
        if item.given_number in cancelled:
            settled[item.given_number] = "Makulerad i Fortnox"
        elif item.project:
            settled[item.given_number] = f"Projekt {item.project} satt i Fortnox"
        elif item.booked:
            settled[item.given_number] = "Bokförd i Fortnox"
    return Changes([item for item in items if item.given_number not in settled], settled)


def _connections(client: fx.FortnoxClient, invoices: list[InvoiceSeen]) -> dict[str, fx.FileConnection]:
    """The first file connection of each invoice. Under Fortnox's 25 requests per 5 s every
    request counts: a few invoices ask one by one (seed 002 §5.1), a backlog (the first run, a
    Monday morning) lists all connections, 500 a page."""
    wanted = {invoice.given_number for invoice in invoices}
    if len(wanted) <= BULK_FROM:
        found = [c for number in sorted(wanted) for c in client.file_connections(number)[:1]]
    else:
        found = [c for c in client.list(fx.FILE_CONNECTIONS) if c.supplier_invoice_number in wanted]  # type: ignore[attr-defined]
    connections: dict[str, fx.FileConnection] = {}
    for connection in found:
        connections.setdefault(connection.supplier_invoice_number, connection)
    return connections


@task(name="fetch-invoice-documents")
def fetch_documents(client: fx.FortnoxClient, invoices: list[InvoiceSeen]) -> list[Incoming]:
    """Each invoice's PDF through its file connection and the archive, a few downloads in flight.
    An invoice without a connected file comes back without a PDF."""
    connections = _connections(client, invoices)

    def one(invoice: InvoiceSeen) -> Incoming:
        connection = connections.get(invoice.given_number)
        if connection is None:
            return Incoming(invoice, f"leverantörsfaktura {invoice.given_number}", None)
        return Incoming(invoice, connection.name or f"{connection.file_id}.pdf", client.archive_file(connection.file_id))

    with ThreadPoolExecutor(max_workers=PDF_WORKERS) as pool:
        return list(pool.map(one, invoices))
