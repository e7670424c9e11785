"""prefect.yaml against a real Prefect server: every deployment, its schedule and typed parameters, one run,
and two workers whose runs share one tenant's Fortnox rate limit through the store.

One `prefect server start` on 127.0.0.1 (its own PREFECT_HOME and SQLite, analytics off) serves the
whole module. The CLI is used exactly as docs/deployments.md tells people to: `prefect work-pool
create`, `prefect deploy --all`, `prefect deployment run ... --watch` and `prefect worker start
--pool ledgerflow --run-once`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).with_name("prefect"))
STOCKHOLM = "Europe/Stockholm"

# The issue's schedule table, written out here rather than read from prefect.yaml, so a wrong
# edit of the file fails the test: deployment -> (flow file, cron in Stockholm time or None, parameters).
EXPECTED: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "workcloud-ingest-daily": ("flows/deployments.py", "15 7 * * *", {}),
    "import-sync-hourly": ("flows/deployments.py", "5 * * * *", {"system": "fortnox"}),
    "supplier-invoice-validation": ("flows/deployments.py", "*/5 * * * *", {}),
    "export-on-demand": ("flows/deployments.py", None, {"system": "fortnox", "entities": ["customer", "invoice"]}),
    "bank-import-on-demand": ("flows/deployments.py", None,
                              {"paths": ["var/bank"], "bank": "auto", "dry_run": False, "allow_duplicates": False}),
    "reconciliation-daily": ("flows/deployments.py", "0 6 * * *", {"kind": "daily"}),
    "reconciliation-weekly": ("flows/deployments.py", "30 6 * * 1", {"kind": "weekly"}),
    "reconciliation-monthly": ("flows/deployments.py", "0 7 1 * *", {"kind": "monthly"}),
    "alert-check": ("flows/deployments.py", "*/15 * * * *", {}),
    "retention-monthly": ("flows/deployments.py", "0 3 1 * *", {"dry_run": True}),
}
FLOW_NAMES = {"workcloud-ingest-daily": "workcloud_ingest", "import-sync-hourly": "import_sync",
              "supplier-invoice-validation": "supplier_invoice_validation", "export-on-demand": "export",
              "bank-import-on-demand": "bank_import", "reconciliation-daily": "reconciliation",
              "reconciliation-weekly": "reconciliation", "reconciliation-monthly": "reconciliation",
              "alert-check": "alert_check", "retention-monthly": "retention"}

SERVER_START_TIMEOUT = 90
CLI_TIMEOUT = 120
RUN_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a subprocess started here, and its children (it leads its own process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no output)"


@dataclass
class PrefectServer:
    api_url: str
    env: dict[str, str]
    logs: Path

    def cli(self, *args: str, timeout: float = CLI_TIMEOUT, env: dict[str, str] | None = None) -> str:
        """Run the prefect CLI from the repository root against this server; fail with its output."""
        try:
            done = subprocess.run([PREFECT, *args], cwd=ROOT, env=env or self.env, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as error:
            pytest.fail(f"`prefect {' '.join(args)}` did not finish in {timeout} s:\n{error.stdout}\n{error.stderr}")
        if done.returncode != 0:
            pytest.fail(f"`prefect {' '.join(args)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api_url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def patch(self, path: str, body: dict[str, Any], tries: int = 10) -> None:
        """PATCH, tried again while the server answers 503 (its SQLite busy with the workers' runs), at most `tries` times."""
        for attempt in range(tries):
            response = httpx.patch(f"{self.api_url}{path}", json=body, timeout=10)
            if response.status_code != 503 or attempt == tries - 1:
                response.raise_for_status()
                return
            time.sleep(1)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api_url}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(home / "home"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
    })
    logs = home / "server.log"
    with logs.open("wb") as out:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--analytics-off"],
            cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"prefect server exited with {server.returncode} while starting:\n{_tail(logs)}")
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server on port {port} not healthy after {SERVER_START_TIMEOUT} s:\n{_tail(logs)}")
            time.sleep(0.5)
        yield PrefectServer(api_url, env, logs)
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def deployed(prefect_server: PrefectServer) -> dict[str, dict[str, Any]]:
    """`prefect work-pool create` + `prefect deploy --all`; the deployments as the API returns them, by name."""
    prefect_server.cli("work-pool", "create", "ledgerflow", "--type", "process")
    prefect_server.cli("deploy", "--all", "--no-prompt")  # prefect.yaml of the repository root (the cwd)
    return {d["name"]: d for d in prefect_server.post("/deployments/filter", {"limit": 200})}


