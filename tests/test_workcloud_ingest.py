"""The workcloud_ingest flow end to end, on SQLite and on PostgreSQL, under Prefect's harness."""

from __future__ import annotations

import csv
import getpass
import io
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from connectors.sandbox.workcloud import generate_company, render, write_exports
from connectors.csv_files import clean_numbers
from connectors.workcloud import ExportKind
from flows.cli import app
from flows.workcloud_ingest import workcloud_ingest
from models.store import open_store
from tasks.mapping.workcloud import map_export
from models.tables import ENTITIES, audit_events, integration_mappings, quarantine, source_files

PROJECTS = ENTITIES["project"].table
WORK_ORDERS = ENTITIES["work_order"].table
TIME_REPORTS = ENTITIES["time_report"].table


def counts(url: str) -> dict[str, int]:
    with open_store(url).connect() as connection:
        return {
            t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (PROJECTS, WORK_ORDERS, TIME_REPORTS, audit_events, integration_mappings, quarantine, source_files)
        }


def test_a_missing_folder_names_the_option_the_deployment_parameter_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deployment's run says which parameter to change, not only the command's option (issue 15)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as raised:
        workcloud_ingest(directory="var/workcloud")
    message = str(raised.value)
    assert f"var/workcloud (relative to {tmp_path}) does not exist" in message
    assert "--dir" in message and "deployment parameter `directory`" in message and "LEDGERFLOW_WORKCLOUD_DIR" in message


def test_ingesting_the_same_folder_twice_changes_nothing(store_env: str, tmp_path: Path) -> None:
    write_exports(tmp_path, seed=3, projects=12, work_orders=30, reports=200)

    first = workcloud_ingest(directory=str(tmp_path))
    after_first = counts(store_env)
    second = workcloud_ingest(directory=str(tmp_path))

    assert [(r.kind, r.read, r.inserted, r.status) for r in first.files] == [
        ("projects", 12, 12, "loaded"),
        ("work_orders", 30, 30, "loaded"),
        ("time_reports", 200, 200, "loaded"),
    ]
    assert after_first == {
        "projects": 12, "work_orders": 30, "time_reports": 200,
        # a create event and a mapping row per project and work order; the time reports, bulk
        # records (models.upsert), are audited by one sync event for the file and need no mapping
        "audit_events": 12 + 30 + 1, "integration_mappings": 12 + 30, "quarantine": 0, "source_files": 3,
    }
    assert [r.status for r in second.files] == ["skipped"] * 3
    assert counts(store_env) == after_first


def test_a_changed_record_is_updated_once_with_its_change_set(store_env: str, tmp_path: Path) -> None:
    company = generate_company(seed=5, projects=5, work_orders=1)
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "p.csv").write_text(render(ExportKind.PROJECTS, company.projects, "api"), encoding="utf-8")
    workcloud_ingest(directory=str(tmp_path / "day1"))

    original = next(p for p in company.projects if p["status"] == "active")
    changed = [p | {"status": "completed", "budget": "1250000.50"} if p is original else p for p in company.projects]
    (tmp_path / "day2").mkdir()
    (tmp_path / "day2" / "p.csv").write_text(render(ExportKind.PROJECTS, changed, "excel"), encoding="cp1252")
    report = workcloud_ingest(directory=str(tmp_path / "day2")).files[0]

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 4)
    with open_store(store_env).connect() as connection:
        row = connection.execute(
            sa.select(PROJECTS.c.status, PROJECTS.c.budget).where(
                PROJECTS.c.external_id == original["project_number"]
            )
        ).one()
        update = connection.execute(sa.select(audit_events).where(audit_events.c.event_type == "update")).one()
    assert row.status == "completed"
    assert row.budget == Decimal("1250000.50")
    assert update.change_set == {
        "status": {"from": "active", "to": "completed"},
        "budget": {"from": f"{original['budget']}.00", "to": "1250000.50"},
    }


