"""``ledgerflow metrics …``, ``ledgerflow alerts …`` and ``ledgerflow retention …``: running the service (OPS-002..004).

docs/runbook.md tells an operator when to use which.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli_options import load_settings
from flows.console import console

metrics_app = typer.Typer(help="Prometheus metrics of the syncs, API calls and dead letters (seed 003 §6.3).",
                          no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts on failed syncs, dead letters, error rate and slow runs (OPS-002).",
                         no_args_is_help=True)
retention_app = typer.Typer(help="Delete or anonymise what is past its retention period (OPS-003).",
                            no_args_is_help=True)

Tenant = Annotated[str | None, typer.Option("--tenant", "-t", help="Only this tenant (default: every tenant).")]


@metrics_app.command("serve")
def metrics_serve(
    port: Annotated[int, typer.Option(help="Port to serve /metrics on.")] = 9464,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for a Prometheus on another host).")]
    = "127.0.0.1",
) -> None:
    """Serve the metrics for Prometheus to scrape until interrupted; each scrape reads the store."""
    from models.store import open_store
    from tasks.metrics import serve_metrics

    server, thread = serve_metrics(open_store(load_settings().database_url), port, host)
    console.print(f"metrics on http://{host}:{server.server_port}/metrics. Ctrl-C stops.")
    thread.join()


@metrics_app.command("write")
def metrics_write(file: Annotated[Path, typer.Argument(help="The .prom file (node_exporter's textfile directory).")]
                  ) -> None:
    """Write the metrics once, in the text format node_exporter's textfile collector reads."""
    from models.store import open_store
    from tasks.metrics import write_metrics

    write_metrics(open_store(load_settings().database_url), file)
    console.print(f"metrics written to {file}")


@alerts_app.command("check")
def alerts_check(tenant: Tenant = None) -> None:
    """Evaluate the alert rules now and send what was not sent within the cooldown; exit 1 if a channel failed."""
    from flows.alerting import AlertDeliveryError, alert_check

    try:
        result = alert_check(tenant=tenant)
    except AlertDeliveryError as error:
        console.print(f"[red]alerts could not be delivered:[/] {error}")
        raise typer.Exit(1) from None
    table = Table("code", "severity", "tenant", "about", "message", "", title="Alerts")
    for alert in result.sent:
        table.add_row(alert.code, alert.severity, alert.tenant_id, alert.about, alert.en,
                      "sent" if result.delivery else "stored")
    for alert in result.held_back:
        table.add_row(alert.code, alert.severity, alert.tenant_id, alert.about, alert.en, "cooldown")
    console.print(table if table.row_count else "no alerts: every rule is below its threshold")


@alerts_app.command("list")
def alerts_list(
    tenant: Tenant = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """Show the alerts raised, newest first, with where they went."""
    import sqlalchemy as sa

    from models.store import open_store
    from models.tables import alerts

    query = sa.select(alerts).order_by(alerts.c.created_at.desc()).limit(limit)
    if tenant:
        query = query.where(alerts.c.tenant_id == tenant)
    with open_store(load_settings().database_url).connect() as connection:
        rows = list(connection.execute(query))
    table = Table("raised", "code", "severity", "tenant", "message", "status", "delivery", title="Alerts raised")
    for row in rows:
        table.add_row(f"{row.created_at:%Y-%m-%d %H:%M}", row.code, row.severity, row.tenant_id,
                      row.message.splitlines()[-1], row.status, ", ".join(f"{k}: {v}" for k, v in row.delivery.items()))
    console.print(table)


@retention_app.command("run")
def retention_run(
    tenant: Tenant = None,
    apply: Annotated[bool, typer.Option("--apply", help="Delete and anonymise (without it: only count).")] = False,
) -> None:
    """List what is past its retention period per tenant and table, and with --apply delete or anonymise it."""
    from flows.retention import RetentionRefused, retention

    try:
        report = retention(tenant=tenant, dry_run=not apply)
    except RetentionRefused as error:
        console.print(f"[red]audit events left alone:[/] {error}")
        raise typer.Exit(1) from None
    table = Table("tenant", "table", "action", "before", "rows", "why",
                  title="Retention: what was done" if apply else "Retention dry run: what --apply would do")
    for step in report.steps:
        table.add_row(step.tenant_id, step.table, step.action, step.before.date().isoformat(), f"{step.rows:,}",
                      step.reason)
    console.print(table)