def test_prefect_yaml_has_every_deployment_of_the_issue() -> None:
    document = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    entries = {d["name"]: d for d in document["deployments"]}
    assert set(entries) == set(EXPECTED)
    for name, (file, when, parameters) in EXPECTED.items():
        entry = entries[name]
        assert entry["entrypoint"].split(":")[0] == file
        assert entry["parameters"] == parameters, name
        assert entry["work_pool"]["name"] == "ledgerflow"
        if when is None:
            assert not entry.get("schedules"), f"{name} must be on demand only"
        else:
            assert [(s.get("cron"), s["timezone"]) for s in entry["schedules"]] == [(when, STOCKHOLM)], name


def test_deploy_all_registers_every_deployment_with_its_schedule_and_parameters(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]],
) -> None:
    assert set(deployed) == set(EXPECTED)
    assert prefect_server.get("/work_pools/ledgerflow")["type"] == "process"
    flows = {f["id"]: f["name"] for f in prefect_server.post("/flows/filter", {})}
    for name in EXPECTED:
        deployment = deployed[name]
        _, when, parameters = EXPECTED[name]
        assert flows[deployment["flow_id"]] == FLOW_NAMES[name]
        assert deployment["work_pool_name"] == "ledgerflow"
        assert deployment["parameters"] == parameters, name
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]
        schedules = [(s["schedule"].get("cron"), s["schedule"].get("timezone"), s["active"])
                     for s in deployment["schedules"]]
        assert schedules == ([] if when is None else [(when, STOCKHOLM, True)]), name
        assert deployment["enforce_parameter_schema"] is True
        if deployment["parameters"]:
            assert set(deployment["parameters"]) <= set(deployment["parameter_openapi_schema"]["properties"]), name

    # The documented name lookup, and the types the UI turns into form fields.
    bank = prefect_server.get("/deployments/name/bank_import/bank-import-on-demand")
    fields = bank["parameter_openapi_schema"]["properties"]
    assert fields["paths"]["type"] == "array" and fields["paths"]["items"] == {"type": "string"}  # list[str]
    assert fields["bank"]["enum"] == ["auto", "ica", "swedbank"]  # Literal: a drop-down
    assert fields["dry_run"]["type"] == "boolean" and fields["allow_duplicates"]["type"] == "boolean"
    assert bank["parameter_openapi_schema"]["required"] == ["paths"]
    entities = deployed["export-on-demand"]["parameter_openapi_schema"]["properties"]["entities"]
    assert {"type": "array", "items": {"type": "string"}} in entities["anyOf"]  # list[str] | None
    kind = deployed["reconciliation-daily"]["parameter_openapi_schema"]["properties"]["kind"]
    assert kind["enum"] == ["daily", "weekly", "monthly"]
    assert deployed["reconciliation-daily"]["parameter_openapi_schema"]["required"] == ["kind"]
    assert deployed["retention-monthly"]["parameter_openapi_schema"]["properties"]["dry_run"]["type"] == "boolean"


def _cron_matches(cron: str, when: dt.datetime) -> bool:
    """Whether a local time fits a 5-field cron of numbers, `*` and `*/n` (all prefect.yaml uses)."""
    def fits(field: str, value: int) -> bool:
        if field == "*":
            return True
        if field.startswith("*/"):
            return value % int(field[2:]) == 0
        return int(field) == value

    minute, hour, day, month, weekday = cron.split()
    return (fits(minute, when.minute) and fits(hour, when.hour) and fits(day, when.day) and fits(month, when.month)
            and fits(weekday, when.isoweekday() % 7))


def test_the_server_schedules_runs_at_stockholm_times(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]],
) -> None:
    scheduled = {deployed[name]["id"]: name for name in EXPECTED if EXPECTED[name][1] is not None}
    runs: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + 30
    while set(runs) != set(scheduled.values()):
        if "Can't evaluate bulk DML" in prefect_server.logs.read_text(errors="replace"):
            pytest.fail(f"the server's scheduler fails:\n{_tail(prefect_server.logs, 25)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no scheduled runs after 30 s for {sorted(set(scheduled.values()) - set(runs))}:\n"
                        f"{_tail(prefect_server.logs, 25)}")
        time.sleep(1)
        runs = {}
        for run in prefect_server.post("/flow_runs/filter", {"flow_runs": {
                "deployment_id": {"any_": list(scheduled)}, "state": {"type": {"any_": ["SCHEDULED"]}}}}):
            runs.setdefault(scheduled[run["deployment_id"]], []).append(run)
    for name, scheduled_runs in runs.items():
        cron = EXPECTED[name][1]
        for run in scheduled_runs:
            local = dt.datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo(STOCKHOLM))
            assert _cron_matches(cron, local), f"{name}: a run at {local:%a %Y-%m-%d %H:%M %Z} does not fit {cron}"
            assert run["parameters"] == EXPECTED[name][2]


