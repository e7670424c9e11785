"""Payment matching: precision and recall on a generated set with known answers, and the time to match
a store of 100,000 invoices and 100,000 bank transactions.

The set is `connectors.sandbox.payments` (20 invoices and 20 transactions per round, every case
once a round), loaded through the bulk load (`upsert_in_chunks`: COPY on PostgreSQL) into a fresh
store. The figure is the time of `match_payments` over the whole store, the median of several
runs in one process, after a warm-up run; loading is reported but not part of it.

    .venv/bin/python benchmarks/payment_matching.py --invoices 100000 --database postgres --runs 3
    .venv/bin/python benchmarks/payment_matching.py --invoices 100000 --database sqlite

Recall counts every true payment; the two same-amount cases of each round (one in, one out) are
payments the data cannot attribute, so the best recall there is is 17 - 2 = 15 of 17 (0.882), and
"decidable recall" leaves them out.
"""

from __future__ import annotations

import argparse
import statistics
import time

from connectors.sandbox.payments import external_ids, generate_payments
from models.audit import AuditRecorder
from models.store import is_postgres, open_store
from models.tables import ENTITIES
from models.upsert import spelled, upsert_in_chunks
from tasks.reconciliation.payments import match_payments

from stores import scratch_store  # benchmarks/stores.py (run as a script, this folder is on the path)

TENANT = "bench"
PER_ROUND = 20  # invoices (and transactions) per round of the generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000, help="about as many transactions are generated")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    started = time.perf_counter()
    payments = generate_payments(max(options.invoices // PER_ROUND, 1))
    generated = time.perf_counter()
    with scratch_store(options.database) as url:
        engine = open_store(url)
        with engine.begin() as connection:
            audit = AuditRecorder(TENANT, "benchmark")
            for entity, records in (("invoice", payments.invoices), ("supplier_invoice", payments.supplier_invoices),
                                    ("bank_transaction", payments.transactions)):
                upsert_in_chunks(connection, ENTITIES[entity], TENANT, "sandbox",
                                 spelled(records, for_copy=is_postgres(connection)), audit)
            if options.database == "postgres":
                connection.exec_driver_sql("ANALYZE")
        loaded = time.perf_counter()
        print(f"# generated {len(payments.invoices) + len(payments.supplier_invoices)} invoices and "
              f"{len(payments.transactions)} transactions in {generated - started:.1f} s, "
              f"loaded in {loaded - generated:.1f} s")
        times = []
        with engine.connect() as connection:
            match_payments(connection, TENANT)  # warm-up: first use of the connection and of pandas' code paths
            for run in range(options.runs):
                clock, cpu = time.perf_counter(), time.process_time()
                result = match_payments(connection, TENANT)
                times.append(time.perf_counter() - clock)
                print(f"# run {run + 1}: match_s={times[-1]:.2f} cpu_s={time.process_time() - cpu:.2f} "
                      f"matches={len(result.matches)} unmatched={len(result.unmatched)} "
                      f"open_invoices={len(result.open_invoices)}")
            external = external_ids(connection, TENANT)
    score = payments.score((external[m.transaction_id], external[m.invoice_id]) for m in result.matches)
    print(f"payment_matching {options.database} invoices={len(payments.invoices) + len(payments.supplier_invoices)} "
          f"transactions={len(payments.transactions)} median_match_s={statistics.median(times):.2f} "
          f"precision={score.precision:.4f} recall={score.recall:.4f} decidable_recall={score.decidable_recall:.4f} "
          f"found={score.found} correct={score.correct} answers={score.answers} runs={options.runs}")


if __name__ == "__main__":
    main()
