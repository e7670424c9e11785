"""The audit trail: chained on write, refused to be edited, and a tampered row named by the verifier."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.cli import app
from models.audit import AuditRecorder, verify_chain
from models.batches import verify_batches
from models.projects import TimeReport
from models.store import is_postgres, open_store
from models.tables import ENTITIES, audit_events
from models.upsert import spelled, upsert_in_chunks


def _write_events(url: str, tenant: str, count: int) -> list[int]:
    recorder = AuditRecorder(tenant, "test")
    start = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    for n in range(count):
        recorder.record("create", "project", f"00000000-0000-0000-0000-{n:012d}", occurred_at=start + dt.timedelta(seconds=n),
                        new_state={"project_number": str(1000 + n), "budget": "100.00"})
    with open_store(url).begin() as connection:
        recorder.flush(connection)
        return list(connection.execute(sa.select(audit_events.c.seq).where(audit_events.c.tenant_id == tenant)
                                       .order_by(audit_events.c.seq)).scalars())


def _tamper(connection: sa.Connection, statement: str, seq: int) -> None:
    """Change a row as someone with direct database access would, past the append-only trigger."""
    if is_postgres(connection):
        connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        connection.execute(sa.text(statement), {"seq": seq})
        connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        connection.execute(sa.text(statement), {"seq": seq})


def test_an_intact_chain_verifies_and_tenants_have_their_own_chains(database_url: str) -> None:
    _write_events(database_url, "acme", 5)
    _write_events(database_url, "other", 3)
    _write_events(database_url, "acme", 2)  # a second transaction continues the chain
    with open_store(database_url).connect() as connection:
        acme, other = verify_chain(connection, "acme"), verify_chain(connection, "other")
        first_of_second_batch = connection.execute(
            sa.select(audit_events.c.previous_checksum).where(audit_events.c.tenant_id == "acme")
            .order_by(audit_events.c.seq).offset(5).limit(1)
        ).scalar_one()
        fifth = connection.execute(
            sa.select(audit_events.c.checksum).where(audit_events.c.tenant_id == "acme")
            .order_by(audit_events.c.seq).offset(4).limit(1)
        ).scalar_one()
    assert (acme.ok, acme.events_checked) == (True, 7)
    assert (other.ok, other.events_checked) == (True, 3)
    assert first_of_second_batch == fifth


def test_the_database_refuses_to_update_or_delete_audit_events(database_url: str) -> None:
    seqs = _write_events(database_url, "acme", 1)
    engine = open_store(database_url)
    for statement in ("UPDATE audit_events SET event_type = 'delete' WHERE seq = :seq",
                      "DELETE FROM audit_events WHERE seq = :seq"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(sa.text(statement), {"seq": seqs[0]})


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE audit_events SET new_state = '{\"project_number\": \"9999\", \"budget\": \"100.00\"}' WHERE seq = :seq",
         "content does not match its checksum"),
        ("DELETE FROM audit_events WHERE seq = :seq", "previous_checksum does not match"),
    ],
)
def test_a_tampered_event_is_named_by_the_verifier(database_url: str, statement: str, reason: str) -> None:
    seqs = _write_events(database_url, "acme", 6)
    with open_store(database_url).begin() as connection:
        _tamper(connection, statement, seqs[3])
    with open_store(database_url).connect() as connection:
        report = verify_chain(connection, "acme")
        ids = dict(connection.execute(sa.select(audit_events.c.seq, audit_events.c.id)).all())
    assert not report.ok
    assert report.events_checked == 3
    broken_seq = seqs[3] if "UPDATE" in statement else seqs[4]  # a deleted row breaks the link of the next one
    assert report.first_break.seq == broken_seq
    assert report.first_break.id == ids[broken_seq]
    assert reason in report.first_break.reason


def test_audit_verify_command_exits_1_and_names_the_broken_event(database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seqs = _write_events(database_url, "acme", 4)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--tenant", "acme"])
    with open_store(database_url).begin() as connection:
        _tamper(connection, "UPDATE audit_events SET event_type = 'delete' WHERE seq = :seq", seqs[1])
    broken = runner.invoke(app, ["audit", "verify", "--tenant", "acme"])
    assert ok.exit_code == 0, ok.output
    assert "intact, 4 events" in ok.output
    assert broken.exit_code == 1
    assert f"seq {seqs[1]}" in broken.output.replace("\n", " ")


# --------------------------------------------------------------------------- bulk loads
DAY1 = dt.datetime(2026, 11, 20, 7, 15, 0, 123456, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)


def _reports(count: int, hours: dict[int, str] | None = None) -> list[tuple[str, TimeReport]]:
    hours = hours or {}
    return [(f"1313/2025-08-{1 + n % 28:02d}/Åsa Öberg/{n}",
             TimeReport(employee="Åsa Öberg", project="1313", date=dt.date(2025, 8, 1 + n % 28),
                        hours=Decimal(hours.get(n, "7.5")), description=f"Fönsterbyte {n}", hourly_rate=Decimal("650.50")))
            for n in range(count)]


def _load_two_days(url: str) -> None:
    """Day 1: 23 time reports; day 2: 3 of them corrected and 4 new (two bulk loads, 3 updates)."""
    for records, now in ((_reports(23), DAY1), (_reports(27, hours={2: "9.5", 11: "0.5", 20: "12"}), DAY2)):
        with open_store(url).begin() as connection:
            upsert_in_chunks(connection, ENTITIES["time_report"], "acme", "workcloud", spelled(records),
                             AuditRecorder("acme", "test"), now, chunk_size=10)


def test_bulk_loads_hold_the_rows_their_events_vouch_for_even_after_updates(database_url: str) -> None:
    _load_two_days(database_url)
    with open_store(database_url).connect() as connection:
        checks = verify_batches(connection, "acme")
        assert verify_chain(connection, "acme").events_checked == 2 + 3
    assert [(c.entity_type, c.inserted, c.found, c.problem) for c in checks] == [
        ("time_report", 23, 23, None), ("time_report", 4, 4, None)]


@pytest.mark.parametrize(
    ("statement", "load", "problem"),
    [
        ("UPDATE time_reports SET hours = 8 WHERE external_id = '1313/2025-08-02/Åsa Öberg/1'", 0,
         "the stored rows differ from those inserted"),
        ("UPDATE time_reports SET description = 'Fönsterbyte' WHERE external_id = '1313/2025-08-24/Åsa Öberg/23'", 1,
         "the stored rows differ from those inserted"),
        ("DELETE FROM time_reports WHERE external_id = '1313/2025-08-05/Åsa Öberg/4'", 0,
         "23 rows were inserted, 22 are stored under the load's moment"),
    ],
)
def test_a_bulk_row_changed_or_removed_in_the_database_is_found_by_its_load(
    database_url: str, statement: str, load: int, problem: str, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    _load_two_days(database_url)
    with open_store(database_url).begin() as connection:
        connection.execute(sa.text(statement))
    with open_store(database_url).connect() as connection:
        checks = verify_batches(connection, "acme")
        assert verify_chain(connection, "acme").ok  # the events themselves were not touched
    assert [c.ok for c in checks] == [load != 0, load != 1]
    assert checks[load].problem.startswith(problem)

    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["audit", "verify", "--tenant", "acme"])
    assert result.exit_code == 1
    assert f"audit event seq {checks[load].seq}" in result.output.replace("\n", " ")


def test_audit_verify_all_walks_every_tenant_s_chain(database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _write_events(database_url, "globex", 2)
    _write_events(database_url, "acme", 3)
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)

    result = CliRunner().invoke(app, ["audit", "verify", "--all"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["tenant acme: audit chain intact, 3 events",
                                          "tenant globex: audit chain intact, 2 events"]