def _projects_with_three_bad_rows() -> str:
    company = generate_company(seed=11, projects=100, work_orders=1)
    rows = [dict(p) for p in company.projects]
    rows[9]["project_name"] = ""  # line 11: required field missing
    rows[49]["start_date"] = "01/03/2025"  # line 51: not an ISO date
    rows[89]["budget"] = "cirka en miljon"  # line 91: not a number
    return render(ExportKind.PROJECTS, rows, "excel")


def test_a_projects_file_with_three_invalid_rows_loads_97_and_quarantines_3(store_env: str, tmp_path: Path) -> None:
    (tmp_path / "projekt.csv").write_bytes(_projects_with_three_bad_rows().encode("cp1252"))

    report = workcloud_ingest(directory=str(tmp_path)).files[0]

    assert (report.read, report.quarantined, report.inserted, report.status) == (100, 3, 97, "partial")
    with open_store(store_env).connect() as connection:
        held = connection.execute(
            sa.select(quarantine.c.row_number, quarantine.c.error_code, quarantine.c.field, quarantine.c.source_ref,
                      quarantine.c.description, quarantine.c.suggested_action, quarantine.c.record)
            .order_by(quarantine.c.row_number)
        ).all()
        stored = connection.execute(sa.select(sa.func.count()).select_from(PROJECTS)).scalar_one()
    assert stored == 97
    assert [(h.row_number, h.error_code, h.field, h.source_ref) for h in held] == [
        (11, "VAL-REQUIRED", "project_name", "projekt.csv"),
        (51, "VAL-DATE", "start_date", "projekt.csv"),
        (91, "VAL-NUMBER", "budget", "projekt.csv"),
    ]
    assert all(h.description and h.suggested_action for h in held)
    assert held[2].record["budget"] == "cirka en miljon"


def test_the_quarantine_is_listed_and_closed_by_hand_from_the_command_line(store_env: str, tmp_path: Path) -> None:
    (tmp_path / "projekt.csv").write_bytes(_projects_with_three_bad_rows().encode("cp1252"))
    workcloud_ingest(directory=str(tmp_path), tenant="acme")
    runner = CliRunner()

    def held(*options: str) -> list[dict]:
        listed = runner.invoke(app, ["quarantine", "list", "--tenant", "acme", "--json", *options])
        assert listed.exit_code == 0, listed.output
        return json.loads(listed.output)

    opened = held()
    assert [(item["row_number"], item["field"], item["status"]) for item in opened] == [
        (11, "project_name", "open"), (51, "start_date", "open"), (91, "budget", "open")]
    table = runner.invoke(app, ["quarantine", "list", "--tenant", "acme"], env={"COLUMNS": "300"})
    assert "Quarantine, tenant acme (open): 3" in table.output and "cirka en miljon" not in table.output
    shown = runner.invoke(app, ["quarantine", "show", opened[2]["id"][:8], "--tenant", "acme"])
    assert json.loads(shown.output)["record"]["budget"] == "cirka en miljon"

    one = runner.invoke(app, ["quarantine", "resolve", opened[0]["id"][:8], "--resolution", "skipped", "--by", "eva",
                              "--tenant", "acme"])
    assert one.exit_code == 0 and "1 quarantined record resolved: skipped" in one.output
    rest = runner.invoke(app, ["quarantine", "resolve", "--dataset", "workcloud_projects", "--tenant", "acme"])
    assert rest.exit_code == 0 and "2 quarantined records resolved: manual_fix" in rest.output
    assert held() == []
    me = getpass.getuser()
    assert [(item["row_number"], item["resolution"], item["resolved_by"]) for item in held("--status", "resolved")] == [
        (11, "skipped", "eva"), (51, "manual_fix", me), (91, "manual_fix", me)]
    twice = runner.invoke(app, ["quarantine", "resolve", opened[0]["id"][:8], "--tenant", "acme"], env={"COLUMNS": "300"})
    assert twice.exit_code == 1 and f"already resolved: {opened[0]['id'][:8]} (skipped, eva, " in twice.output
    wildcard = runner.invoke(app, ["quarantine", "show", "%", "--tenant", "acme"])  # a LIKE pattern is no prefix
    assert wildcard.exit_code == 1 and "no quarantined record with id %" in wildcard.output

    unknown = runner.invoke(app, ["quarantine", "resolve", "ffffffff", "--tenant", "acme"])
    assert unknown.exit_code == 1 and "no quarantined record with id ffffffff" in unknown.output
    other_tenant = runner.invoke(app, ["quarantine", "show", opened[1]["id"][:8], "--tenant", "globex"])
    assert other_tenant.exit_code == 1
    neither = runner.invoke(app, ["quarantine", "resolve", "--tenant", "acme"])
    assert neither.exit_code == 2
    wrong = runner.invoke(app, ["quarantine", "resolve", "--dataset", "workcloud_projects", "--resolution", "gone"])
    assert wrong.exit_code == 2


