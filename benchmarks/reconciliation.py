"""Reconciliation reports: the time to build each one for a store of 100,000 customer invoices and
100,000 bank transactions.

The store is seeded straight through `models.store.insert_rows` (the loaders are measured by
their own benchmarks): the invoices as a Fortnox import leaves them (with their
`integration_mappings`), the bank transactions (half of them paying an invoice by its OCR
number), a month of hourly sync logs, bank imports, dead letters and quarantined rows, and one
audit event per record (200,000, chained as the recorder chains them).

The remote side is the Fortnox sandbox over real HTTP holding the same invoices, put into its
state directly rather than POSTed one by one; 5 of them are gone, 5 exist only there, and 10
were changed there after the last sync (amount differences, and drift for the monthly audit).
The sandbox's rate limit is lifted: at Fortnox's real 25 requests per 5 s, reading the 200
pages of 500 invoices adds 40 s to the weekly and the monthly report. The time spent waiting
for the sandbox's answers (it sorts and shapes all 100,000 records for every page, some 0.8 s a
page) is summed from our client's request log and printed apart from the rest, which is ours.

Each report is one run of the `reconciliation` flow (Prefect's test harness started once, the
first run untimed), as `ledgerflow report …` does it: the queries, the comparison, payment
matching, the audit-chain walk, and writing the HTML and CSV files.

    .venv/bin/python benchmarks/reconciliation.py --database sqlite
    .venv/bin/python benchmarks/reconciliation.py --database postgres --invoices 100000 --transactions 100000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import logging
import os
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

TENANT = "bench"
SPAN_DAYS = 730  # the invoices' dates: two years up to the report's day
CHANGED, GONE, ONLY_REMOTE = 10, 5, 5


def _price(n: int) -> Decimal:
    return Decimal(400 + 4 * (n % 2500))  # a multiple of 4: 25 % VAT is whole kronor, no rounding


def _invoice(n: int, day: dt.date, price: Decimal) -> dict[str, Any]:
    """Invoice number `n` as the canonical model stores it (one line, 25 % VAT)."""
    from stdnum import luhn

    vat = price / 4
    return {
        "invoice_number": str(n), "type": "invoice", "status": "sent", "customer_number": "1",
        "customer_name": "Kund 1 AB", "invoice_date": day, "due_date": day + dt.timedelta(days=30), "currency": "SEK",
        "lines": [{"line_number": 1, "description": "Arbete", "quantity": "1", "unit_price": f"{price}.00",
                   "discount_percent": "0", "vat_rate": "25", "line_total": f"{price}.00", "vat_amount": f"{vat}.00",
                   "postings": []}],
        "subtotal": price, "vat_amount": vat, "rounding": Decimal("0.00"), "total": price + vat,
        "amount_due": price + vat, "paid_amount": Decimal("0.00"), "ocr": f"{n}{luhn.calc_check_digit(str(n))}",
    }


def seed_store(url: str, invoices: int, transactions: int, today: dt.date) -> None:
    import sqlalchemy as sa

    from models.audit import AuditRecorder
    from models.store import canonical_json, insert_rows, new_ids, open_store
    from models.tables import ENTITIES, bank_imports, dead_letters, integration_mappings, quarantine, sync_logs

    now = dt.datetime.now(dt.UTC)
    first = today - dt.timedelta(days=SPAN_DAYS)
    engine = open_store(url)
    ids = new_ids(invoices)
    rows = []
    for n, local_id in zip(range(1, invoices + 1), ids, strict=True):
        values = _invoice(n, first + dt.timedelta(days=n * SPAN_DAYS // invoices), _price(n))
        rows.append({"id": local_id, "tenant_id": TENANT, "source_system": "fortnox", "external_id": str(n),
                     "row_hash": hashlib.sha256(canonical_json(values).encode()).hexdigest(), "created_at": now,
                     "updated_at": now, **values})
    paying = rows[-(transactions // 2):]  # the latest invoices are the ones being paid
    bank = []
    for index, tx_id in enumerate(new_ids(transactions)):
        if index < len(paying):
            invoice = paying[index]
            booked = min(invoice["invoice_date"] + dt.timedelta(days=10), today)
            amount, text, reference = invoice["total"], "BG 5051-6905 inbetalning", invoice["ocr"]
        else:
            booked = first + dt.timedelta(days=index * SPAN_DAYS // transactions)
            amount, text, reference = Decimal(-(100 + index % 9000)), f"Kortköp {index % 97}", None
        bank.append({"id": tx_id, "tenant_id": TENANT, "source_system": "swedbank", "external_id": f"tx-{index}",
                     "row_hash": hashlib.sha256(tx_id.encode()).hexdigest(), "created_at": now, "updated_at": now,
                     "account": "8327-9 123 456 789", "booking_date": booked, "amount": amount, "currency": "SEK",
                     "description": text, "reference": reference, "bank": "swedbank", "status": "booked",
                     "is_income": amount > 0})
    cursor = (now - dt.timedelta(hours=1)).isoformat()
    logs = [
        {"id": str(uuid.uuid4()), "tenant_id": TENANT, "system": "fortnox", "sync_type": "import", "data_type": entity,
         "status": "failed" if hour % 97 == 0 else "success", "record_count": hour % 40,
         "details": {"inserted": hour % 30, "updated": hour % 10, "unchanged": 5, "quarantined": hour % 3,
                     "cursor": cursor},
         "created_at": now - dt.timedelta(hours=hour)}
        for hour in range(30 * 24) for entity in ("invoice", "supplier_invoice", "customer", "supplier", "project",
                                                  "product", "employee")
    ]
    with engine.begin() as connection:
        insert_rows(connection, ENTITIES["invoice"].table, rows)
        insert_rows(connection, integration_mappings, (
            {"id": mapping_id, "tenant_id": TENANT, "system": "fortnox", "entity_type": "invoice",
             "external_id": row["external_id"], "local_id": row["id"], "last_sync_direction": "import",
             "synced_at": now, "created_at": now}
            for row, mapping_id in zip(rows, new_ids(len(rows)), strict=True)))
        insert_rows(connection, ENTITIES["bank_transaction"].table, bank)
        insert_rows(connection, sync_logs, logs)
        insert_rows(connection, bank_imports, [
            {"id": str(uuid.uuid4()), "tenant_id": TENANT, "imported_at": now - dt.timedelta(days=day),
             "file_name": f"swedbank-{day}.csv", "file_size": 10_000, "sha256": f"{day:064d}", "bank": "swedbank",
             "format": "swedbank_company", "account": "8327-9", "rows": 200, "imported": 198, "duplicates": 1,
             "error_count": 1, "errors": [], "warnings": []} for day in range(30)])
        insert_rows(connection, dead_letters, [
            {"id": str(uuid.uuid4()), "tenant_id": TENANT, "system": "fortnox", "entity_type": "invoice",
             "entity_id": str(n), "request": {"method": "POST"}, "attempts": [], "error_category": "validation",
             "status": "pending", "queued_at": now - dt.timedelta(days=n % 200)} for n in range(300)])
        insert_rows(connection, quarantine, [
            {"id": str(uuid.uuid4()), "tenant_id": TENANT, "system": "fortnox", "dataset": "fortnox_invoices",
             "source_ref": f"fortnox:invoices/q{n}", "record": {"n": n}, "record_hash": f"{n:064d}",
             "error_code": "VAL-MODEL", "field": "total", "description": "saknas", "suggested_action": "rätta",
             "status": "open", "created_at": now - dt.timedelta(days=n % 120)} for n in range(1000)])
        audit = AuditRecorder(TENANT, "benchmark")
        for row in rows + bank:
            audit.record("create", "invoice" if "invoice_number" in row else "bank_transaction", row["id"],
                         occurred_at=now, new_state={"external_id": row["external_id"]})
        audit.flush(connection)
        counted = connection.execute(sa.select(sa.func.count()).select_from(ENTITIES["invoice"].table)).scalar_one()
    print(f"# store: {counted:,} invoices, {len(bank):,} bank transactions, {len(logs):,} sync logs, "
          f"{len(rows) + len(bank):,} audit events")


def seed_remote(sandbox: Any, invoices: int, today: dt.date) -> None:
    """The same invoices in the sandbox's state, as Fortnox holds them; some gone, changed or only there."""
    from connectors.sandbox.fortnox.entities import RESOURCES, create

    state = sandbox.state
    resource = RESOURCES["invoices"]
    template = create(state, resource, {"CustomerNumber": "1", "InvoiceRows": [
        {"Description": "Arbete", "DeliveredQuantity": "1", "Price": 400, "VAT": 25, "AccountNumber": 3001}]})
    row = template["InvoiceRows"][0]
    first = today - dt.timedelta(days=SPAN_DAYS)
    now = time.time()
    for n in range(1, invoices + ONLY_REMOTE + 1):
        if invoices - GONE < n <= invoices:
            continue
        changed = n <= CHANGED
        price = _price(n) + (4 if changed else 0)
        total = price + price / 4
        day = first + dt.timedelta(days=min(n, invoices) * SPAN_DAYS // invoices)
        record = {
            **template, "DocumentNumber": str(n), "CustomerName": "Kund 1 AB", "YourReference": "",
            "InvoiceDate": day.isoformat(),
            "DueDate": (day + dt.timedelta(days=30)).isoformat(), "Booked": True, "OCR": _invoice(n, day, price)["ocr"],
            "Net": int(price), "Gross": int(price), "TotalVAT": int(price / 4), "RoundOff": 0, "Total": int(total),
            "TotalToPay": int(total), "Balance": int(total),
            "InvoiceRows": [{**row, "Price": int(price), "PriceExcludingVAT": int(price), "Total": int(price),
                             "TotalExcludingVAT": int(price)}],
        }
        state.store(resource.path, str(n), record, now if changed else now - 2 * 86400)


def _rows(path: Path) -> int:
    """Rows of a written CSV table, not counting its heading."""
    with path.open(encoding="utf-8-sig") as handle:
        return sum(1 for _ in handle) - 1


def _events_checked(written: Any) -> str:
    """How many audit events the monthly audit verified (its audit_chain table)."""
    if "audit_chain" not in written.csv:
        return "-"
    with written.csv["audit_chain"].open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.DictReader(handle))["events_checked"]


