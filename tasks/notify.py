"""Alerts (INT-01-OPS-002): rules over the store, and the channels that carry them.

The requirement names three conditions: failed transactions, a rising error rate and performance
problems. Each rule reads them from what the pipeline already records, over a window ending now:

- ``SYNC_FAILED``: a dataset sync that failed as a whole (sync log status ``failed``);
- ``DEAD_LETTERS``: calls that failed for good and wait in the dead-letter queue;
- ``ERROR_RATE``: more than the threshold's share of a system's records failed (held back in
  quarantine or dead-lettered) out of all it synced;
- ``SLOW_RUN``: a dataset sync that took longer than the threshold;
- ``FLOW_FAILED``: a Prefect flow run that failed or crashed (raised by the flow's state hook).

An alert says what it is about, in Swedish and English, with the figures behind it. A condition
is announced once per cooldown: every alert is stored with a fingerprint (code, tenant and what
it concerns), and one whose fingerprint went out within the cooldown is held back. Channels are
a webhook (JSON, signed with HMAC-SHA256 when a secret is set) and e-mail through Microsoft
Graph; what each did is stored with the alert. docs/runbook.md says what to do about each code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx
import sqlalchemy as sa
from tasks.runtime import task

from connectors.graph_mail import GraphMailClient, MailMessage
from connectors.http import ApiError
from models.tables import alerts, dead_letters, sync_logs
from tasks.metrics import FAILED_RECORDS

Severity = Literal["warning", "critical"]
SIGNATURE_HEADER = "X-Ledgerflow-Signature"
ANNOUNCED = ("sent", "logged")  # the statuses the cooldown counts: a failed delivery is tried again


@dataclass(frozen=True)
class Alert:
    """One condition worth a person's attention."""

    code: str
    severity: Severity
    tenant_id: str
    about: str  # what it concerns: a system, a system's dataset, a flow
    sv: str
    en: str
    details: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """The same condition has the same fingerprint from one check to the next."""
        return f"{self.code}:{self.tenant_id}:{self.about}"

    @property
    def message(self) -> str:
        return f"{self.sv}\n{self.en}"


@dataclass(frozen=True)
class Thresholds:
    window: dt.timedelta
    error_rate: float  # share of failed records, 0..1; alert when above
    slow_seconds: float  # one dataset's sync; alert when above


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _percent(share: float, decimal_comma: bool) -> str:
    text = f"{share * 100:.1f}"
    return f"{text.replace('.', ',')} %" if decimal_comma else f"{text}%"


# --------------------------------------------------------------------------- the rules
def _recent_logs(connection: sa.Connection, since: dt.datetime, tenant_id: str | None) -> list[sa.Row[Any]]:
    query = (sa.select(sync_logs.c.tenant_id, sync_logs.c.system, sync_logs.c.data_type, sync_logs.c.status,
                       sync_logs.c.record_count, FAILED_RECORDS.label("failed"), sync_logs.c.duration_ms,
                       sync_logs.c.error_message)
             .where(sync_logs.c.created_at >= since)
             .order_by(sync_logs.c.created_at))
    if tenant_id is not None:
        query = query.where(sync_logs.c.tenant_id == tenant_id)
    return list(connection.execute(query))


def failed_syncs(logs: Sequence[sa.Row[Any]]) -> list[Alert]:
    """SYNC_FAILED per tenant and system."""
    failed: dict[tuple[str, str], list[sa.Row[Any]]] = defaultdict(list)
    for log in logs:
        if log.status == "failed":
            failed[log.tenant_id, log.system].append(log)
    found = []
    for (tenant, system), rows in failed.items():
        datasets = sorted({row.data_type for row in rows})
        error = rows[-1].error_message or "-"
        found.append(Alert(
            "SYNC_FAILED", "critical", tenant, system,
            f"{_count(len(rows), 'synkning', 'synkningar')} från {system} misslyckades ({', '.join(datasets)}). "
            f"Senaste fel: {error}",
            f"{_count(len(rows), 'sync', 'syncs')} from {system} failed ({', '.join(datasets)}). Last error: {error}",
            {"system": system, "failed_runs": len(rows), "data_types": datasets, "last_error": error},
        ))
    return found