def test_a_triggered_run_completes_on_a_process_worker(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]], tmp_path: Path,
) -> None:
    statement = tmp_path / "ica.csv"
    statement.write_text("Datum;Belopp;Beskrivning;Saldo\n2025-01-15;-125,50;ICA Supermarket;12500,00\n"
                         "2025-01-16;3500,00;Lön;15999,50\n", encoding="utf-8")
    env = {**prefect_server.env, "LEDGERFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'ledgerflow.db'}",
           "LEDGERFLOW_TENANT": "acme", "LEDGERFLOW_KEY_FILE": str(tmp_path / "ledgerflow.key")}
    deployment_id = deployed["bank-import-on-demand"]["id"]
    # Pausing deletes the scheduled deployments' auto-scheduled runs, so the worker gets this run only.
    for name in EXPECTED:
        if EXPECTED[name][1] is not None:
            prefect_server.post(f"/deployments/{deployed[name]['id']}/pause_deployment", {})
    watch_log, worker_log = tmp_path / "watch.log", tmp_path / "worker.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with watch_log.open("wb") as out:  # the CI recipe: trigger, then watch until the run is final
            watch = subprocess.Popen(
                [PREFECT, "deployment", "run", "bank_import/bank-import-on-demand", "--param", f'paths=["{statement}"]',
                 "--param", "bank=ica", "--param", "account=ica-1234", "--param", "dry_run=true",
                 "--watch", "--watch-timeout", str(RUN_TIMEOUT)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        processes.append(watch)
        deadline = time.monotonic() + 30
        while not (runs := prefect_server.post("/flow_runs/filter",
                                               {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}})):
            if watch.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`prefect deployment run` created no flow run:\n{_tail(watch_log)}")
            time.sleep(0.5)
        (run,) = runs
        waiting = prefect_server.post("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})
        assert [r["id"] for r in waiting] == [run["id"]], "other runs would compete for the worker"
        assert run["parameters"] == {"paths": [str(statement)], "bank": "ica", "account": "ica-1234",
                                     "dry_run": True, "allow_duplicates": False}

        with worker_log.open("wb") as out:
            worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "ledgerflow", "--run-once"],
                                      cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        processes.append(worker)
        try:
            worker.wait(timeout=RUN_TIMEOUT)
            watch.wait(timeout=30)
        except subprocess.TimeoutExpired:
            state = prefect_server.get(f"/flow_runs/{run['id']}")["state"]
            pytest.fail(f"flow run not finished in {RUN_TIMEOUT} s (state {state and state['type']}):\n"
                        f"worker:\n{_tail(worker_log)}\nwatch:\n{_tail(watch_log)}")
        final = prefect_server.get(f"/flow_runs/{run['id']}")
        assert final["state"]["type"] == "COMPLETED", (
            f"{final['state']}\nworker:\n{_tail(worker_log, 80)}\nwatch:\n{_tail(watch_log)}")
        assert watch.returncode == 0, _tail(watch_log)
        assert worker.returncode == 0, _tail(worker_log)
        artifacts = prefect_server.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
        kinds = {a["type"] for a in artifacts}
        assert {"markdown", "progress"} <= kinds, artifacts
        summary = next(a for a in artifacts if a["type"] == "markdown")["data"]
        assert "provkörning" in summary and "ica.csv" in summary
    finally:
        for process in processes:
            _stop(process)


# --------------------------------------------------------------------------- one Fortnox budget, two workers
SYNC_TIMEOUT = 120


def _flow_run_window(run: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.fromisoformat(run["start_time"]), dt.datetime.fromisoformat(run["end_time"])


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_process_workers_syncing_one_tenant_at_fortnox_real_limit_meet_no_429(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]], database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15: two `prefect worker start` processes each run an import sync of one tenant at the same
    time, against a Fortnox sandbox at the real 25 requests per 5 s per token. Their flow runs are
    processes of their own that share only the store (PostgreSQL), where the limiter keeps the
    token's windows: the sandbox sees no request over the limit and no 429, and every request once."""
    from connectors.sandbox.fortnox import FortnoxSandbox
    from flows.connections import connect_fortnox, sandbox_code, sandbox_endpoints
    from flows.settings import Settings
    from models.secrets import SecretCipher
    from models.store import open_store
    from models.tables import sync_logs

    started = time.monotonic()
    key = SecretCipher.new_key()
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", key)
    settings = Settings()
    deployment = deployed["import-sync-hourly"]
    for name in EXPECTED:  # the workers get these runs only (pausing deletes the auto-scheduled ones)
        if EXPECTED[name][1] is not None:
            prefect_server.post(f"/deployments/{deployed[name]['id']}/pause_deployment", {})
    # prefect.yaml holds the hourly sync to one run at a time (concurrency_limit 1), so two of its runs
    # never overlap in production. Lifted to 2 for this test, they stand for any two processes calling
    # the tenant's token at once (the sync beside the invoice validation, or beside an ad hoc run).
    assert deployment["global_concurrency_limit"]["limit"] == 1
    prefect_server.patch(f"/deployments/{deployment['id']}", {"concurrency_limit": 2})
    assert prefect_server.get(f"/deployments/{deployment['id']}")["global_concurrency_limit"]["limit"] == 2
    # 40 supplier invoices and 40 invoices, each fetched whole after its list: 41 requests a sync, more
    # than one window's 25, so two syncs each held to 25 per 5 s by a limiter of its own would send 50.
    sandbox = FortnoxSandbox(seed=7, supplier_invoices=40, invoices=40)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        sandbox.start()
        sandbox.state.rate_limit = 25  # Fortnox's real limit (per sliding 5 s, per access token)
        connect_fortnox(settings, open_store(database_url), "acme",
                        sandbox_code(sandbox.url, settings.fortnox_redirect_uri), sandbox_endpoints(sandbox.url))
        counts = sandbox.state.counts()
        datasets = {"supplier_invoices": ("supplierinvoices", "supplier_invoice"), "invoices": ("invoices", "invoice")}
        # One work queue per worker, so each takes exactly one run: two workers polling one queue race
        # for both runs, and the first to claim them runs both (each in a process of its own).
        runs = {}
        for dataset in datasets:
            run = prefect_server.post(f"/deployments/{deployment['id']}/create_flow_run", {
                "parameters": {"tenant": "acme", "datasets": [dataset]}, "work_queue_name": f"sync-{dataset}"})
            assert run["work_queue_name"] == f"sync-{dataset}"
            assert run["parameters"] == {"system": "fortnox", "tenant": "acme", "datasets": [dataset]}
            runs[dataset] = run
        sandbox.state.reset_stats()  # the OAuth exchange above is not the syncs'

        env = {**prefect_server.env, "PYTHONPATH": str(ROOT), "LEDGERFLOW_DATABASE_URL": database_url,
               "LEDGERFLOW_ENCRYPTION_KEY": key, "LEDGERFLOW_TENANT": "acme"}
        logs = {dataset: tmp_path / f"worker-{dataset}.log" for dataset in datasets}
        for dataset in datasets:  # both at once
            with logs[dataset].open("wb") as out:
                processes.append(subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", "ledgerflow", "--work-queue", f"sync-{dataset}",
                     "--run-once"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + SYNC_TIMEOUT
        for worker in processes:
            try:
                worker.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                states = {d: (prefect_server.get(f"/flow_runs/{r['id']}")["state"] or {}).get("type")
                          for d, r in runs.items()}
                pytest.fail(f"the workers did not finish in {SYNC_TIMEOUT} s (runs {states}):\n"
                            + "\n".join(f"{d}:\n{_tail(log)}" for d, log in logs.items()))
        finals = {dataset: prefect_server.get(f"/flow_runs/{run['id']}") for dataset, run in runs.items()}
        for dataset, final in finals.items():
            assert final["state"]["type"] == "COMPLETED", f"{dataset}: {final['state']}\n{_tail(logs[dataset], 80)}"
        assert [worker.returncode for worker in processes] == [0, 0], {d: _tail(log) for d, log in logs.items()}
        stats = sandbox.state.stats()
    finally:
        for process in processes:
            _stop(process)
        sandbox.stop()
        prefect_server.patch(f"/deployments/{deployment['id']}", {"concurrency_limit": 1})

    # Two workers, two flow-run processes, at the same time.
    windows = {dataset: _flow_run_window(final) for dataset, final in finals.items()}
    overlap = (min(end for _, end in windows.values()) - max(start for start, _ in windows.values())).total_seconds()
    assert overlap > 0, windows
    assert len({final["infrastructure_pid"] for final in finals.values()}) == 2
    for dataset, other in (("supplier_invoices", "invoices"), ("invoices", "supplier_invoices")):
        worker_log = logs[dataset].read_text(errors="replace")  # each worker ran its own run, not the other's
        assert runs[dataset]["id"] in worker_log and runs[other]["id"] not in worker_log, worker_log[-3000:]

    # What the sandbox received: every request once, none over the limit, so no 429 and no retry.
    expected = {}
    for table, _ in datasets.values():
        expected[f"GET /3/{table}"] = 1  # one page of up to 500: the list of what changed
        expected[f"GET /3/{table}/{{id}}"] = counts[table]  # then each record whole
    total = sum(expected.values())
    assert total == 82
    assert stats["by_route"] == expected, stats
    assert stats["by_status"] == {"200": total}, stats
    assert stats["rate_limit_violations"] == 0, stats
    assert stats["max_requests_in_5s_window"] <= 25, stats
    assert stats["requests"] == total

    # And each flow run's own account of it, in its sync log line.
    with open_store(database_url).connect() as connection:
        lines = {row.flow_run_id: row for row in connection.execute(sa.select(sync_logs))}
    for dataset, (table, entity) in datasets.items():
        line = lines[runs[dataset]["id"]]
        assert line.data_type == entity and line.status in ("success", "partial"), line  # partial: GX held some back
        assert line.details["listed"] == line.details["inserted"] + line.details["quarantined"] == counts[table]
        assert line.details["api"]["fortnox"]["requests"] == {"200": counts[table] + 1}, line.details
    print(f"{total} requests in two overlapping runs ({overlap:.1f} s together), "
          f"max {stats['max_requests_in_5s_window']} in 5 s, {time.monotonic() - started:.1f} s")


def test_serve_all_builds_the_deployments_of_prefect_yaml() -> None:
    from flows.serve import build_deployments

    deployments, missing = build_deployments()
    assert missing == []
    # Named apart from `prefect deploy`'s and without a work pool, so neither replaces the other's.
    assert {d.name for d in deployments} == {f"{name}-serve" for name in EXPECTED}
    assert {d.work_pool_name for d in deployments} == {None}
    built = {d.name.removesuffix("-serve"): d for d in deployments}
    for name, deployment in built.items():
        _, when, parameters = EXPECTED[name]
        schedules = [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules or []]
        assert schedules == ([] if when is None else [(when, STOCKHOLM, True)]), name
        assert deployment.parameters == parameters, name
        assert deployment.flow_name == FLOW_NAMES[name]
        assert deployment.entrypoint == f"{EXPECTED[name][0].removesuffix('.py').replace('/', '.')}.{FLOW_NAMES[name]}"
    for entry in yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]:
        deployment = built[entry["name"]]
        assert deployment.tags == entry["tags"]
        assert deployment.description == entry["description"]
        assert deployment.concurrency_limit == entry.get("concurrency_limit")
        assert [s.slug for s in deployment.schedules or []] == [s["slug"] for s in entry.get("schedules", [])]


def test_the_server_refuses_a_reconciliation_date_that_is_not_a_date(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]],
) -> None:
    deployment = deployed["reconciliation-daily"]
    date = deployment["parameter_openapi_schema"]["properties"]["date"]
    assert any(s.get("format") == "date" for s in date["anyOf"])  # the UI's date picker
    done = subprocess.run([PREFECT, "deployment", "run", "reconciliation/reconciliation-daily", "--param",
                           "date=not-a-date"], cwd=ROOT, env=prefect_server.env, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode != 0, done.stdout
    assert "date" in done.stdout + done.stderr
    runs = prefect_server.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}})
    assert [r["parameters"] for r in runs if "date" in r["parameters"]] == []


