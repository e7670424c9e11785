"""Operations (issue #5): alerts that fire exactly at their thresholds and reach a real webhook and the
Graph sandbox once per cooldown, Prometheus metrics read back with exact values, and retention that
counts exactly, removes exactly that, anonymises people but not bookkeeping, and keeps the audit
chain verifiable; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import typer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from connectors.graph_mail import GraphMailClient
from connectors.http import ApiClient, NotFoundError, RetryPolicy
from connectors.sandbox.graph import GraphSandbox
from flows.alerting import alert_check, notify_failure
from flows.cli_ops import alerts_app, metrics_app, retention_app
from models.audit import AuditRecorder, verify_chain
from models.bookkeeping import log_sync
from models.store import is_postgres, open_store
from models.tables import (
    alerts, audit_events, bank_imports, dead_letters, integration_jobs, invoice_extractions, invoice_reviews,
    quarantine, source_files, sync_logs,
)
from tasks.metrics import api_usage, serve_metrics, store_registry
from tasks.notify import MailChannel, Thresholds, WebhookChannel, dispatch, evaluate
from tasks.runtime import flow
from tasks.retention import ANONYMISED, Policy, apply_retention, plan_retention

UTC = dt.UTC
SECRET = "hemlig-nyckel"
THRESHOLDS = Thresholds(window=dt.timedelta(minutes=60), error_rate=0.05, slow_seconds=900)
MAILBOX = "ekonomi@ekbackenbygg.se"
CLI = typer.Typer()  # mounted as flows/cli.py mounts them: a Typer app of one command would otherwise be that command
CLI.add_typer(metrics_app, name="metrics")
CLI.add_typer(alerts_app, name="alerts")
CLI.add_typer(retention_app, name="retention")


# --------------------------------------------------------------------------- helpers
class Receiver:
    """A real HTTP server on 127.0.0.1: records POSTs and answers with `status`; GET /status/N answers N."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                self._answer(receiver.status)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(int(self.path.rsplit("/", 1)[-1]))

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self) -> list[tuple[str, str, str]]:
        return [(a["code"], a["tenant"], a["about"]) for _, body in self.posts for a in json.loads(body)["alerts"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def _log(connection: sa.Connection, tenant: str, system: str, data_type: str, status: str, records: int, *,
         at: dt.datetime, duration_ms: int | None = None, details: dict[str, Any] | None = None,
         error: str | None = None) -> None:
    connection.execute(sync_logs.insert().values(
        id=str(uuid.uuid4()), tenant_id=tenant, system=system, sync_type="import", data_type=data_type, status=status,
        record_count=records, duration_ms=duration_ms, error_message=error, details=details or {}, created_at=at))


def _letter(connection: sa.Connection, tenant: str, category: str, *, at: dt.datetime, status: str = "pending") -> None:
    connection.execute(dead_letters.insert().values(
        id=str(uuid.uuid4()), tenant_id=tenant, system="fortnox", entity_type="invoice", entity_id="1",
        request={"method": "POST"}, attempts=[], error_category=category, error_message="nej", status=status,
        queued_at=at))


def _held(connection: sa.Connection, tenant: str, *, at: dt.datetime, status: str = "open") -> None:
    ref = uuid.uuid4().hex
    connection.execute(quarantine.insert().values(
        id=str(uuid.uuid4()), tenant_id=tenant, system="workcloud", dataset="workcloud_time_reports",
        source_ref="tidrapporter.csv", row_number=7, record={"employee": "Lars Säck", "ref": ref}, record_hash=ref,
        error_code="VAL-NUMBER", field="hours", description="inte ett tal", suggested_action="rätta",
        status=status, created_at=at, resolved_at=at if status == "resolved" else None))


def _events(url: str, tenant: str, moments: list[dt.datetime]) -> None:
    recorder = AuditRecorder(tenant, "test")
    for n, moment in enumerate(moments):
        recorder.record("create", "project", f"00000000-0000-0000-0000-{n:012d}", occurred_at=moment,
                        new_state={"project_number": str(1000 + n)})
    with open_store(url).begin() as connection:
        recorder.flush(connection)


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


# --------------------------------------------------------------------------- alert rules
def test_each_alert_rule_fires_exactly_when_its_threshold_is_crossed(database_url: str) -> None:
    now = dt.datetime.now(UTC)
    ago = lambda minutes: now - dt.timedelta(minutes=minutes)  # noqa: E731
    engine = open_store(database_url)
    with engine.begin() as connection:
        # "at": every figure exactly at its threshold, or outside the window: nothing fires.
        _log(connection, "at", "fortnox", "customer", "partial", 19, at=ago(10), duration_ms=900_000,
             details={"quarantined": 1, "dead_letters": 0})  # 1 of 20 = 5.0 %, 900 s
        _log(connection, "at", "fortnox", "customer", "failed", 0, at=ago(61), error="too old")
        _letter(connection, "at", "server", at=ago(61))
        _letter(connection, "at", "server", at=ago(5), status="resolved")
        # "over": just past every threshold.
        _log(connection, "over", "fortnox", "invoice", "partial", 18, at=ago(10), duration_ms=900_001,
             details={"quarantined": 1, "dead_letters": 1})  # 2 of 20 = 10.0 %, 900.001 s
        _log(connection, "over", "fortnox", "invoice", "failed", 0, at=ago(5),
             error="fortnox GET /3/invoices -> 503: Service Unavailable", details={"dataset": "invoices"})
        _letter(connection, "over", "server", at=ago(5))
        _letter(connection, "over", "validation", at=ago(4))

    found = evaluate.fn(engine, THRESHOLDS, now)

    assert sorted((a.code, a.severity, a.tenant_id, a.about, a.details) for a in found) == [
        ("DEAD_LETTERS", "warning", "over", "fortnox",
         {"system": "fortnox", "dead_letters": 2, "by_category": {"server": 1, "validation": 1}}),
        ("ERROR_RATE", "warning", "over", "fortnox",
         {"system": "fortnox", "failed_records": 2, "records": 20, "rate": 0.1, "threshold": 0.05,
          "window_minutes": 60}),
        ("SLOW_RUN", "warning", "over", "fortnox/invoice",
         {"system": "fortnox", "data_type": "invoice", "slow_runs": 1, "slowest_seconds": 900.001,
          "threshold_seconds": 900}),
        ("SYNC_FAILED", "critical", "over", "fortnox",
         {"system": "fortnox", "failed_runs": 1, "data_types": ["invoice"],
          "last_error": "fortnox GET /3/invoices -> 503: Service Unavailable"}),
    ]
    rate = next(a for a in found if a.code == "ERROR_RATE")
    assert rate.message == ("Feltakten för fortnox är 10,0 % (2 av 20 poster) de senaste 60 minuterna, "
                            "över gränsen 5,0 %.\nThe error rate of fortnox is 10.0% (2 of 20 records) in the last "
                            "60 minutes, above the limit of 5.0%.")
    assert rate.fingerprint == "ERROR_RATE:over:fortnox"
    assert evaluate.fn(engine, THRESHOLDS, now, "at") == []


def test_webhook_gets_signed_json_once_per_cooldown_and_a_failed_delivery_is_tried_again(
    database_url: str, receiver: Receiver,
) -> None:
    now = dt.datetime.now(UTC)
    engine = open_store(database_url)
    with engine.begin() as connection:
        _log(connection, "acme", "fortnox", "invoice", "failed", 0, at=now - dt.timedelta(minutes=1), error="503")
    found = evaluate.fn(engine, THRESHOLDS, now)
    webhook = WebhookChannel(receiver.url, SECRET)
    cooldown = dt.timedelta(minutes=60)

    first = dispatch.fn(engine, found, [webhook], now, cooldown)
    again = dispatch.fn(engine, found, [webhook], now + dt.timedelta(minutes=59), cooldown)
    receiver.status = 500
    refused = dispatch.fn(engine, found, [webhook], now + dt.timedelta(minutes=61), cooldown)
    receiver.status = 200
    retried = dispatch.fn(engine, found, [webhook], now + dt.timedelta(minutes=62), cooldown)

    assert ([a.code for a in first.sent], first.held_back, first.delivery) == (["SYNC_FAILED"], [], {"webhook": "ok"})
    assert (again.sent, [a.code for a in again.held_back]) == ([], ["SYNC_FAILED"])
    assert [a.code for a in refused.sent] == ["SYNC_FAILED"] and refused.failed_channels == ["webhook"]
    assert "500 Internal Server Error" in refused.delivery["webhook"]
    assert ([a.code for a in retried.sent], retried.delivery) == (["SYNC_FAILED"], {"webhook": "ok"})
    assert len(receiver.posts) == 3  # the first, the refused one, the retry; none within the cooldown

    headers, body = receiver.posts[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Ledgerflow-Signature"], expected)
    assert json.loads(body) == {"source": "ledgerflow", "sent_at": now.isoformat(), "alerts": [{
        "code": "SYNC_FAILED", "severity": "critical", "tenant": "acme", "about": "fortnox",
        "fingerprint": "SYNC_FAILED:acme:fortnox",
        "message": {"sv": "1 synkning från fortnox misslyckades (invoice). Senaste fel: 503",
                    "en": "1 sync from fortnox failed (invoice). Last error: 503"},
        "details": {"system": "fortnox", "failed_runs": 1, "data_types": ["invoice"], "last_error": "503"}}]}
    with engine.connect() as connection:
        stored = connection.execute(sa.select(alerts.c.status).order_by(alerts.c.created_at)).scalars().all()
        fingerprints = set(connection.execute(sa.select(alerts.c.fingerprint)).scalars())
    assert (stored, fingerprints) == (["sent", "failed", "sent"], {"SYNC_FAILED:acme:fortnox"})


def test_alert_check_emails_through_graph_and_posts_the_webhook_once(
    store_env: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_store(store_env).begin() as connection:
        _letter(connection, "acme", "validation", at=dt.datetime.now(UTC) - dt.timedelta(minutes=2))
    with GraphSandbox() as sandbox:
        for name, value in {"GRAPH_TENANT_ID": sandbox.tenant_id, "GRAPH_CLIENT_ID": sandbox.client_id,
                            "GRAPH_CLIENT_SECRET": sandbox.client_secret, "GRAPH_SENDER": MAILBOX,
                            "GRAPH_API_URL": sandbox.url, "GRAPH_AUTHORITY_URL": sandbox.url,
                            "ALERT_EMAIL": '["drift@ekbackenbygg.se"]', "ALERT_WEBHOOK_URL": receiver.url,
                            "ALERT_WEBHOOK_SECRET": SECRET}.items():
            monkeypatch.setenv(f"LEDGERFLOW_{name}", value)
        result = alert_check(tenant="acme")
        again = CliRunner().invoke(CLI, ["alerts", "check", "--tenant", "acme"])
        mails = httpx.get(f"{sandbox.url}/_sandbox/messages").json()

    assert ([a.code for a in result.sent], result.delivery) == (["DEAD_LETTERS"], {"webhook": "ok", "email": "ok"})
    assert again.exit_code == 0, again.output
    assert "cooldown" in again.output
    assert receiver.alerts() == [("DEAD_LETTERS", "acme", "fortnox")]
    [mail] = mails
    assert (mail["sender"], mail["to"], mail["subject"]) == (
        MAILBOX, ["drift@ekbackenbygg.se"], "[ledgerflow] 1 larm / alerts: DEAD_LETTERS")
    assert "1 anrop till fortnox misslyckades permanent" in mail["body"]
    assert "1 call to fortnox failed for good" in mail["body"]


@flow(name="ops_test_failing", on_failure=notify_failure)
def failing(tenant: str | None = None) -> None:
    raise RuntimeError("Fortnox svarade 503")


@pytest.mark.parametrize("recorded", [False, True], ids=["local run", "Prefect run"])
def test_a_failed_flow_run_is_announced_by_its_hook(store_env: str, receiver: Receiver, recorded: bool,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     request: pytest.FixtureRequest) -> None:
    if recorded:
        request.getfixturevalue("prefect_runs")
    monkeypatch.setenv("LEDGERFLOW_ALERT_WEBHOOK_URL", receiver.url)
    with pytest.raises(RuntimeError):
        failing(tenant="bygg")

    [(_, body)] = receiver.posts
    [alert] = json.loads(body)["alerts"]
    assert (alert["code"], alert["severity"], alert["tenant"], alert["about"], alert["details"]["state"]) == (
        "FLOW_FAILED", "critical", "bygg", "ops_test_failing", "Failed")
    assert "Fortnox svarade 503" in alert["details"]["reason"]
    with open_store(store_env).connect() as connection:
        assert connection.execute(sa.select(alerts.c.fingerprint, alerts.c.status)).all() == [
            ("FLOW_FAILED:bygg:ops_test_failing", "sent")]


def test_alert_email_through_the_graph_sandbox_names_every_alert(database_url: str) -> None:
    now = dt.datetime.now(UTC)
    engine = open_store(database_url)
    with engine.begin() as connection:
        _log(connection, "acme", "workcloud", "time_report", "success", 10, at=now, duration_ms=1_000_000)
    with GraphSandbox() as sandbox:
        client = GraphMailClient.for_tenant(sandbox.tenant_id, sandbox.client_id, sandbox.client_secret,
                                            base_url=sandbox.url, authority=sandbox.url)
        with client:
            result = dispatch.fn(engine, evaluate.fn(engine, THRESHOLDS, now),
                                 [MailChannel(client, MAILBOX, ("drift@ekbackenbygg.se",))], now, dt.timedelta(hours=1))
        [mail] = httpx.get(f"{sandbox.url}/_sandbox/messages").json()
    assert result.delivery == {"email": "ok"}
    assert mail["subject"] == "[ledgerflow] 1 larm / alerts: SLOW_RUN"
    assert "Synkningen av time_report från workcloud tog 1000 s, över gränsen 900 s (1 gång)." in mail["body"]
    assert "Syncing time_report from workcloud took 1000 s, above the limit of 900 s (1 time)." in mail["body"]


# --------------------------------------------------------------------------- metrics
def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _histogram(name: str, labels: dict[str, str], bounds: list[str], counts: list[int], total: float
               ) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {(f"{name}_bucket", tuple(sorted({**labels, "le": le}.items()))): float(c)
               for le, c in zip(bounds, counts, strict=True)}
    key = tuple(sorted(labels.items()))
    return samples | {(f"{name}_count", key): float(counts[-1]), (f"{name}_sum", key): total}


SYNC_BOUNDS = ["1.0", "5.0", "15.0", "60.0", "300.0", "900.0", "3600.0", "+Inf"]
API_BOUNDS = ["0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "+Inf"]


def test_metrics_text_parses_back_with_exact_values(database_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(UTC)
    engine = open_store(database_url)
    with engine.begin() as connection:
        _log(connection, "acme", "fortnox", "invoice", "success", 10, at=now, duration_ms=2000, details={
            "quarantined": 0, "dead_letters": 0, "api": {"fortnox": {
                "requests": {"200": 3, "429": 1}, "seconds": 0.5, "latency": {"0.05": 2, "0.25": 1, "1.0": 1}}}})
        _log(connection, "acme", "fortnox", "invoice", "partial", 8, at=now, duration_ms=400_000, details={
            "quarantined": 1, "dead_letters": 1, "api": {"fortnox": {
                "requests": {"200": 2}, "seconds": 0.1, "latency": {"0.05": 2}}}})
        _log(connection, "acme", "fortnox", "invoice", "failed", 0, at=now, details={"dataset": "invoices"})
        _log(connection, "acme", "workcloud", "project", "success", 5, at=now, duration_ms=700,
             details={"quarantined": 2, "file": "projektregister.csv"})
        _log(connection, "other", "fortnox", "customer", "success", 1, at=now, duration_ms=61_000)
        for category in ("server", "server", "validation"):
            _letter(connection, "acme", category, at=now)
        _letter(connection, "acme", "server", at=now, status="resolved")
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)

    written = CliRunner().invoke(CLI, ["metrics", "write", str(tmp_path / "ledgerflow.prom")])
    server, _ = serve_metrics(engine, 0, "127.0.0.1")
    try:
        served = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics").text
    finally:
        server.shutdown()
        server.server_close()

    invoice = {"tenant": "acme", "system": "fortnox", "data_type": "invoice"}
    project = {"tenant": "acme", "system": "workcloud", "data_type": "project"}
    customer = {"tenant": "other", "system": "fortnox", "data_type": "customer"}
    expected = {
        **{("sync_jobs_total", tuple(sorted({**labels, "status": status}.items()))): 1.0
           for labels, status in [(invoice, "success"), (invoice, "partial"), (invoice, "failed"),
                                  (project, "success"), (customer, "success")]},
        **{("sync_records_total", tuple(sorted({**labels, "status": status}.items()))): value
           for labels, status, value in [(invoice, "succeeded", 18.0), (invoice, "failed", 2.0),
                                         (project, "succeeded", 5.0), (project, "failed", 2.0),
                                         (customer, "succeeded", 1.0), (customer, "failed", 0.0)]},
        **_histogram("sync_duration_seconds", invoice, SYNC_BOUNDS, [0, 1, 1, 1, 1, 2, 2, 2], 402.0),
        **_histogram("sync_duration_seconds", project, SYNC_BOUNDS, [1] * 8, 0.7),
        **_histogram("sync_duration_seconds", customer, SYNC_BOUNDS, [0, 0, 0, 0, 1, 1, 1, 1], 61.0),
        ("api_requests_total", (("status", "200"), ("system", "fortnox"), ("tenant", "acme"))): 5.0,
        ("api_requests_total", (("status", "429"), ("system", "fortnox"), ("tenant", "acme"))): 1.0,
        **_histogram("api_latency_seconds", {"tenant": "acme", "system": "fortnox"}, API_BOUNDS,
                     [4, 4, 5, 5, 6, 6, 6, 6, 6, 6], 0.6),
        ("dlq_size", (("error_category", "server"), ("system", "fortnox"), ("tenant", "acme"))): 2.0,
        ("dlq_size", (("error_category", "validation"), ("system", "fortnox"), ("tenant", "acme"))): 1.0,
    }
    assert written.exit_code == 0, written.output
    assert _samples((tmp_path / "ledgerflow.prom").read_text()) == expected
    assert _samples(served) == expected


def test_api_requests_are_counted_in_process_and_persist_with_the_sync_log(
    database_url: str, receiver: Receiver, caplog: pytest.LogCaptureFixture,
) -> None:
    usage = api_usage()
    usage.take()  # what earlier tests of this process left
    with ApiClient("probe", receiver.url + "/", None, retry=RetryPolicy(attempts=1)) as client:
        client.request("GET", "status/200")
        client.request("GET", "status/200")
        with pytest.raises(NotFoundError):
            client.request("GET", "status/404")
        quiet = [r for r in caplog.records if r.name == "ledgerflow.http"]
        caplog.set_level(logging.INFO)  # whoever asks for the lines gets them: here the root logger
        client.request("GET", "status/200")
    taken = usage.take()
    with open_store(database_url).begin() as connection:
        log_sync(connection, "acme", "probe", "invoice", "success", 4, details={"api": taken})

    assert quiet == []  # counting does not put INFO lines on the console
    assert [r.status for r in caplog.records if r.name == "ledgerflow.http"] == [200]
    assert taken["probe"]["requests"] == {"200": 3, "404": 1}
    assert sum(taken["probe"]["latency"].values()) == 4
    assert usage.take() == {}
    metrics = _samples(generate_latest(store_registry(open_store(database_url))).decode())
    assert metrics[("api_requests_total", (("status", "200"), ("system", "probe"), ("tenant", "acme")))] == 3.0
    assert metrics[("api_requests_total", (("status", "404"), ("system", "probe"), ("tenant", "acme")))] == 1.0
    assert metrics[("api_latency_seconds_count", (("system", "probe"), ("tenant", "acme")))] == 4.0


# --------------------------------------------------------------------------- retention
NOW = _at(2026, 11, 22, 12)
POLICY = Policy(log_months=12, personal_months=24, jurisdiction="SE", tenant_jurisdictions={"dk": "DK"})
LOGS_BEFORE, PERSONAL_BEFORE = _at(2025, 11, 22, 12), _at(2024, 11, 22, 12)
ANALYSIS = {
    "file": "4711.pdf",
    "extraction": {"sha256": "ab" * 32, "pages": 1, "method": "rules", "problems": [], "fields": {
        "invoice_number": "4711", "total": "25000.00", "supplier_name": "Västerås Byggplåt AB",
        "reference": "Jasmine Andersson", "our_reference": "Per Olsson", "delivery_address": "Storgatan 1, Uppsala",
        "project_hints": [{"kind": "reference", "value": "Jasmine Andersson", "label": "Er referens"},
                          {"kind": "project_number", "value": "1313", "label": "Projekt"}]}},
    "candidates": [{"project_number": "1313", "project_name": "Stender VB 1966", "score": 90,
                    "reasons": ["Er referens Jasmine Andersson är projektledare för 1313",
                                "Projektnummer 1313 på fakturan"]}],
    "checks": [{"code": "reference", "ok": True, "severity": "info", "message": "Er referens Jasmine Andersson finns"}],
    "confidence": 90, "band": "suggestion",
}
COMPLAINT = {"to": ["faktura@vasterasbyggplat.se"], "subject": "Reklamation faktura 4711", "sent_at": "2023-03-02",
             "reasons": ["Saknar projektnummer"], "attachments": []}


def _review(number: str, at: dt.datetime, *, people: bool) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "tenant_id": "se", "given_number": number, "invoice_number": "4711",
            "supplier_number": "7", "supplier_name": "Västerås Byggplåt AB", "invoice_date": at.date(),
            "due_date": at.date() + dt.timedelta(days=30), "total": 25000, "currency": "SEK", "source_version": "v1",
            "pdf_sha256": "ab" * 32, "analysis": ANALYSIS if people else None, "project_number": "1313",
            "confidence": 90, "band": "suggestion", "status": "approved" if people else "auto_approved",
            "decided_by": "matilda" if people else "ai", "decided_at": at,
            "comment": "Ring Jasmine" if people else None,
            "complaint": COMPLAINT if people else None, "escalated_at": None, "created_at": at, "updated_at": at}


def _fill_retention_store(url: str) -> None:
    with open_store(url).begin() as c:
        for at in [_at(2025, 11, 1)] * 3 + [_at(2026, 1, 1)] * 2:
            _log(c, "se", "fortnox", "invoice", "success", 1, at=at)
        for at in (_at(2025, 10, 1), _at(2026, 2, 1)):
            c.execute(integration_jobs.insert().values(id=str(uuid.uuid4()), tenant_id="se", job_type="export",
                                                       data_type="invoice", resource_type="invoice", created_at=at))
        _letter(c, "se", "server", at=_at(2025, 1, 1))  # pending: kept however old
        _letter(c, "se", "server", at=_at(2025, 1, 1), status="resolved")
        _letter(c, "se", "server", at=_at(2026, 3, 1), status="resolved")
        _held(c, "se", at=_at(2025, 1, 1))  # open: kept however old
        _held(c, "se", at=_at(2025, 1, 1), status="resolved")
        _held(c, "se", at=_at(2026, 3, 1), status="resolved")
        for at in (_at(2025, 6, 1), _at(2026, 11, 1)):
            c.execute(alerts.insert().values(id=str(uuid.uuid4()), tenant_id="se", code="SLOW_RUN", fingerprint="f",
                                             severity="warning", message="m", details={}, delivery={}, status="sent",
                                             created_at=at))
        for n, at in enumerate((_at(2024, 1, 1), _at(2025, 1, 1))):
            c.execute(invoice_extractions.insert().values(id=str(uuid.uuid4()), tenant_id="se", sha256=f"{n}" * 64,
                                                          model="claude", fields={"reference": "Jasmine"},
                                                          created_at=at))
        c.execute(invoice_reviews.insert(), [
            _review("100", _at(2018, 6, 1), people=True),  # past the bookkeeping period: deleted
            _review("200", _at(2023, 3, 1), people=True),  # past the personal-data period: anonymised
            _review("300", _at(2023, 4, 1), people=False),  # nothing personal: unchanged
            _review("400", _at(2026, 1, 1), people=True),  # recent: unchanged
        ])
        for tenant, at in (("se", _at(2018, 12, 31, 23, 59)), ("se", _at(2019, 1, 1)), ("dk", _at(2020, 6, 1))):
            c.execute(bank_imports.insert().values(id=str(uuid.uuid4()), tenant_id=tenant, imported_at=at,
                                                   file_name="k.csv", file_size=1, sha256="0" * 64, rows=1, imported=1,
                                                   duplicates=0, error_count=0, errors=[], warnings=[]))
        for n, at in enumerate((_at(2017, 5, 1), _at(2024, 1, 1))):
            c.execute(source_files.insert().values(id=str(uuid.uuid4()), tenant_id="se", system="workcloud",
                                                   file_name="p.csv", sha256=f"{n}" * 64, status="loaded",
                                                   ingested_at=at))
    _events(url, "se", [_at(2017, 3, 1), _at(2018, 2, 1), _at(2018, 12, 31), _at(2020, 1, 1), _at(2026, 1, 1)])
    _events(url, "dk", [_at(2019, 1, 1), _at(2020, 12, 31)])


TABLES = (sync_logs, integration_jobs, dead_letters, quarantine, alerts, invoice_extractions, invoice_reviews,
          bank_imports, source_files, audit_events)


def _counts(url: str) -> dict[tuple[str, str], int]:
    with open_store(url).connect() as connection:
        return {(tenant, table.name): count for table in TABLES for tenant, count in connection.execute(
            sa.select(table.c.tenant_id, sa.func.count()).group_by(table.c.tenant_id))}


def _steps(report: Any) -> list[tuple[str, str, str, dt.datetime, int]]:
    return [(s.tenant_id, s.table, s.action, s.before, s.rows) for s in report.steps]


def _reviews(url: str) -> dict[str, dict[str, Any]]:
    with open_store(url).connect() as connection:
        return {row.given_number: row._asdict() for row in connection.execute(sa.select(invoice_reviews))}


def test_retention_dry_run_counts_exactly_and_apply_removes_exactly_that_keeping_the_chain(database_url: str) -> None:
    _fill_retention_store(database_url)
    engine = open_store(database_url)
    before, reviews_before = _counts(database_url), _reviews(database_url)

    dry = plan_retention.fn(engine, POLICY, NOW)
    after_dry = _counts(database_url)
    applied = apply_retention.fn(engine, POLICY, NOW, "retention/test")
    after, reviews_after = _counts(database_url), _reviews(database_url)
    again = apply_retention.fn(engine, POLICY, NOW, "retention/test")

    se, dk = _at(2019, 1, 1), _at(2021, 1, 1)
    expected = [
        ("dk", "sync_logs", "delete", LOGS_BEFORE, 0), ("dk", "integration_jobs", "delete", LOGS_BEFORE, 0),
        ("dk", "dead_letters", "delete", LOGS_BEFORE, 0), ("dk", "quarantine", "delete", LOGS_BEFORE, 0),
        ("dk", "alerts", "delete", LOGS_BEFORE, 0),
        ("dk", "invoice_extractions", "delete", PERSONAL_BEFORE, 0),
        ("dk", "invoice_reviews", "anonymise", PERSONAL_BEFORE, 0), ("dk", "invoice_reviews", "delete", dk, 0),
        ("dk", "bank_imports", "delete", dk, 1), ("dk", "source_files", "delete", dk, 0),
        ("dk", "audit_events", "delete", dk, 2),
        ("se", "sync_logs", "delete", LOGS_BEFORE, 3), ("se", "integration_jobs", "delete", LOGS_BEFORE, 1),
        ("se", "dead_letters", "delete", LOGS_BEFORE, 1), ("se", "quarantine", "delete", LOGS_BEFORE, 1),
        ("se", "alerts", "delete", LOGS_BEFORE, 1),
        ("se", "invoice_extractions", "delete", PERSONAL_BEFORE, 1),
        ("se", "invoice_reviews", "anonymise", PERSONAL_BEFORE, 1), ("se", "invoice_reviews", "delete", se, 1),
        ("se", "bank_imports", "delete", se, 1), ("se", "source_files", "delete", se, 1),
        ("se", "audit_events", "delete", se, 3),
    ]
    assert _steps(dry) == expected
    assert after_dry == before
    assert _steps(applied) == expected and applied.refused == {}
    retention_events = {"se": 10, "dk": 1}  # one per step that did something, besides the audit trail's
    for (tenant, table), count in before.items():
        removed = sum(s.rows for s in applied.steps if (s.tenant_id, s.table, s.action) == (tenant, table, "delete"))
        added = retention_events[tenant] + 1 if table == "audit_events" else 0  # and the checkpoint
        assert after.get((tenant, table), 0) == count - removed + added, (tenant, table)
    assert [s.rows for s in again.steps] == [0] * len(expected)

    with engine.connect() as connection:
        assert (verify_chain(connection, "se").ok, verify_chain(connection, "se").events_checked) == (True, 2 + 10 + 1)
        assert (verify_chain(connection, "dk").ok, verify_chain(connection, "dk").events_checked) == (True, 1 + 1)
        checkpoint = connection.execute(sa.select(audit_events.c.new_state).where(
            audit_events.c.tenant_id == "se", audit_events.c.entity_type == "audit_chain")).scalar_one()
        first_left = connection.execute(sa.select(sa.func.min(audit_events.c.seq))
                                        .where(audit_events.c.tenant_id == "se")).scalar_one()
    assert (checkpoint["removed"], checkpoint["before"]) == (3, "2019-01-01T00:00:00.000000Z")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as connection:  # the guard is back once the checkpoint is not the head
            connection.execute(audit_events.delete().where(audit_events.c.seq == first_left))

    assert set(reviews_after) == {"200", "300", "400"}
    assert reviews_after["300"] == reviews_before["300"] and reviews_after["400"] == reviews_before["400"]
    old, new = reviews_before["200"], reviews_after["200"]
    personal = {"decided_by", "comment", "complaint", "analysis"}
    assert {k: v for k, v in new.items() if k not in personal} == {k: v for k, v in old.items() if k not in personal}
    assert (new["decided_by"], new["comment"]) == (ANONYMISED, None)
    assert new["complaint"] == {**COMPLAINT, "to": [ANONYMISED]}
    fields = new["analysis"]["extraction"]["fields"]
    assert fields == {**ANALYSIS["extraction"]["fields"], "reference": ANONYMISED, "our_reference": ANONYMISED,
                      "delivery_address": ANONYMISED,
                      "project_hints": [{"kind": "reference", "value": ANONYMISED, "label": "Er referens"},
                                        {"kind": "project_number", "value": "1313", "label": "Projekt"}]}
    assert new["analysis"]["candidates"][0]["reasons"] == [f"Er referens {ANONYMISED} är projektledare för 1313",
                                                           "Projektnummer 1313 på fakturan"]
    assert new["analysis"]["checks"][0]["message"] == f"Er referens {ANONYMISED} finns"
    assert {k: v for k, v in new["analysis"].items() if k not in ("extraction", "candidates", "checks")} == {
        k: v for k, v in ANALYSIS.items() if k not in ("extraction", "candidates", "checks")}


def _tamper(connection: sa.Connection, seq: int) -> None:
    """Alter an audit event as someone with direct database access would, past the append-only guard."""
    statement = sa.text("UPDATE audit_events SET new_state = '{\"project_number\": \"9999\"}' WHERE seq = :seq")
    if is_postgres(connection):
        connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        connection.execute(statement, {"seq": seq})
        connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        connection.execute(statement, {"seq": seq})


def test_retention_leaves_a_broken_chain_alone_and_does_the_rest(database_url: str) -> None:
    _events(database_url, "se", [_at(2017, 3, 1), _at(2017, 4, 1), _at(2020, 1, 1)])
    engine = open_store(database_url)
    with engine.begin() as connection:
        _log(connection, "se", "fortnox", "invoice", "success", 1, at=_at(2024, 1, 1))
        _tamper(connection, connection.execute(sa.select(sa.func.min(audit_events.c.seq))).scalar_one())

    report = apply_retention.fn(engine, POLICY, NOW, "retention/test")

    assert list(report.refused) == ["se"]
    assert "broken at seq" in report.refused["se"]
    assert _counts(database_url) == {("se", "audit_events"): 3 + 1}  # the sync log went, and its retention event came


def test_retention_command_is_a_dry_run_unless_told_to_apply(store_env: str) -> None:
    two_years_ago = dt.datetime.now(UTC) - dt.timedelta(days=730)
    with open_store(store_env).begin() as connection:
        _log(connection, "acme", "fortnox", "invoice", "success", 1, at=two_years_ago)
    runner = CliRunner()

    dry = runner.invoke(CLI, ["retention", "run", "--tenant", "acme"])
    kept = _counts(store_env)
    applied = runner.invoke(CLI, ["retention", "run", "--tenant", "acme", "--apply"])

    assert dry.exit_code == 0 and applied.exit_code == 0, dry.output + applied.output
    assert "Retention dry run" in dry.output
    assert kept == {("acme", "sync_logs"): 1}
    assert _counts(store_env) == {("acme", "audit_events"): 1}  # the record of the deletion
    with open_store(store_env).connect() as connection:
        assert verify_chain(connection, "acme").ok
