"""Start-up: commands import what they need, flows run without Prefect unless a run is recorded,
and the local Prefect server records the runs of commands while it is up (issue 15)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("prefect", "great_expectations", "pandas", "fitz", "pymupdf")
BANK_FILE = ROOT / "tests" / "data" / "bank" / "swedbank_baltic_ee_noheader_ofxstatement.csv"  # a real export


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "LEDGERFLOW_"))}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def _python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=300)


def _ledgerflow(*args: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=_env(COLUMNS="200", **env),
                          capture_output=True, text=True, timeout=timeout)


def test_the_help_of_every_command_imports_no_heavy_library(tmp_path: Path) -> None:
    result = _python(f"""
        import sys
        import typer
        from typer.testing import CliRunner
        from flows.cli import app

        def paths(command, prefix):
            yield prefix
            if hasattr(command, "commands"):  # a group (typer carries its own click)
                for name, sub in command.commands.items():
                    yield from paths(sub, [*prefix, name])

        runner = CliRunner()
        helped = 0
        for path in paths(typer.main.get_command(app), []):
            result = runner.invoke(app, [*path, "--help"])
            assert result.exit_code == 0 and "Usage:" in result.output, (path, result.output)
            helped += 1
        print(helped, sorted(m for m in {HEAVY!r} if m in sys.modules))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    helped, loaded = result.stdout.split(" ", 1)
    assert int(helped) >= 45  # every group and command of the tree
    assert loaded.strip() == "[]"


def test_read_only_commands_start_no_prefect_machinery(tmp_path: Path) -> None:
    result = _python("""
        import sys
        from typer.testing import CliRunner
        from flows.cli import app

        runner = CliRunner()
        for command in (["db", "status"], ["audit", "verify"], ["quarantine", "list"], ["dlq", "list"],
                        ["invoices", "flagged"], ["alerts", "list"]):
            result = runner.invoke(app, command)
            assert result.exit_code == 0, (command, result.output, result.exception)
        print(sorted(m for m in ("prefect", "great_expectations", "fitz", "pymupdf") if m in sys.modules))
    """, tmp_path, LEDGERFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_flow_command_runs_locally_without_prefect(tmp_path: Path) -> None:
    """No Prefect server: the bank import runs as plain calls, imports no Prefect, stores its rows and
    leaves the run's id in the audit trail."""
    result = _python(f"""
        import sys
        from typer.testing import CliRunner
        from flows.cli import app

        result = CliRunner().invoke(app, ["bank-import", {str(BANK_FILE)!r}, "--json"])
        assert result.exit_code == 0, (result.output, result.exception)
        print(result.output.strip())
        print("prefect" in sys.modules)
    """, tmp_path, LEDGERFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}")
    assert result.returncode == 0, result.stderr
    report, prefect_loaded = result.stdout.strip().splitlines()
    assert (json.loads(report)["imported"], prefect_loaded) == (4, "False")


def _busy(seconds: float) -> subprocess.Popen[bytes]:
    """A process that keeps one core busy for `seconds`, then ends by itself."""
    return subprocess.Popen([sys.executable, "-c", f"import time\nend = time.time() + {seconds}\n"
                                                   "while time.time() < end: pass"])


def test_a_flow_command_completes_on_a_machine_kept_busy(tmp_path: Path) -> None:
    """Four CPU-bound processes on two cores: the WorkCloud ingest is slower, and still completes
    (before, the command's temporary Prefect server could time out starting)."""
    (tmp_path / "exports").mkdir()
    hogs = [_busy(900) for _ in range(4)]
    try:
        result = _ledgerflow("run", "workcloud-ingest", "--dir", str(tmp_path / "exports"), cwd=tmp_path,
                             timeout=800, LEDGERFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}")
        still_busy = [hog.poll() is None for hog in hogs]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert result.returncode == 0, result.stderr
    assert "no exports (*.csv, *.txt) in the folder" in result.stdout
    assert still_busy == [True] * 4  # the whole command ran on the busy machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _api(url: str, path: str, body: dict[str, object]) -> list[dict[str, object]]:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_the_local_server_records_the_runs_of_commands_while_it_is_up(tmp_path: Path) -> None:
    port = _free_port()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    down = _ledgerflow("server", "status", cwd=tmp_path)
    assert down.returncode == 1 and "no Prefect server is running" in down.stdout
    started = _ledgerflow("server", "start", "--port", str(port), cwd=tmp_path, timeout=620)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        api = f"http://127.0.0.1:{port}/api"
        assert f"API {api}" in started.stdout.replace("\n", "")
        status = _ledgerflow("server", "status", cwd=tmp_path)
        assert status.returncode == 0 and "Prefect server up" in status.stdout
        again = _ledgerflow("server", "start", "--port", str(port), cwd=tmp_path)
        assert again.returncode == 0 and "already running" in again.stdout

        exports = tmp_path / "exports"
        exports.mkdir()
        ingested = _ledgerflow("run", "workcloud-ingest", "--dir", str(exports), cwd=tmp_path,
                               LEDGERFLOW_DATABASE_URL=store)
        assert ingested.returncode == 0, ingested.stderr

        runs = _api(api, "/flow_runs/filter", {"flows": {"name": {"any_": ["workcloud_ingest"]}}})
        assert [(run["state_type"], run["parameters"]["directory"]) for run in runs] == [("COMPLETED", str(exports))]
        tasks = _api(api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}})
        assert [task["name"].rsplit("-", 1)[0] for task in tasks] == ["read-workcloud-exports"]
        artifacts = _api(api, "/artifacts/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}})
        assert [(artifact["type"], artifact["key"]) for artifact in artifacts] == [("table", "workcloud-ingest-demo")]
    finally:
        stopped = _ledgerflow("server", "stop", cwd=tmp_path)
    assert stopped.returncode == 0 and "stopped the Prefect server" in stopped.stdout
    after = _ledgerflow("run", "workcloud-ingest", "--dir", str(tmp_path / "exports"), cwd=tmp_path,
                        LEDGERFLOW_DATABASE_URL=store)
    assert after.returncode == 0, after.stderr  # runs locally again, with no server to record on


def _in_task_run() -> bool:
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import TaskRunContext

    return TaskRunContext.get() is not None


@pytest.mark.parametrize("recorded", [False, True], ids=["local", "Prefect"])
def test_a_step_is_a_task_run_only_inside_a_recorded_flow_run(recorded: bool, request: pytest.FixtureRequest) -> None:
    from tasks.runtime import flow, run_id, task

    calls: list[list[int]] = []

    @task(name="double")
    def double(values: list[int]) -> tuple[list[int], bool]:
        calls.append(values)
        return [2 * v for v in values], _in_task_run()

    @flow(name="runtime_test")
    def doubling(values: list[int]) -> tuple[list[int], bool, str | None]:
        doubled, as_task_run = double(values)
        again, _ = double(values)  # the same input twice: steps read and write the store, never cached
        assert again == doubled
        return doubled, as_task_run, run_id()

    if recorded:
        request.getfixturevalue("prefect_runs")
    values, as_task_run, run = doubling([1, 2, 3])
    assert (values, as_task_run, len(calls)) == ([2, 4, 6], recorded, 2)
    assert run is not None and len(run) == 36
    assert double([5]) == ([10], False)  # outside any flow: a plain call
