"""How long commands take as a person meets them: a cold process from the shell, start to exit.

Each command runs `--runs` times (default 5) in a fresh process; the median is printed beside
``python -c pass`` (the floor: the interpreter alone) and the issue's target. Flow commands get a
fresh store each run (a copy of a migrated SQLite file, or a new PostgreSQL schema), so every run
does the whole work. No Prefect server is up unless `--recorded` starts one (`ledgerflow server`),
in which case the flow commands are timed with their runs recorded there.

    .venv/bin/python benchmarks/cli_latency.py                 # everything (about 10 minutes)
    .venv/bin/python benchmarks/cli_latency.py --only help --only read
    .venv/bin/python benchmarks/cli_latency.py --recorded --only bank
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("LEDGERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLI = [sys.executable, "-m", "flows.cli"]


def timed(argv: list[str], env: dict[str, str], cwd: Path, prepare: Callable[[], dict[str, str]] | None,
          runs: int) -> list[float]:
    """Seconds per cold run; `prepare` makes each run's fresh store (not timed) and returns its settings."""
    times = []
    for _ in range(runs):
        run_env = {**env, **(prepare() if prepare else {})}
        started = time.perf_counter()
        result = subprocess.run(argv, env=run_env, cwd=cwd, capture_output=True, text=True, timeout=900)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return times


def sqlite_store(work: Path, seeded: Path) -> Callable[[], dict[str, str]]:
    def prepare() -> dict[str, str]:
        target = work / f"store-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(seeded, target)
        return {"LEDGERFLOW_DATABASE_URL": f"sqlite:///{target}"}
    return prepare


def postgres_store() -> Callable[[], dict[str, str]]:
    from models.store import open_store

    admin = sa.create_engine(POSTGRES)

    def prepare() -> dict[str, str]:
        schema = f"cli_{uuid.uuid4().hex[:10]}"
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        open_store(url).dispose()  # migrated before the clock, as a deployed store is
        prepare.schemas.append(schema)  # type: ignore[attr-defined]
        return {"LEDGERFLOW_DATABASE_URL": url}

    prepare.schemas = []  # type: ignore[attr-defined]
    return prepare


def drop_schemas(prepare: Callable[[], dict[str, str]]) -> None:
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        for schema in getattr(prepare, "schemas", []):
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def seed_read_store(path: Path) -> None:
    """A store with 10,000 audit events (for `audit verify`), as the read-only commands meet it."""
    from models.audit import AuditRecorder
    from models.store import open_store

    engine = open_store(f"sqlite:///{path}")
    recorder = AuditRecorder("demo", "bench")
    now = dt.datetime.now(dt.UTC)
    for number in range(10_000):
        recorder.record("update", "project", f"P-{number}", occurred_at=now,
                        change_set={"status": ["active", "completed"]})
    with engine.begin() as connection:
        recorder.flush(connection)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", choices=["help", "read", "bank", "bank-pg", "workcloud"],
                        help="Only these groups (repeatable).")
    parser.add_argument("--recorded", action="store_true", help="Time the flow commands with `ledgerflow server` up.")
    options = parser.parse_args()
    chosen = set(options.only or ["help", "read", "bank", "bank-pg", "workcloud"])
    sys.path.insert(0, str(ROOT))
    from connectors.sandbox.bank import write_swedbank_company
    from connectors.sandbox.workcloud import write_exports
    from models.store import open_store

    work = Path(tempfile.mkdtemp(prefix="ledgerflow-cli-latency-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGERFLOW_", "PREFECT_API"))}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="120")
    empty = work / "empty.db"
    open_store(f"sqlite:///{empty}").dispose()
    results: list[tuple[str, list[float], str]] = [("python -c pass", timed([sys.executable, "-c", "pass"], env, work,
                                                                            None, options.runs), "floor")]
    if options.recorded:
        started = subprocess.run([*CLI, "server", "start", "--port", "4299"], env=env, cwd=work, capture_output=True,
                                 text=True, timeout=900)
        if started.returncode:
            raise SystemExit(started.stdout + started.stderr)
    try:
        if "help" in chosen:
            results.append(("ledgerflow --help", timed([*CLI, "--help"], env, work, None, options.runs), "≤ 0.5 s"))
            results.append(("ledgerflow run --help", timed([*CLI, "run", "--help"], env, work, None, options.runs),
                            "≤ 0.5 s"))
        if "read" in chosen:
            seeded = work / "read.db"
            seed_read_store(seeded)
            read_env = {**env, "LEDGERFLOW_DATABASE_URL": f"sqlite:///{seeded}"}
            for command in (["db", "status"], ["audit", "verify"], ["quarantine", "list"], ["invoices", "flagged"]):
                label = "ledgerflow " + " ".join(command) + (" (10,000 events)" if command[0] == "audit" else "")
                results.append((label, timed([*CLI, *command], read_env, work, None, options.runs), "≤ 1.5 s"))
        if "bank" in chosen:
            small = write_swedbank_company(work / "swedbank-1000.csv", 1_000)
            results.append(("bank-import 1,000 rows, SQLite", timed([*CLI, "bank-import", str(small)], env, work,
                                                                    sqlite_store(work, empty), options.runs),
                            "≤ 2.5 s"))
        if "bank-pg" in chosen:
            large = write_swedbank_company(work / "swedbank-100000.csv", 100_000)
            prepare = postgres_store()
            try:
                large_env = {**env, "LEDGERFLOW_BANK_MAX_FILE_MB": "64"}  # 14 MB, over seed 004's 10 MB default
                results.append(("bank-import 100,000 rows, PostgreSQL",
                                timed([*CLI, "bank-import", str(large)], large_env, work, prepare, options.runs),
                                "≤ 8 s"))
            finally:
                drop_schemas(prepare)
        if "workcloud" in chosen:
            folder = work / "workcloud"
            write_exports(folder, 7, 40, 120, 100_000)
            for name in ("projektregister.csv", "workorders.csv"):
                (folder / name).unlink()  # the figure is the 100,000 time reports
            prepare = postgres_store()
            try:
                results.append(("run workcloud-ingest 100,000 time reports, PostgreSQL",
                                timed([*CLI, "run", "workcloud-ingest", "--dir", str(folder)], env, work, prepare,
                                      options.runs), "≤ 6 s"))
            finally:
                drop_schemas(prepare)
    finally:
        if options.recorded:
            subprocess.run([*CLI, "server", "stop"], env=env, cwd=work, capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(results[0][1])
    print(f"{'command':58} {'median':>8} {'min':>7} {'max':>7} {'- floor':>8}  target")
    for label, times, target in results:
        median = statistics.median(times)
        print(f"{label:58} {median:7.2f}s {min(times):6.2f}s {max(times):6.2f}s {median - floor:7.2f}s  {target}")


if __name__ == "__main__":
    main()
