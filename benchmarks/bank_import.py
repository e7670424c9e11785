"""Bank import throughput: parse, validate, de-duplicate and load N rows into a fresh store.

Seed 004's floor is 1,000 transactions in < 5 s; the target is 100,000 rows into PostgreSQL in
< 5 s with peak memory < 500 MiB. Each run is a fresh process (peak memory per run) and a fresh
store; imports and the GX context are warmed up before the clock starts.

    .venv/bin/python benchmarks/bank_import.py --rows 100000 --database postgres --runs 3
    .venv/bin/python benchmarks/bank_import.py --megabytes 10 --database postgres
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROW_BYTES = 137  # about what one generated Swedbank company row takes


def child(path: Path, database: str) -> None:
    os.environ["PREFECT_LOGGING_LEVEL"] = "ERROR"
    from prefect.logging import disable_run_logger
    from stores import scratch_store  # benchmarks/stores.py (run as a script, this folder is on the path)

    from connectors.banks import read_statement
    from connectors.sandbox.bank import write_swedbank_company
    from tasks.load import load_bank_statement

    with scratch_store(database) as url, disable_run_logger():
        # Warm-up outside the clock: imports (GX takes seconds), the GX context, the connection pool.
        warm = write_swedbank_company(path.with_name("warm-up.csv"), 10)
        load_bank_statement.fn(url, "warm-up", read_statement(warm), "warm-up", "bench")
        started = time.perf_counter()
        statement = read_statement(path, max_bytes=1 << 31)
        parsed = time.perf_counter()
        report = load_bank_statement.fn(url, "bench", statement, "bench-account", "bench")
        done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{report.rows} {report.imported} {done - started:.3f} {parsed - started:.3f} {peak:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--megabytes", type=float, help="Size the file in MB instead of rows")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(Path(options.child[0]), options.child[1])
        return
    from connectors.sandbox.bank import write_swedbank_company

    rows = int(options.megabytes * 1024 * 1024 / ROW_BYTES) if options.megabytes else options.rows
    path = write_swedbank_company(Path(tempfile.mkdtemp()) / "bench.csv", rows)
    size_mb = path.stat().st_size / 1024 / 1024
    results = []
    for run in range(options.runs):
        out = subprocess.run([sys.executable, __file__, "--child", str(path), options.database], check=True,
                             capture_output=True, text=True).stdout.split()
        read, imported, total, parse, peak = int(out[0]), int(out[1]), float(out[2]), float(out[3]), float(out[4])
        if imported != read:
            print(f"!!! CORRECTNESS PROBLEM: read {read}, imported {imported}")
            sys.exit(1)
        print(f"# run {run + 1}: rows={read} total_s={total:.2f} parse_validate_s={parse:.2f} "
              f"rows_per_s={read / total:,.0f} peak_rss_mib={peak:.0f}")
        results.append((total, parse, peak, read))
    total = statistics.median(r[0] for r in results)
    print(f"bank_import {options.database} rows={results[0][3]} file_mb={size_mb:.1f} median_total_s={total:.2f} "
          f"median_rows_per_s={results[0][3] / total:,.0f} "
          f"median_parse_validate_s={statistics.median(r[1] for r in results):.2f} "
          f"peak_rss_mib={max(r[2] for r in results):.0f} runs={len(results)}")


if __name__ == "__main__":
    main()
