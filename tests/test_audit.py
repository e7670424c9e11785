"""The audit trail: chained on write, refused to be edited, and a tampered row named by the verifier."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.cli import app
from models.audit import AuditRecorder, verify_chain
from models.store import is_postgres, open_store
from models.tables import audit_events


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
