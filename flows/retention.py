"""Retention (INT-01-OPS-003): delete or anonymise what is past its period; a dry run by default.

What is kept how long, and why, is in `tasks.retention` and docs/runbook.md. The dry run lists,
per tenant and table, the rows a run would delete or anonymise and the cut-off dates; a run with
``dry_run=False`` does exactly that, one transaction per tenant, and records it in the audit trail.
If a tenant's audit chain is broken its events are left alone (they are the evidence) and the run
fails after doing everything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from flows.alerting import notify_failure
from flows.settings import Settings
from models.store import open_store
from tasks.retention import Policy, RetentionReport, apply_retention, plan_retention
from tasks.runtime import flow, publish_table, run_id, run_logger


class RetentionRefused(Exception):
    """Some tenant's audit events were not removed because its chain does not verify."""


def policy(settings: Settings) -> Policy:
    return Policy(settings.retention_log_months, settings.retention_personal_months, settings.jurisdiction,
                  settings.tenant_jurisdictions)


@flow(name="retention", on_failure=notify_failure)
def retention(tenant: str | None = None, dry_run: bool = True) -> RetentionReport:
    """Delete or anonymise what is past its period for every tenant (or one); only count it when `dry_run`."""
    settings = Settings()
    engine = open_store(settings.database_url)
    now = dt.datetime.now(dt.UTC)
    if dry_run:
        report = plan_retention(engine, policy(settings), now, tenant)
    else:
        report = apply_retention(engine, policy(settings), now, f"retention/{run_id()}", tenant)
    verb = "would" if dry_run else "did"
    for step in report.steps:
        if step.rows:
            run_logger().info("%s: %s %s %d rows of %s dated before %s", step.tenant_id, verb, step.action,
                                  step.rows, step.table, step.before.date().isoformat())
    publish_table(
        key="retention-dry-run" if dry_run else "retention",
        table=[{**asdict(step), "before": step.before.date().isoformat()} for step in report.steps],
        description=f"Retention ({'dry run' if dry_run else 'applied'}): rows per tenant and table, and the cut-offs",
    )
    if report.refused:
        raise RetentionRefused("; ".join(report.refused.values()))
    return report


if __name__ == "__main__":
    retention()
