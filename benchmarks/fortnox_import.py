"""Full and incremental Fortnox import from the sandbox under the real 25-per-5-seconds limit.

Prints the requests made, the wall time, the achieved request rate against the limit (the
pace is the limit's, so the ratio says how much of the allowance the import uses), and the
429s received. The sandbox runs in its own process, the import is the real command
(`ledgerflow run import-sync`), and the store is a fresh SQLite file.

    .venv/bin/python benchmarks/fortnox_import.py --supplier-invoices 10000 --customers 2000
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LEDGERFLOW = str(Path(sys.executable).with_name("ledgerflow"))
LIMIT_PER_S = 25 / 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([LEDGERFLOW, *args], env=env, check=True, stdout=subprocess.DEVNULL, cwd=env["WORKDIR"])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supplier-invoices", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    options = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="lf-bench-fortnox-")
    env = os.environ | {
        "WORKDIR": work, "PREFECT_HOME": f"{work}/prefect", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "LEDGERFLOW_DATABASE_URL": f"sqlite:///{work}/store.db", "LEDGERFLOW_TENANT": "bench",
    }
    server = subprocess.Popen(
        [LEDGERFLOW, "sandbox", "serve", "--port", str(port), "--supplier-invoices", str(options.supplier_invoices),
         "--customers", str(options.customers)], env=env, stdout=subprocess.DEVNULL, cwd=work,
    )
    try:
        for _ in range(600):
            try:
                counts = httpx.get(f"{url}/_sandbox/info", timeout=2).json()["counts"]
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        run(["connect", "fortnox", "--sandbox", url], env)
        for label in ("full", "incremental"):
            httpx.post(f"{url}/_sandbox/stats/reset", timeout=10)
            wall = run(["run", "import-sync"], env)
            stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
            api_requests = stats["requests"] - stats["by_route"].get("POST /oauth-v1/token", 0)
            rate = api_requests / wall
            print(f"fortnox_import {label} supplier_invoices={counts['supplierinvoices']} customers={counts['customers']} "
                  f"requests={api_requests} wall_s={wall:.1f} rate_per_s={rate:.2f} ratio_to_limit={rate / LIMIT_PER_S:.3f} "
                  f"http_429={stats['by_status'].get('429', 0)} rate_limit_violations={stats['rate_limit_violations']} "
                  f"max_in_5s={stats['max_requests_in_5s_window']}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
