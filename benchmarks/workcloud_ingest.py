"""Benchmark: the WorkCloud ingest of N time-report rows, end to end, into a fresh store.

Why: the daily WorkCloud export is the largest file the project ingests, and the target is
>= 50,000 rows/s into PostgreSQL with a peak memory under 1 GiB. This script measures the
four stages the flow runs for one file, in the flow's order, with the same code the flow calls:

  parse  read the bytes and ``connectors.workcloud.read_export``
  map    ``tasks.mapping.map_export``: the cleaning, then the rows are handed to the validating
         worker processes (``models.spelling``)
  gate   the Great Expectations gate, ``tasks.quality.check``, while the workers validate; the
         rows it holds back are then left out of the mapping (``MappedStream.hold_back``)
  load   the body of the Prefect task, ``tasks.load.load_workcloud_export.fn``: it stores each
         chunk as the workers finish validating it (upsert, one sync audit event for the
         file's time reports, bookkeeping; one transaction), so it holds the validation too

Prefect itself (task runs, the API) is *not* in the figure; ``benchmarks/flow_overhead.py``
measures that fixed cost separately.

Each measured run happens in a fresh child process (this script re-invoked with the hidden
``--child`` flag) so that

* the peak resident memory (``ru_maxrss``) belongs to that one run, and
* the one-off costs are outside the clock: the imports, GX's context and the suite's
  validation definition (warmed up by validating a 10-row frame), the pool of validating
  processes (its start is printed as ``pool_start``) and the store migration (``open_store``)
  all happen before the clock starts. The workers' peak memory is printed beside the run's.

The CSV is generated once (Excel style, the sandbox generator, saved as UTF-8) and every
run loads it into a fresh store: a new SQLite file, or a new PostgreSQL schema that is
dropped afterwards. Every child checks that the load reports ``inserted == N``; a
discrepancy is printed loudly and makes the script exit non-zero.

Each child also counts the CPU seconds spent while the clock ran: the flow's process (all its
threads), the validating workers, and, when the PostgreSQL server runs on this machine, the
server's processes. Their sum divided by the cores is the least time any run could take on this
machine if no core ever waited; the figure says how far the pipeline is from that, and what
the rows/s target asks of the CPU.

With ``--floor`` each child also measures the database's own share: the rows the load wrote to
the large table (time reports; bulk records have no mapping rows and one audit event), already in the
database's format, are written once more into a second fresh store with the same tables and
indexes, in one transaction (PostgreSQL: COPY of the bytes ``COPY ... TO STDOUT`` gave;
SQLite: ``INSERT ... SELECT`` from the attached run database). No Python work per row is
left in that figure, so the load stage can approach it but not go below it.

Usage::

    .venv/bin/python benchmarks/workcloud_ingest.py --rows 100000 --database sqlite --runs 3
    .venv/bin/python benchmarks/workcloud_ingest.py --rows 100000 --database postgres --runs 3
    .venv/bin/python benchmarks/workcloud_ingest.py --rows 100000 --database postgres --runs 3 --floor

Only the standard library and the project's own dependencies are used.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TENANT = "bench"
STAGES = ("parse", "map", "gate", "load")
FLOOR_TABLES = ("time_reports",)  # the rows a time-report load writes by the hundred thousand


# --------------------------------------------------------------------------- parent side
def _generate_csv(directory: Path, name: str, rows: int, seed: int) -> Path:
    """An Excel-style time-report export (Swedish headers, ``;``, decimal commas), saved as UTF-8."""
    from connectors.sandbox.workcloud import generate_company, render, time_reports
    from connectors.workcloud import ExportKind

    company = generate_company(seed)
    path = directory / name
    path.write_bytes(render(ExportKind.TIME_REPORTS, time_reports(company, rows, seed), "excel").encode("utf-8"))
    return path


def _postgres_admin(base_url: str):  # type: ignore[no-untyped-def]
    """A psycopg connection (autocommit) for creating and dropping the run's schema."""
    import psycopg
    import sqlalchemy as sa

    url = sa.make_url(base_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _with_search_path(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def _run_child(
    args: argparse.Namespace, csv_path: Path, warmup_path: Path, url: str, out: Path, floor_url: str | None
) -> dict:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child",
        "--csv", str(csv_path), "--warmup-csv", str(warmup_path), "--url", url,
        "--rows", str(args.rows), "--result", str(out), "--profile", str(args.profile),
    ]
    if floor_url:
        command += ["--floor-url", floor_url]
    completed = subprocess.run(command, cwd=str(PROJECT_ROOT), check=False)
    if not out.exists():
        raise SystemExit(f"child run failed (exit code {completed.returncode}); see its output above")
    result = json.loads(out.read_text())
    result["exit_code"] = completed.returncode
    return result


def main_parent(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="ledgerflow-bench-") as tmp:
        tmpdir = Path(tmp)
        started = time.perf_counter()
        csv_path = _generate_csv(tmpdir, "tidrapporter.csv", args.rows, args.seed)
        warmup_path = _generate_csv(tmpdir, "warmup.csv", 10, args.seed + 1)  # the child's untimed warm-up
        print(f"# generated {args.rows:,} time reports ({csv_path.stat().st_size / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - started:.1f} s: {csv_path}", flush=True)

        results: list[dict] = []
        for run in range(1, args.runs + 1):
            out = tmpdir / f"result-{run}.json"
            if args.database == "sqlite":
                url = f"sqlite:///{tmpdir / f'bench-{run}.db'}"
                floor_url = f"sqlite:///{tmpdir / f'floor-{run}.db'}" if args.floor else None
                result = _run_child(args, csv_path, warmup_path, url, out, floor_url)
            else:
                schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(2 if args.floor else 1)]
                with _postgres_admin(args.postgres_url) as admin:
                    for schema in schemas:
                        admin.execute(f'CREATE SCHEMA "{schema}"')
                try:
                    urls = [_with_search_path(args.postgres_url, schema) for schema in schemas]
                    result = _run_child(args, csv_path, warmup_path, urls[0], out, urls[1] if args.floor else None)
                finally:
                    with _postgres_admin(args.postgres_url) as admin:
                        for schema in schemas:
                            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            results.append(result)
            stages = " ".join(f"{s}={result['stages'][s]:.2f}s" for s in STAGES)
            floor = f" database_floor={result['floor_s']:.2f}s" if args.floor else ""
            print(f"# run {run}/{args.runs}: total={result['total']:.2f}s rows_per_s={result['rows_per_s']:,.0f} "
                  f"{stages}{floor} peak_rss_mib={result['peak_rss_mib']:.0f} "
                  f"(after warm-up {result['baseline_rss_mib']:.0f}) "
                  f"workers_peak_rss_mib={result['workers_peak_mib']:.0f} "
                  f"pool_start={result['pool_start_s']:.2f}s inserted={result['report']['inserted']} "
                  f"quarantined={result['report']['quarantined']} cpu_s="
                  + ",".join(f"{part}:{seconds:.2f}" for part, seconds in result["cpu_s"].items()), flush=True)

    ok = all(r["correct"] for r in results)
    median_rate = statistics.median(r["rows_per_s"] for r in results)
    median_total = statistics.median(r["total"] for r in results)
    peak = max(r["peak_rss_mib"] for r in results)
    baseline = max(r["baseline_rss_mib"] for r in results)
    print(
        f"workcloud_ingest {args.database} rows={args.rows} median_rows_per_s={median_rate:.0f} "
        f"median_total_s={median_total:.2f} peak_rss_mib={peak:.0f} runs={args.runs}"
    )
    for stage in STAGES:
        median_stage = statistics.median(r["stages"][stage] for r in results)
        share = 100 * median_stage / median_total if median_total else 0.0
        print(f"workcloud_ingest {args.database} rows={args.rows} stage={stage} median_s={median_stage:.3f} "
              f"share={share:.0f}% runs={args.runs}")
    workers_peak = max(r["workers_peak_mib"] for r in results)
    print(f"workcloud_ingest {args.database} rows={args.rows} rss_after_warmup_mib={baseline:.0f} "
          f"peak_rss_mib={peak:.0f} workers_peak_rss_mib={workers_peak:.0f} (summed over the forkserver and its "
          f"workers) all_processes_peak_mib={peak + workers_peak:.0f} runs={args.runs}")
    print(f"workcloud_ingest {args.database} pool_start_s={statistics.median(r['pool_start_s'] for r in results):.2f} "
          f"(once per process, outside the clock) runs={args.runs}")
    cpu = {part: statistics.median(r["cpu_s"][part] for r in results) for part in results[0]["cpu_s"]}
    from models.spelling import usable_cores

    cores = usable_cores()
    print(f"workcloud_ingest {args.database} rows={args.rows} median_cpu_s "
          + " ".join(f"{part}={seconds:.2f}" for part, seconds in cpu.items())
          + f" total={sum(cpu.values()):.2f} (on {cores} cores no run can take less than "
          f"{sum(cpu.values()) / cores:.2f} s: {args.rows * cores / sum(cpu.values()):,.0f} rows/s) runs={args.runs}")
    if args.floor:
        median_floor = statistics.median(r["floor_s"] for r in results)
        print(f"workcloud_ingest {args.database} rows={args.rows} database_floor_s={median_floor:.3f} "
              f"(the rows of {', '.join(FLOOR_TABLES)} written again, no Python per row) runs={args.runs}")
    if not ok:
        print("!!! CORRECTNESS: at least one run did not insert every row; see the child output above !!!")
        return 1
    return 0