def test_a_malformed_file_is_reported_and_the_others_load(store_env: str, tmp_path: Path) -> None:
    write_exports(tmp_path, seed=2, projects=4, work_orders=6, reports=10)
    (tmp_path / "budget.csv").write_text("Konto;Belopp\n4010;1000\n", encoding="utf-8")
    (tmp_path / "trasig.csv").write_text(
        "employee,project,date,hours,description,hourlyRate\n"
        "Lars Säck,1313,2025-10-01,7,5,Plåt,450\n"  # decimal comma in a comma file: one field too many
        "Lars Säck,1313,2025-10-02,8,Plåt,450\n",
        encoding="utf-8",
    )

    summary = workcloud_ingest(directory=str(tmp_path))

    by_file = {r.file: r for r in summary.files}
    assert by_file["budget.csv"].status == "failed"
    assert "matches no WorkCloud export" in by_file["budget.csv"].error
    assert (by_file["trasig.csv"].read, by_file["trasig.csv"].inserted, by_file["trasig.csv"].quarantined) == (2, 1, 1)
    assert by_file["tidrapporter.csv"].inserted == 10
    with open_store(store_env).connect() as connection:
        problem = connection.execute(sa.select(quarantine.c.row_number, quarantine.c.error_code)).one()
        failed = connection.execute(sa.select(source_files.c.status).where(source_files.c.file_name == "budget.csv")).one()
    assert tuple(problem) == (2, "CSV-FIELD-COUNT")
    assert failed.status == "failed"


