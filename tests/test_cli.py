"""The command line: every command explains itself."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app

COMMANDS = [[], ["db"], ["db", "upgrade"], ["db", "status"], ["run"], ["run", "workcloud-ingest"],
            ["run", "import-sync"], ["run", "export"], ["connect"], ["connect", "fortnox"], ["dlq"], ["dlq", "list"],
            ["dlq", "show"], ["dlq", "retry"], ["dlq", "resolve"], ["quarantine"], ["quarantine", "list"],
            ["quarantine", "show"], ["quarantine", "resolve"], ["audit"], ["audit", "verify"], ["sandbox"],
            ["sandbox", "workcloud-export"], ["sandbox", "bank-export"], ["sandbox", "serve"], ["sandbox", "token"], ["demo"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ledgerflow")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_db_upgrade_and_status_on_a_fresh_store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)
    runner = CliRunner()
    upgrade = runner.invoke(app, ["db", "upgrade"])
    status = runner.invoke(app, ["db", "status"])
    assert upgrade.exit_code == 0, upgrade.output
    assert "0008 -> 0008" in upgrade.output
    assert status.exit_code == 0, status.output
    assert "@ 0008" in status.output.replace("\n", "")
    assert "34 tables, all empty" in status.output


def test_sandbox_writes_three_exports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["sandbox", "workcloud-export", "--out", str(tmp_path), "--time-reports", "5"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["projektregister.csv", "tidrapporter.csv", "workorders.csv"]
    assert len((tmp_path / "tidrapporter.csv").read_text(encoding="utf-8").splitlines()) == 6


def test_workcloud_ingest_refuses_a_missing_folder_before_starting_prefect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["run", "workcloud-ingest", "--dir", str(tmp_path / "nowhere")],
                                env={"COLUMNS": "400"})  # rich would wrap the long path in its error box
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for --dir: WorkCloud export folder {tmp_path / 'nowhere'} does not exist" in said
    # every way the folder is chosen: the option, the deployment's parameter and the setting
    assert "--dir" in said and "deployment parameter `directory`" in said and "LEDGERFLOW_WORKCLOUD_DIR" in said


def test_workcloud_ingest_of_an_empty_folder_says_so(tmp_path, store_env: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["run", "workcloud-ingest", "--dir", str(tmp_path), "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "WorkCloud ingest, tenant acme: no exports (*.csv, *.txt) in the folder" in result.output


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("LEDGERFLOW_WORKERS", "-1", "setting refused: LEDGERFLOW_WORKERS='-1': Input should be greater than or equal to 0"),
    ("LEDGERFLOW_WORKERS", "abc", "setting refused: LEDGERFLOW_WORKERS='abc': Input should be a valid integer"),
    ("LEDGERFLOW_HTTP_ATTEMPTS", "0",
     "setting refused: LEDGERFLOW_HTTP_ATTEMPTS='0': Input should be greater than or equal to 1"),
    ("LEDGERFLOW_JURISDICTION", "XX", "setting refused: LEDGERFLOW_JURISDICTION='XX': Input should be 'SE' or 'DK'"),
    ("LEDGERFLOW_TENANT_JURISDICTIONS", '{"acme": "NO"}',
     "setting refused: LEDGERFLOW_TENANT_JURISDICTIONS='NO' (at acme): Input should be 'SE' or 'DK'"),
    ("LEDGERFLOW_TENANT_JURISDICTIONS", "notjson", "setting refused: LEDGERFLOW_TENANT_JURISDICTIONS: not valid JSON"),
])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path, variable: str, value: str, said: str) -> None:  # type: ignore[no-untyped-def]
    """Before, each of these ended in a pydantic traceback (or, for the jurisdiction, was accepted and
    failed later in retention)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERFLOW_")}
    env.update({variable: value, "LEDGERFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
                "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    result = subprocess.run([sys.executable, "-m", "flows.cli", "db", "status"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(said)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr + result.stdout


def test_a_missing_bank_file_is_one_line_and_nothing_is_imported(tmp_path, store_env: str) -> None:  # type: ignore[no-untyped-def]
    """Before, the flow raised FileNotFoundError: a traceback, after the files named before it were imported."""
    import sqlalchemy as sa

    from connectors.sandbox.bank import write_swedbank_company
    from models.store import open_store
    from models.tables import bank_imports

    good = write_swedbank_company(tmp_path / "swedbank.csv", 3)
    result = CliRunner().invoke(app, ["bank-import", str(good), str(tmp_path / "saknas.csv")], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert f"Invalid value for FILES: {tmp_path / 'saknas.csv'} does not exist" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    with open_store(store_env).connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(bank_imports)).scalar_one() == 0