# --------------------------------------------------------------------------- child side
def _rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _descendants() -> list[int]:
    """The processes below this one: the forkserver and the validating workers."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            children.setdefault(int(rest.rsplit(")", 1)[1].split()[1]), []).append(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _descendants_peak_mib() -> float:
    """The peak memory of every process below this one, summed: shared pages are counted in each,
    so the sum errs on the high side."""
    total = 0.0
    for pid in _descendants():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)
    return total


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used so far (those that are gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _postgres_processes() -> list[int]:
    """The local PostgreSQL server's processes (backends, WAL and background writers), if this
    machine runs it and lets us see them; the database's CPU share is theirs."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip().startswith("postgres"):
                found.append(int(comm.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _cpu_snapshot(database: str) -> dict[str, float]:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    snapshot = {"flow": own.ru_utime + own.ru_stime, "workers": _cpu_seconds(_descendants())}
    if database == "postgresql":
        snapshot["database"] = _cpu_seconds(_postgres_processes())
    return snapshot


def _database_floor(url: str, floor_url: str) -> float:
    """Seconds to write the rows the run wrote to FLOOR_TABLES once more, into the fresh store at
    `floor_url` (migrated before the clock starts), in one transaction; see the module docstring."""
    import sqlalchemy as sa

    from models.store import open_store

    target = open_store(floor_url)
    if target.dialect.name == "sqlite":
        connection = target.raw_connection()  # the driver's own: ATTACH cannot run inside a transaction
        try:
            connection.execute(f"ATTACH DATABASE '{sa.make_url(url).database}' AS run")
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            for table in FLOOR_TABLES:
                connection.execute(f'INSERT INTO main."{table}" SELECT * FROM run."{table}"')
            connection.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            connection.close()
    dumps: dict[str, bytes] = {}
    with open_store(url).connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for table in FLOOR_TABLES:
            with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                dumps[table] = b"".join(bytes(block) for block in copy)
    with target.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        started = time.perf_counter()
        with connection.begin():
            for table in FLOOR_TABLES:
                with cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                    copy.write(dumps[table])
        return time.perf_counter() - started


def main_child(args: argparse.Namespace) -> int:
    # Everything imported and built before the clock: GX is seconds of import and context set-up.
    import logging

    import great_expectations  # noqa: F401  (tasks.quality imports it lazily; it is imported anyway in warm-up)
    import sqlalchemy as sa

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(name).setLevel(logging.WARNING)  # GX's INFO lines are noise here

    from connectors.workcloud import ROW_COLUMN, read_export
    from models.spelling import start_workers
    from models.store import open_store
    from models.tables import ENTITIES, quarantine
    from tasks.load import load_workcloud_export
    from tasks.mapping import map_export
    from tasks.quality import check

    warmup = read_export(Path(args.warmup_csv))
    assert warmup.kind is not None and not warmup.error, warmup.error
    warm_gate = check(warmup.frame, f"workcloud_{warmup.kind}", ROW_COLUMN)
    list(map_export(warmup.kind, warm_gate.valid).chunks)
    started = time.perf_counter()
    start_workers()  # the validating processes, started once per process like the GX context
    pool_start = time.perf_counter() - started
    engine = open_store(args.url)  # migrates the fresh store; cached for the load's own open_store call
    baseline = _rss_mib()

    profiles: dict[str, cProfile.Profile] = {}

    def timed(stage: str, call, *call_args):  # type: ignore[no-untyped-def]
        """Run one stage under the clock (and under cProfile with --profile)."""
        if not args.profile:
            started = time.perf_counter()
            value = call(*call_args)
            stages[stage] = time.perf_counter() - started
            return value
        profiles[stage] = profile = cProfile.Profile()
        started = time.perf_counter()
        value = profile.runcall(call, *call_args)
        stages[stage] = time.perf_counter() - started
        return value

    stages: dict[str, float] = {}
    path = Path(args.csv)
    cpu_before = _cpu_snapshot(engine.dialect.name)
    export = timed("parse", lambda: read_export(path, path.read_bytes()))
    if export.error or export.kind is None:
        raise SystemExit(f"the export could not be read: {export.error}")
    mapped = timed("map", map_export, export.kind, export.frame, None, engine.dialect.name == "postgresql")
    gate = timed("gate", check, export.frame, f"workcloud_{export.kind}", ROW_COLUMN)
    mapped.hold_back(gate.held_back())
    report = timed(
        "load", load_workcloud_export.fn,
        args.url, TENANT, export, mapped, gate.quarantined, len(gate.warnings),
        "benchmark/workcloud_ingest", None,
    )
    total = sum(stages.values())
    cpu_after = _cpu_snapshot(engine.dialect.name)
    cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_before}
    peak = _rss_mib()
    workers_peak = _descendants_peak_mib()
    if profiles:
        slowest = max(stages, key=stages.__getitem__)
        print(f"# cProfile of the slowest stage, {slowest} ({stages[slowest]:.2f}s under the profiler), "
              f"top {args.profile} by own time:", flush=True)
        pstats.Stats(profiles[slowest], stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
        print("# ... and by cumulative time:", flush=True)
        pstats.Stats(profiles[slowest], stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)
        sys.stdout.flush()

    # Correctness, outside the clock.
    problems: list[str] = []
    if report.status not in ("loaded",):
        problems.append(f"status={report.status!r} error={report.error!r}")
    if report.read != args.rows:
        problems.append(f"read={report.read} != rows={args.rows}")
    if report.inserted != args.rows:
        problems.append(
            f"inserted={report.inserted} != rows={args.rows} (quarantined={report.quarantined}, "
            f"gate critical issues={len(gate.quarantined)}, format problems={len(export.problems)})"
        )
    table = ENTITIES["time_report"].table
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == TENANT)
        ).scalar_one()
    if stored != args.rows:
        problems.append(f"{table.name} holds {stored} rows for the tenant, expected {args.rows}")
    for problem in problems:
        print(f"!!! CORRECTNESS PROBLEM: {problem}", flush=True)
    floor = _database_floor(args.url, args.floor_url) if args.floor_url else None
    with engine.connect() as connection:
        issue_codes = dict(connection.execute(
            sa.select(quarantine.c.error_code, sa.func.count()).where(quarantine.c.tenant_id == TENANT)
            .group_by(quarantine.c.error_code)
        ).all())
    if issue_codes:
        print(f"!!! held-back rows by code: {issue_codes}", flush=True)

    Path(args.result).write_text(
        json.dumps(
            {
                "stages": stages,
                "total": total,
                "rows_per_s": args.rows / total,
                "peak_rss_mib": peak,
                "baseline_rss_mib": baseline,
                "workers_peak_mib": workers_peak,
                "pool_start_s": pool_start,
                "report": {"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
                           "quarantined": report.quarantined, "warnings": report.warnings, "status": report.status},
                "stored": stored,
                "correct": not problems,
                "floor_s": floor,
                "cpu_s": cpu,
            }
        )
    )
    return 0 if not problems else 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the WorkCloud ingest (parse, map, GX gate, load) of N time-report rows into a "
        "fresh SQLite or PostgreSQL store; each run in its own process, one-off imports and migration excluded.",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="time-report rows in the export (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="store to load into (default sqlite)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs, each in a fresh process (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--postgres-url", default=os.environ.get("LEDGERFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help=f"PostgreSQL URL; a fresh schema is created and dropped per run (default {DEFAULT_POSTGRES}, "
                        "or LEDGERFLOW_BENCH_POSTGRES_URL)")
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=0, metavar="N",
                        help="also run each stage under cProfile and print the top N functions (default 30) of the "
                        "slowest stage; the timings are then inflated by the profiler")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the database floor: the rows the load wrote, written again into a fresh "
                        "store with the same indexes, without Python per row (see the module docstring)")
    # Hidden: the child process of one measured run.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--warmup-csv", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--floor-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.runs < 1:
        parser.error("--rows and --runs must be at least 1")
    return args


if __name__ == "__main__":
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    arguments = parse_args()
    sys.exit(main_child(arguments) if arguments.child else main_parent(arguments))
