"""Bank import end to end: the duplicate rule of seed 004 §5.3, dry runs, the import log and --json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.bank_import import bank_import, statement_files
from flows.cli import app
from models.store import open_store
from models.tables import ENTITIES, bank_imports

DATA = Path(__file__).parent / "data" / "bank"
FOUR_COFFEES = DATA / "swedbank_baltic_ee_noheader_ofxstatement.csv"  # one row repeated four times
ICA_HEADER = "Datum;Belopp;Beskrivning;Saldo\n"
ICA_ROWS = ["2025-01-15;-125,50;ICA Supermarket;12500,00", "2025-01-15;-125,50;ICA Supermarket;12374,50",
            "2025-01-16;3500,00;Lön;15874,50", "2025-01-17;-45,00;Netflix AB;15829,50",
            "2025-01-18;-300,00;Apoteket;15529,50"]


def stored(url: str) -> int:
    with open_store(url).connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(ENTITIES["bank_transaction"].table)).scalar_one()


def test_four_identical_rows_are_four_transactions_once_and_duplicates_on_reimport(store_env: str, tmp_path: Path) -> None:
    path = tmp_path / FOUR_COFFEES.name
    shutil.copy(FOUR_COFFEES, path)

    first = bank_import([str(path)])[0]
    again = bank_import([str(path)])[0]

    assert (first.bank, first.format, first.rows, first.imported, first.duplicates) == (
        "swedbank", "swedbank-baltic", 4, 4, 0)
    assert (again.imported, again.duplicates) == (0, 4)
    assert stored(store_env) == 4
    with open_store(store_env).connect() as connection:
        log = connection.execute(sa.select(bank_imports.c.imported, bank_imports.c.duplicates, bank_imports.c.rows)
                                 .order_by(bank_imports.c.imported_at)).all()
    assert [tuple(row) for row in log] == [(4, 0, 4), (0, 4, 4)]


def test_an_overlapping_later_export_imports_only_what_is_new(store_env: str, tmp_path: Path) -> None:
    (tmp_path / "januari-1.csv").write_text(ICA_HEADER + "\n".join(ICA_ROWS[:3]) + "\n", encoding="utf-8")
    (tmp_path / "januari-2.csv").write_text(ICA_HEADER + "\n".join(ICA_ROWS[1:]) + "\n", encoding="cp1252")

    first = bank_import([str(tmp_path / "januari-1.csv")], account="ica-1234")[0]
    second = bank_import([str(tmp_path / "januari-2.csv")], account="ica-1234")[0]

    assert (first.imported, first.duplicates) == (3, 0)
    # The second export repeats one of the two equal purchases of the 15th and the salary: both are
    # stored already (the first purchase with that key is the same one); Netflix and Apoteket are new.
    assert (second.imported, second.duplicates) == (2, 2)
    assert stored(store_env) == 5
    assert (second.income_total, second.expense_total, second.net_total) == ("0.00", "-345.00", "-345.00")


def test_allow_duplicates_and_dry_run(store_env: str, tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text(ICA_HEADER + "\n".join(ICA_ROWS) + "\n", encoding="utf-8")
    dry = bank_import([str(path)], account="a", dry_run=True)[0]
    assert (dry.imported, stored(store_env)) == (5, 0)

    bank_import([str(path)], account="a")
    forced = bank_import([str(path)], account="a", allow_duplicates=True)[0]
    forced_again = bank_import([str(path)], account="a", allow_duplicates=True)[0]

    assert (forced.imported, forced.duplicates) == (5, 0)
    assert (forced_again.imported, forced_again.duplicates) == (0, 5)
    assert stored(store_env) == 10
    assert (dry.income_count, dry.expense_count, dry.income_total, dry.net_total) == (1, 4, "3500.00", "2904.00")


def test_json_output_has_exactly_the_documented_keys_and_errors_keep_their_rows(store_env: str, tmp_path: Path) -> None:
    path = tmp_path / "fel.csv"
    path.write_text(ICA_HEADER + ICA_ROWS[0] + "\n2025-13-45;-10,00;Fel datum;1,00\n2025-01-19;abc;Fel belopp;1,00\n",
                    encoding="utf-8")

    result = CliRunner().invoke(app, ["bank-import", str(path), "--account", "a", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert set(report) == {"file", "bank", "format", "rows", "imported", "duplicates", "errors", "warnings",
                           "income_total", "expense_total", "net_total", "income_count", "expense_count"}
    assert (report["bank"], report["rows"], report["imported"], report["net_total"]) == ("ica", 3, 1, "-125.50")
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "DATE_INVALID"), (4, "AMOUNT_INVALID")]


def test_a_file_that_is_no_bank_export_fails_with_a_file_error(store_env: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bank-import", str(path)])
    assert result.exit_code == 1
    assert "UNKNOWN_FORMAT" in result.output


def test_progress_is_reported_per_step_and_reaches_every_row(store_env: str, tmp_path: Path) -> None:
    """What the terminal bar and the Prefect progress artifact are fed: reading, checking, storing."""
    from connectors.sandbox.bank import write_swedbank_company
    from tasks.progress import listening

    path = write_swedbank_company(tmp_path / "stor.csv", 45_000)
    seen: list[tuple[str, int, int]] = []
    with listening(lambda step, done, total: seen.append((step, done, total))):
        report = bank_import([str(path)])[0]

    assert report.imported == 45_000
    assert seen[0] == ("läser stor.csv", 0, path.stat().st_size)
    assert seen[1] == ("kontrollerar", 0, 45_000)
    assert [s for s in seen if s[0] == "sparar"] == [("sparar", 20_000, 45_000), ("sparar", 40_000, 45_000),
                                                    ("sparar", 45_000, 45_000)]


def test_a_missing_folder_names_the_deployment_parameter_and_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as raised:
        statement_files(["var/bank"])
    message = str(raised.value)
    assert f"var/bank (relative to {tmp_path}) does not exist" in message
    assert "deployment parameter `paths`" in message and "ledgerflow sandbox bank-export" in message