def test_swedish_characters_round_trip_from_windows_1252_and_bom_utf8(store_env: str, tmp_path: Path) -> None:
    name, leader, address = "Kämpetorget ÅÄÖ åäö", "Märta Öberg", "Ängsvägen 1, Kungsängen"
    header = "Projektnummer;Projektnamn;Projektledare;Status;Adress\n"
    (tmp_path / "cp1252.csv").write_bytes((header + f"7001;{name};{leader};Aktiv;{address}\n").encode("cp1252"))
    (tmp_path / "bom.csv").write_bytes(("\ufeff" + header + f"7002;{name};{leader};Pågående;{address}\n").encode("utf-8"))

    summary = workcloud_ingest(directory=str(tmp_path))

    assert sorted(r.inserted for r in summary.files) == [1, 1]
    with open_store(store_env).connect() as connection:
        rows = connection.execute(
            sa.select(PROJECTS.c.external_id, PROJECTS.c.project_name, PROJECTS.c.project_leader, PROJECTS.c.address,
                      PROJECTS.c.status).order_by(PROJECTS.c.external_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("7001", name, leader, address, "active"),
        ("7002", name, leader, address, "active"),
    ]


def test_a_time_report_is_ranked_among_its_day_by_description_then_place_in_the_file() -> None:
    """Ranks start at 0 for each employee, project and day; a missing description sorts first."""
    frame = pd.DataFrame({
        "employee": ["Lars Säck", "Lars Säck", "Eva Ek", "Lars Säck", "Lars Säck", "Lars Säck"],
        "project": ["1313", "1313", "1313", "1313", "1313", "1314"],
        "date": ["2025-10-01"] * 6,
        "hours": ["1"] * 6,
        "description": ["Resa", "Plåt", "Resa", None, "Plåt", "Resa"],
        "hourly_rate": [None] * 6,
        "_row": range(2, 8),
    })
    assert map_export(ExportKind.TIME_REPORTS, frame, workers=0).external_ids == [
        "1313/2025-10-01/Lars Säck/3", "1313/2025-10-01/Lars Säck/1", "1313/2025-10-01/Eva Ek/0",
        "1313/2025-10-01/Lars Säck/0", "1313/2025-10-01/Lars Säck/2", "1314/2025-10-01/Lars Säck/0",
    ]


def test_a_report_keeps_its_id_when_a_sibling_held_back_by_the_gate_is_corrected(store_env: str, tmp_path: Path
                                                                                 ) -> None:
    """Ranks count every row of the file, the gate's held-back ones too: when the report with the
    unreadable hours comes back corrected, it is new and its sibling is unchanged (not updated
    into it, with the sibling stored again under a new id)."""
    def export(day: int, montage_hours: str) -> Path:
        folder = tmp_path / f"day{day}"
        folder.mkdir()
        (folder / "t.csv").write_text("Anställd;Projekt;Datum;Timmar;Beskrivning;Timpris\n"
                                      "Lars Säck;1313;2025-10-01;4,5;Plåt;450\n"
                                      f"Lars Säck;1313;2025-10-01;{montage_hours};Montage;450\n", encoding="utf-8")
        return folder

    first = workcloud_ingest(directory=str(export(1, "fyra"))).files[0]
    second = workcloud_ingest(directory=str(export(2, "2"))).files[0]

    assert (first.inserted, first.quarantined) == (1, 1)
    assert (second.inserted, second.updated, second.unchanged, second.quarantined) == (1, 0, 1, 0)
    with open_store(store_env).connect() as connection:
        rows = connection.execute(sa.select(TIME_REPORTS.c.external_id, TIME_REPORTS.c.description)
                                  .order_by(TIME_REPORTS.c.external_id)).all()
    assert [tuple(row) for row in rows] == [("1313/2025-10-01/Lars Säck/0", "Montage"),
                                            ("1313/2025-10-01/Lars Säck/1", "Plåt")]


def test_numbers_lose_every_kind_of_space_and_take_a_decimal_point() -> None:
    values = pd.Series(["1 234,50", "1\u00a0234,50", "1\u202f234,5", "1\u2009000", " 7,5\t", "1\u3000000", None,
                        "12.5"], dtype=object)
    assert clean_numbers(values).tolist() == ["1234.50", "1234.50", "1234.5", "1000", "7.5", "1000", None, "12.5"]


def test_time_reports_repeated_in_a_file_are_distinct_and_stable(store_env: str, tmp_path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Anställd", "Projekt", "Datum", "Timmar", "Beskrivning", "Timpris"])
    for _ in range(2):
        writer.writerow(["Lars Säck", "1313", "2025-10-01", "4,5", "Plåtmontering tak", "450"])
    writer.writerow(["Lars Säck", "1313", "2025-10-01", "3", "Resa", "450"])
    (tmp_path / "t.csv").write_text(out.getvalue(), encoding="utf-8")

    report = workcloud_ingest(directory=str(tmp_path)).files[0]

    assert report.inserted == 3
    with open_store(store_env).connect() as connection:
        rows = connection.execute(
            sa.select(TIME_REPORTS.c.external_id, TIME_REPORTS.c.hours, TIME_REPORTS.c.description)
            .order_by(TIME_REPORTS.c.external_id)
        ).all()
    assert [(r.external_id, r.hours, r.description) for r in rows] == [
        ("1313/2025-10-01/Lars Säck/0", Decimal("4.5"), "Plåtmontering tak"),
        ("1313/2025-10-01/Lars Säck/1", Decimal("4.5"), "Plåtmontering tak"),
        ("1313/2025-10-01/Lars Säck/2", Decimal("3"), "Resa"),
    ]