# --------------------------------------------------------------------------- ledgerflow serve


def _ledgerflow_env(server: PrefectServer, folder: Path) -> dict[str, str]:
    """The server's environment for our own command, run from this checkout (PYTHONPATH)."""
    return {**server.env, "PYTHONPATH": str(ROOT), "LEDGERFLOW_DATABASE_URL": f"sqlite:///{folder / 'ledgerflow.db'}",
            "LEDGERFLOW_TENANT": "acme", "LEDGERFLOW_KEY_FILE": str(folder / "ledgerflow.key")}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    folder: Path  # its working directory, with serve.out and serve.err
    deployment: dict[str, Any]  # bank-import-on-demand as serve registered it


@pytest.fixture(scope="module")
def served(prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`ledgerflow serve -d bank-import-on-demand` after `prefect deploy --all`, until it has registered."""
    folder = tmp_path_factory.mktemp("serve")
    with (folder / "serve.out").open("wb") as out, (folder / "serve.err").open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "-d", "bank-import-on-demand"],
                                   cwd=folder, env=_ledgerflow_env(prefect_server, folder), stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"ledgerflow serve exited with {process.returncode}:\n{_tail(folder / 'serve.err')}")
            try:
                deployment = prefect_server.get("/deployments/name/bank_import/bank-import-on-demand-serve")
                break
            except httpx.HTTPStatusError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ledgerflow serve registered nothing in {SERVER_START_TIMEOUT} s:\n"
                            f"{_tail(folder / 'serve.err')}")
            time.sleep(0.5)
        yield Served(process, folder, deployment)
    finally:
        _stop(process)


def test_serve_registers_its_own_deployments_and_leaves_the_work_pools_alone(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]], served: Served,
) -> None:
    """Issue 15: served under the work pool's name, a deployment kept the pool but lost its working
    directory, and a process worker then ran it in its own directory (`var/bank does not exist`)."""
    assert served.deployment["work_pool_name"] is None  # no worker ever picks up its runs
    assert not served.deployment["pull_steps"]
    assert served.deployment["entrypoint"] == "flows.deployments.bank_import"
    assert served.deployment["parameters"] == EXPECTED["bank-import-on-demand"][2]
    mine = prefect_server.get("/deployments/name/bank_import/bank-import-on-demand")
    assert mine["id"] == deployed["bank-import-on-demand"]["id"]
    assert mine["work_pool_name"] == "ledgerflow"
    assert mine["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]


def test_sigterm_stops_serve_during_a_run_without_a_coroutine_left_unawaited(
    prefect_server: PrefectServer, served: Served,
) -> None:
    from connectors.sandbox.bank import write_bank_exports

    statements = write_bank_exports(served.folder / "bank", rows=20_000)  # a dry run long enough to be stopped
    run = prefect_server.post(f"/deployments/{served.deployment['id']}/create_flow_run",
                              {"parameters": {"paths": [str(p) for p in statements], "dry_run": True}})
    deadline = time.monotonic() + RUN_TIMEOUT
    while (state := prefect_server.get(f"/flow_runs/{run['id']}")["state"]["type"]) in ("SCHEDULED", "PENDING"):
        if served.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the served run did not start (state {state}):\n{_tail(served.folder / 'serve.err')}")
        time.sleep(0.2)
    served.process.send_signal(signal.SIGTERM)  # as a service manager stops it: the process, not its group
    try:
        served.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ledgerflow serve did not stop on SIGTERM:\n{_tail(served.folder / 'serve.err')}")
    errors = (served.folder / "serve.err").read_text(errors="replace")
    assert "RuntimeWarning" not in errors and "never awaited" not in errors, errors[-3000:]
    assert served.process.returncode == 0, errors[-3000:]
    final = prefect_server.get(f"/flow_runs/{run['id']}")["state"]["type"]
    assert final in ("CANCELLED", "COMPLETED"), f"state {state} when stopped, then {final}:\n{errors[-3000:]}"
    print(f"stopped in state {state}, run ended {final}")


def test_serve_refuses_what_a_worker_already_runs_on_schedule(
    prefect_server: PrefectServer, deployed: dict[str, dict[str, Any]], tmp_path: Path,
) -> None:
    twin = deployed["alert-check"]
    prefect_server.post(f"/deployments/{twin['id']}/resume_deployment", {})
    try:
        done = subprocess.run([sys.executable, "-m", "flows.cli", "serve", "-d", "alert-check"], cwd=tmp_path,
                              env=_ledgerflow_env(prefect_server, tmp_path), capture_output=True, text=True,
                              timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        prefect_server.post(f"/deployments/{twin['id']}/pause_deployment", {})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "alert_check/alert-check: deployed to a work pool" in done.stderr
    with pytest.raises(httpx.HTTPStatusError):
        prefect_server.get("/deployments/name/alert_check/alert-check-serve")
