"""One supplier-invoice validation cycle with N new invoices, under Fortnox's real rate limit.

The Fortnox sandbox (25 requests per 5 s, enforced with 429) holds enough supplier invoices that
about N of them are unbooked and without a project; the WorkCloud registry of the same company is
ingested into a fresh SQLite store first. Prints the wall time of the flow run, the invoices analysed, the
requests made (per route) and the 429s received. Target: 100 new invoices in < 60 s.

    .venv/bin/python benchmarks/invoice_cycle.py --new 100
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")

UNBOOKED_WITHOUT_PROJECT = 0.38  # the sandbox's share of invoices a cycle has to decide


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new", type=int, default=100, help="about this many invoices to decide")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lf-bench-cycle-"))
    os.environ.update({"PREFECT_HOME": str(work / "prefect"), "LEDGERFLOW_DATABASE_URL": f"sqlite:///{work}/store.db",
                       "LEDGERFLOW_TENANT": "bench", "LEDGERFLOW_KEY_FILE": str(work / "key")})

    import httpx
    from prefect.testing.utilities import prefect_test_harness

    from connectors.sandbox.fortnox import FortnoxSandbox
    from connectors.sandbox.graph import GraphSandbox
    from connectors.sandbox.workcloud import write_exports
    from flows.connections import connect_fortnox, sandbox_code, sandbox_endpoints
    from flows.demo import sandbox_company_env
    from flows.invoice_validation import supplier_invoice_validation
    from flows.settings import Settings
    from flows.workcloud_ingest import workcloud_ingest
    from models.store import open_store

    with prefect_test_harness():
        write_exports(work / "workcloud", reports=10)
        workcloud_ingest(directory=str(work / "workcloud"), tenant="bench")
        total = round(options.new / UNBOOKED_WITHOUT_PROJECT)
        with FortnoxSandbox(seed=7, supplier_invoices=total) as fortnox, GraphSandbox() as graph:
            os.environ.update(sandbox_company_env(graph))
            settings = Settings()
            code = sandbox_code(fortnox.url, settings.fortnox_redirect_uri)
            connect_fortnox(settings, open_store(settings.database_url), "bench", code, sandbox_endpoints(fortnox.url))
            time.sleep(5)  # a fresh 5-second window: connecting made requests too
            httpx.post(f"{fortnox.url}/_sandbox/stats/reset", timeout=10)
            started = time.perf_counter()
            summary = supplier_invoice_validation(tenant="bench")
            wall = time.perf_counter() - started
            stats = httpx.get(f"{fortnox.url}/_sandbox/stats", timeout=10).json()
    routes = ", ".join(f"{route} {count}" for route, count in sorted(stats["by_route"].items()))
    print(f"# requests by route: {routes}")
    print(f"invoice_cycle analysed={summary.processed} auto_approved={summary.auto_approved} "
          f"wall_s={wall:.1f} requests={stats['requests']} rate_limited_429={stats['rate_limit_violations']} "
          f"max_requests_in_5s={stats['max_requests_in_5s_window']}")


if __name__ == "__main__":
    main()