class RequestTime(logging.Handler):
    """Sums the duration of every HTTP request our client logs (`ledgerflow.http`)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds = 0.0
        self.requests = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seconds += getattr(record, "duration_ms", 0.0) / 1000
        self.requests += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=100_000)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledgerflow-bench-"))
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                      PREFECT_LOGGING_LEVEL="WARNING", DO_NOT_TRACK="1", GX_ANALYTICS_ENABLED="false",
                      LEDGERFLOW_REPORTS_DIR=str(work / "reports"), LEDGERFLOW_TENANT=TENANT)
    from stores import scratch_store  # benchmarks/stores.py (run as a script, this folder is on the path)

    with scratch_store(options.database) as url:
        run(options, url, work)


def run(options: argparse.Namespace, url: str, work: Path) -> None:
    """Seed the store at `url` and the sandbox, then time each report."""
    from prefect.testing.utilities import prefect_test_harness

    from connectors import fortnox as fx
    from connectors.sandbox.fortnox import FortnoxSandbox
    from flows.connections import connect_fortnox, sandbox_code, sandbox_endpoints
    from models.secrets import SecretCipher
    from models.store import open_store

    os.environ.update(LEDGERFLOW_DATABASE_URL=url, LEDGERFLOW_ENCRYPTION_KEY=SecretCipher.new_key())
    from flows.reconciliation import reconciliation
    from flows.settings import Settings

    today = dt.date.today()
    day = (today - dt.timedelta(days=1)).isoformat()
    with FortnoxSandbox(seed=7, suppliers=1, customers=1, invoices=0, offers=0, supplier_invoices=0,
                        attendance_transactions=0, salary_transactions=0) as sandbox:
        sandbox.state.rate_limit = 1_000_000
        started = time.perf_counter()
        seed_remote(sandbox, options.invoices, today)
        seed_store(url, options.invoices, options.transactions, today)
        print(f"# seeded in {time.perf_counter() - started:.1f} s ({options.database})")
        settings = Settings()
        connect_fortnox(settings, open_store(url), TENANT, sandbox_code(sandbox.url, settings.fortnox_redirect_uri),
                        sandbox_endpoints(sandbox.url, requests_per_5s=1_000_000, page_size=fx.PAGE_SIZE))
        http = RequestTime()
        requests_log = logging.getLogger("ledgerflow.http")
        requests_log.addHandler(http)
        requests_log.setLevel(logging.INFO)
        requests_log.propagate = False  # counted, not printed
        with prefect_test_harness(server_startup_timeout=120):
            reconciliation("daily", tenant=TENANT, date="2000-01-01")  # warm-up: imports, first flow run
            for kind in ("daily", "weekly", "monthly"):
                http.seconds, http.requests = 0.0, 0
                started = time.perf_counter()
                [written] = reconciliation(kind, tenant=TENANT, date=day)
                elapsed = time.perf_counter() - started
                found = {key: _rows(path) for key, path in written.csv.items()}
                print(f"reconciliation {kind} {options.database} invoices={options.invoices} "
                      f"transactions={options.transactions} seconds={elapsed:.2f} "
                      f"ours_s={elapsed - http.seconds:.2f} sandbox_s={http.seconds:.2f} "
                      f"requests={http.requests} "
                      f"discrepancies={found.get('discrepancies', '-')} drift={found.get('drift', '-')} "
                      f"payment_matches={found.get('payment_matches', '-')} "
                      f"open_invoices={found.get('open_invoices', '-')} audit_events={_events_checked(written)} "
                      f"html_kib={written.html.stat().st_size // 1024}")



if __name__ == "__main__":
    main()