def error_rates(logs: Sequence[sa.Row[Any]], thresholds: Thresholds) -> list[Alert]:
    """ERROR_RATE per tenant and system: failed records / (loaded + failed) above the threshold."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for log in logs:
        counts = totals[log.tenant_id, log.system]
        counts[0] += log.failed
        counts[1] += log.record_count + log.failed
    found = []
    minutes = int(thresholds.window.total_seconds() // 60)
    for (tenant, system), (failed, total) in totals.items():
        if not total or failed / total <= thresholds.error_rate:
            continue
        rate = failed / total
        found.append(Alert(
            "ERROR_RATE", "warning", tenant, system,
            f"Feltakten för {system} är {_percent(rate, True)} ({failed} av {total} poster) de senaste {minutes} "
            f"minuterna, över gränsen {_percent(thresholds.error_rate, True)}.",
            f"The error rate of {system} is {_percent(rate, False)} ({failed} of {total} records) in the last "
            f"{minutes} minutes, above the limit of {_percent(thresholds.error_rate, False)}.",
            {"system": system, "failed_records": failed, "records": total, "rate": round(rate, 4),
             "threshold": thresholds.error_rate, "window_minutes": minutes},
        ))
    return found


def slow_runs(logs: Sequence[sa.Row[Any]], thresholds: Thresholds) -> list[Alert]:
    """SLOW_RUN per tenant, system and dataset: a sync longer than the threshold."""
    slow: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for log in logs:
        if log.duration_ms is not None and log.duration_ms / 1000 > thresholds.slow_seconds:
            slow[log.tenant_id, log.system, log.data_type].append(log.duration_ms / 1000)
    found = []
    for (tenant, system, data_type), durations in slow.items():
        worst = max(durations)
        found.append(Alert(
            "SLOW_RUN", "warning", tenant, f"{system}/{data_type}",
            f"Synkningen av {data_type} från {system} tog {worst:.0f} s, över gränsen {thresholds.slow_seconds:.0f} s "
            f"({_count(len(durations), 'gång', 'gånger')}).",
            f"Syncing {data_type} from {system} took {worst:.0f} s, above the limit of {thresholds.slow_seconds:.0f} s "
            f"({_count(len(durations), 'time', 'times')}).",
            {"system": system, "data_type": data_type, "slow_runs": len(durations), "slowest_seconds": worst,
             "threshold_seconds": thresholds.slow_seconds},
        ))
    return found


def new_dead_letters(connection: sa.Connection, since: dt.datetime, tenant_id: str | None) -> list[Alert]:
    """DEAD_LETTERS per tenant and system: pending letters queued within the window."""
    query = (sa.select(dead_letters.c.tenant_id, dead_letters.c.system, dead_letters.c.error_category, sa.func.count())
             .where(dead_letters.c.status == "pending", dead_letters.c.queued_at >= since)
             .group_by(dead_letters.c.tenant_id, dead_letters.c.system, dead_letters.c.error_category))
    if tenant_id is not None:
        query = query.where(dead_letters.c.tenant_id == tenant_id)
    categories: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for tenant, system, category, count in connection.execute(query):
        categories[tenant, system][category] = count
    found = []
    for (tenant, system), counts in categories.items():
        count = sum(counts.values())
        found.append(Alert(
            "DEAD_LETTERS", "warning", tenant, system,
            f"{count} anrop till {system} misslyckades permanent och väntar i dead letter-kön (ledgerflow dlq list).",
            f"{_count(count, 'call', 'calls')} to {system} failed for good and wait in the dead-letter queue "
            "(ledgerflow dlq list).",
            {"system": system, "dead_letters": count, "by_category": dict(sorted(counts.items()))},
        ))
    return found


@task(name="evaluate-alerts")
def evaluate(engine: sa.Engine, thresholds: Thresholds, now: dt.datetime, tenant_id: str | None = None) -> list[Alert]:
    """Every alert whose condition holds in the window ending `now` (one tenant's, or every tenant's)."""
    since = now - thresholds.window
    with engine.connect() as connection:
        logs = _recent_logs(connection, since, tenant_id)
        letters = new_dead_letters(connection, since, tenant_id)
    return [*failed_syncs(logs), *letters, *error_rates(logs, thresholds), *slow_runs(logs, thresholds)]


def flow_failed(flow_name: str, flow_run_id: str, flow_run_name: str, tenant_id: str, state: str,
                reason: str | None) -> Alert:
    """FLOW_FAILED: a flow run ended Failed or Crashed."""
    reason = reason or "-"
    return Alert(
        "FLOW_FAILED", "critical", tenant_id, flow_name,
        f"Flödet {flow_name} (körning {flow_run_name}) slutade som {state}: {reason}",
        f"Flow {flow_name} (run {flow_run_name}) ended {state}: {reason}",
        {"flow": flow_name, "flow_run_id": flow_run_id, "flow_run_name": flow_run_name, "state": state,
         "reason": reason},
    )


# --------------------------------------------------------------------------- channels
class Channel(Protocol):
    """Carries alerts somewhere; raises (httpx.HTTPError or ApiError) when it could not."""

    name: str

    def send(self, batch: Sequence[Alert], now: dt.datetime) -> None: ...


def payload(batch: Sequence[Alert], now: dt.datetime) -> dict[str, Any]:
    """The webhook body: the alerts of one check, with the moment they were sent (against replays)."""
    return {"source": "ledgerflow", "sent_at": now.isoformat(),
            "alerts": [{"code": a.code, "severity": a.severity, "tenant": a.tenant_id, "about": a.about,
                        "fingerprint": a.fingerprint, "message": {"sv": a.sv, "en": a.en}, "details": a.details}
                       for a in batch]}


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks, in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


@dataclass(frozen=True)
class WebhookChannel:
    """POSTs the alerts as JSON to a URL (a chat incoming webhook, an incident tool, a proxy)."""

    url: str
    secret: str | None = None
    timeout: float = 10.0
    name: str = "webhook"

    def send(self, batch: Sequence[Alert], now: dt.datetime) -> None:
        body = json.dumps(payload(batch, now), ensure_ascii=False, default=str).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "ledgerflow-alerts"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        httpx.post(self.url, content=body, headers=headers, timeout=self.timeout).raise_for_status()


def alert_mail(batch: Sequence[Alert], recipients: Sequence[str]) -> MailMessage:
    """One e-mail for the alerts of one check: each in Swedish and English, with its figures."""
    codes = ", ".join(sorted({a.code for a in batch}))
    parts = []
    for a in batch:
        figures = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                          for k, v in a.details.items())
        parts.append(f"<h3>{html.escape(a.code)} ({a.severity}) · {html.escape(a.tenant_id)}</h3>"
                     f"<p>{html.escape(a.sv)}</p><p><i>{html.escape(a.en)}</i></p><table>{figures}</table>")
    footer = "<p>Åtgärder / what to do: docs/runbook.md</p>"
    return MailMessage(subject=f"[ledgerflow] {len(batch)} larm / alerts: {codes}", html="".join(parts) + footer,
                       to=list(recipients))


@dataclass(frozen=True)
class MailChannel:
    """E-mails the alerts through Microsoft Graph."""

    client: GraphMailClient
    sender: str | None
    recipients: tuple[str, ...]
    name: str = "email"

    def send(self, batch: Sequence[Alert], now: dt.datetime) -> None:
        self.client.send(alert_mail(batch, self.recipients), self.sender)


# --------------------------------------------------------------------------- sending, once per cooldown
@dataclass(frozen=True)
class Dispatch:
    """What one dispatch did."""

    sent: list[Alert]  # announced now (stored as "logged" when no channel is set up)
    held_back: list[Alert]  # announced within the cooldown already
    delivery: dict[str, str]  # channel -> "ok" or its error

    @property
    def failed_channels(self) -> list[str]:
        return [name for name, outcome in self.delivery.items() if outcome != "ok"]


def _announced_since(connection: sa.Connection, batch: Sequence[Alert], since: dt.datetime) -> set[str]:
    return set(connection.execute(
        sa.select(alerts.c.fingerprint).where(
            alerts.c.tenant_id.in_({a.tenant_id for a in batch}), alerts.c.fingerprint.in_({a.fingerprint for a in batch}),
            alerts.c.status.in_(ANNOUNCED), alerts.c.created_at > since,
        )
    ).scalars())


@task(name="send-alerts")
def dispatch(engine: sa.Engine, batch: Sequence[Alert], channels: Sequence[Channel], now: dt.datetime,
             cooldown: dt.timedelta) -> Dispatch:
    """Send the alerts not announced within the cooldown through every channel, and store them."""
    if not batch:
        return Dispatch([], [], {})
    with engine.connect() as connection:
        announced = _announced_since(connection, batch, now - cooldown)
    fresh = [a for a in batch if a.fingerprint not in announced]
    held_back = [a for a in batch if a.fingerprint in announced]
    if not fresh:
        return Dispatch([], held_back, {})
    delivery: dict[str, str] = {}
    for channel in channels:
        try:
            channel.send(fresh, now)
            delivery[channel.name] = "ok"
        except (httpx.HTTPError, ApiError) as error:
            delivery[channel.name] = f"{type(error).__name__}: {error}"
    status = "logged" if not channels else "sent" if "ok" in delivery.values() else "failed"
    with engine.begin() as connection:
        connection.execute(alerts.insert(), [
            {"id": str(uuid.uuid4()), "tenant_id": a.tenant_id, "code": a.code, "fingerprint": a.fingerprint,
             "severity": a.severity, "message": a.message, "details": a.details, "delivery": delivery,
             "status": status, "created_at": now}
            for a in fresh
        ])
    return Dispatch(fresh, held_back, delivery)
