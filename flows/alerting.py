"""The alert check (INT-01-OPS-002) and the flow-failure hook.

`alert_check` runs every few minutes (prefect.yaml): it evaluates the rules of `tasks.notify` over
the store and sends what was not announced within the cooldown. `notify_failure` is the failure
hook that announces a flow run that failed or crashed the moment it does, through the same
channels and cooldown, whether the run was recorded on Prefect (as its state hook) or ran
locally; attach it to a flow with::

    @flow(name=..., on_failure=notify_failure)   # tasks.runtime.flow

A crashed run (its process died) never reaches the alert check's rules otherwise. The hook reads
the tenant from the run's ``tenant`` parameter, or the default tenant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flows.connections import graph_mailer
from flows.settings import Settings
from models.store import open_store
from tasks.notify import (
    Alert, Channel, Dispatch, MailChannel, Thresholds, WebhookChannel, dispatch, evaluate, flow_failed,
)
from tasks.runtime import RunEnd, flow, publish_table, run_logger


class AlertDeliveryError(Exception):
    """A channel could not carry the alerts; they are stored with the error and tried again next check."""


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(window=dt.timedelta(minutes=settings.alert_window_minutes),
                      error_rate=settings.alert_error_rate, slow_seconds=settings.alert_slow_seconds)


@contextmanager
def channels(settings: Settings) -> Iterator[list[Channel]]:
    """The configured channels (none: alerts are only stored and logged); closes the mail client after."""
    found: list[Channel] = []
    if settings.alert_webhook_url:
        secret = settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else None
        found.append(WebhookChannel(settings.alert_webhook_url, secret))
    mailer = graph_mailer(settings) if settings.alert_email else None
    if settings.alert_email and mailer is None:
        raise ValueError("LEDGERFLOW_ALERT_EMAIL is set but Microsoft Graph is not: set LEDGERFLOW_GRAPH_TENANT_ID, "
                         "LEDGERFLOW_GRAPH_CLIENT_ID, LEDGERFLOW_GRAPH_CLIENT_SECRET and LEDGERFLOW_GRAPH_SENDER")
    if mailer is not None:
        found.append(MailChannel(mailer, settings.graph_sender, tuple(settings.alert_email)))
    try:
        yield found
    finally:
        if mailer is not None:
            mailer.close()


def _cooldown(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.alert_cooldown_minutes)


@flow(name="alert_check")
def alert_check(tenant: str | None = None) -> Dispatch:
    """Announce failed syncs, new dead letters, a high error rate and slow syncs (every tenant's, or one's)."""
    settings = Settings()
    engine = open_store(settings.database_url)
    logger = run_logger()
    now = dt.datetime.now(dt.UTC)
    found = evaluate(engine, thresholds(settings), now, tenant)
    with channels(settings) as chosen:
        result = dispatch(engine, found, chosen, now, _cooldown(settings))
    for alert in result.sent:
        logger.warning("%s %s: %s", alert.code, alert.tenant_id, alert.en)
    if result.sent and not chosen:
        logger.warning("no alert channel is set up (LEDGERFLOW_ALERT_WEBHOOK_URL, LEDGERFLOW_ALERT_EMAIL): the alerts "
                       "are only stored (ledgerflow alerts list) and logged")
    logger.info("%d alerts sent, %d held back by the cooldown", len(result.sent), len(result.held_back))
    publish_table(
        key=f"alert-check-{re.sub(r'[^a-z0-9-]+', '-', (tenant or 'all').lower())}",
        table=[_row(alert, "sent") for alert in result.sent] + [_row(alert, "cooldown") for alert in result.held_back],
        description="Alerts of this check: sent now, or held back because they went out within the cooldown",
    )
    if result.failed_channels:
        raise AlertDeliveryError("; ".join(f"{name}: {result.delivery[name]}" for name in result.failed_channels))
    return result


def _row(alert: Alert, outcome: str) -> dict[str, Any]:
    return {"code": alert.code, "severity": alert.severity, "tenant": alert.tenant_id, "about": alert.about,
            "message": alert.en, "outcome": outcome}


def notify_failure(end: RunEnd) -> None:
    """The failure hook of every flow: announce the failed or crashed run as FLOW_FAILED."""
    settings = Settings()
    tenant = end.parameters.get("tenant") or settings.tenant
    alert = flow_failed(end.flow_name, end.run_id, end.run_name, tenant, end.state, end.message)
    with channels(settings) as chosen:
        dispatch.fn(open_store(settings.database_url), [alert], chosen, dt.datetime.now(dt.UTC), _cooldown(settings))


if __name__ == "__main__":
    alert_check()
