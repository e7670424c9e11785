"""Benchmark: the fixed cost of one Prefect flow run of ``workcloud_ingest`` (an empty export folder).

Why: ``benchmarks/workcloud_ingest.py`` times the ingest's own work and leaves Prefect out.
What Prefect adds per run (start-up, the API, flow/task-run bookkeeping, the artifact) is a
fixed cost that matters for small daily files and for how often the flow can be scheduled.
With an empty folder the flow does everything but ingest: settings, the store's
``read-workcloud-exports`` task, the table artifact, the state changes.

Two figures:

cold  the whole command a person runs, ``ledgerflow run workcloud-ingest --dir EMPTY``, as a
      subprocess: interpreter and import start-up and the flow run. No Prefect server is
      configured, so the flow runs locally without Prefect (``tasks/runtime.py``); only the
      first run pays for the ledgerflow SQLite store's migration; that first run is reported
      on its own line, the median is over the others.
warm  one process that has started ``prefect.testing.utilities.prefect_test_harness()`` once
      calls ``workcloud_ingest(directory=EMPTY)`` repeatedly, recorded on it as a deployment's or
      a ``ledgerflow server`` run is: Prefect's per-run bookkeeping alone.
      The first call (imports, first task registration) is reported on its own line. Timed
      twice: with Prefect's heartbeats, as a deployment on a server runs, and without, as an
      ad hoc command runs. The difference is the wait for the heartbeat thread at the end.

The environment is made hermetic: PREFECT_API_URL, PREFECT_API_KEY and PREFECT_PROFILE are
removed (so no real server is contacted), analytics are off, and the commands run in a temp
folder (so no ``.env`` file or ``var/`` folder of the checkout is read or written).

Usage::

    .venv/bin/python benchmarks/flow_overhead.py --runs 5

Only the standard library and the project's own dependencies are used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DROPPED_ENV = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE")


def _environment(prefect_home: Path, database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        LEDGERFLOW_DATABASE_URL=f"sqlite:///{database}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def _ledgerflow_command() -> list[str]:
    script = Path(sys.executable).with_name("ledgerflow")
    if script.exists():
        return [str(script)]
    found = shutil.which("ledgerflow")
    if found:
        return [found]
    return [sys.executable, "-c", "from flows.cli import app; app()"]


def _fail(what: str, completed: subprocess.CompletedProcess[str]) -> None:
    print(f"!!! {what} failed with exit code {completed.returncode}", file=sys.stderr)
    print(completed.stdout[-4000:], file=sys.stderr)
    print(completed.stderr[-4000:], file=sys.stderr)
    raise SystemExit(1)


def measure_cold(runs: int, tmpdir: Path, empty: Path) -> tuple[float, list[float]]:
    """Wall time of the CLI command: the first run, then `runs` more with the same PREFECT_HOME."""
    env = _environment(tmpdir / "prefect-home-cold", tmpdir / "cold-store.db")
    command = [*_ledgerflow_command(), "run", "workcloud-ingest", "--dir", str(empty)]
    times: list[float] = []
    for run in range(runs + 1):
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=tmpdir, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            _fail(f"cold run {run}: {' '.join(command)}", completed)
        times.append(elapsed)
        label = "first (creates Prefect's DB)" if run == 0 else f"{run}/{runs}"
        print(f"# cold run {label}: {elapsed:.2f}s", flush=True)
    return times[0], times[1:]


def measure_warm(runs: int, tmpdir: Path, empty: Path) -> dict[str, object]:
    """Run the in-process measurement in a child process, so its log lines can be captured."""
    env = _environment(tmpdir / "prefect-home-warm", tmpdir / "warm-store.db")
    result = tmpdir / "warm.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--warm-child", "--runs", str(runs),
               "--empty", str(empty), "--result", str(result)]
    completed = subprocess.run(command, cwd=tmpdir, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not result.exists():
        _fail("the warm in-process measurement", completed)
    return json.loads(result.read_text())


def _time_runs(runs: int, empty: str) -> list[float]:
    from flows.workcloud_ingest import workcloud_ingest

    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        workcloud_ingest(directory=empty)
        times.append(time.perf_counter() - started)
    return times


def warm_child(args: argparse.Namespace) -> int:
    """In this process: start the test harness once, then time `runs` flow runs after one untimed call."""
    started = time.perf_counter()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows.workcloud_ingest import workcloud_ingest

    imported = time.perf_counter() - started
    started = time.perf_counter()
    with prefect_test_harness():
        harness = time.perf_counter() - started
        started = time.perf_counter()
        summary = workcloud_ingest(directory=args.empty)
        first = time.perf_counter() - started
        if summary.files:
            raise SystemExit(f"expected an empty folder, the flow reported {summary.files}")
        times = _time_runs(args.runs, args.empty)
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            quiet = _time_runs(args.runs, args.empty)
    Path(args.result).write_text(json.dumps({"imports": imported, "harness": harness, "first": first, "times": times,
                                             "no_heartbeats": quiet}))
    return 0


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="ledgerflow-flow-overhead-") as tmp:
        tmpdir = Path(tmp)
        empty = tmpdir / "empty-exports"
        empty.mkdir()
        first, cold = measure_cold(args.runs, tmpdir, empty)
        warm = measure_warm(args.runs, tmpdir, empty)

    print(f"flow_overhead cold_cli first_run_s={first:.2f} (includes creating Prefect's database)")
    print(f"flow_overhead cold_cli median_s={statistics.median(cold):.2f} min_s={min(cold):.2f} "
          f"max_s={max(cold):.2f} runs={len(cold)}")
    print(f"flow_overhead warm_in_process first_call_s={warm['first']:.3f} imports_s={warm['imports']:.2f} "
          f"test_harness_start_s={warm['harness']:.2f}")
    for label, key in (("heartbeats=on (a deployment's default)", "times"),
                       ("heartbeats=off (an ad hoc command)", "no_heartbeats")):
        runs: list[float] = warm[key]  # type: ignore[assignment]
        print(f"flow_overhead warm_in_process median_s_per_flow_run={statistics.median(runs):.3f} "
              f"min_s={min(runs):.3f} max_s={max(runs):.3f} runs={len(runs)} {label}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the fixed cost of one Prefect flow run of workcloud_ingest on an empty export "
        "folder: the cold CLI command (subprocess) and a warm in-process flow call under prefect_test_harness.",
    )
    parser.add_argument("--runs", type=int, default=5,
                        help="measured runs per figure, after the first/untimed one (default 5)")
    # Hidden: the in-process (warm) measurement's child.
    parser.add_argument("--warm-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--empty", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


if __name__ == "__main__":
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    arguments = parse_args()
    sys.exit(warm_child(arguments) if arguments.warm_child else main(arguments))
