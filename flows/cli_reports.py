"""``ledgerflow report daily|weekly|monthly``: write the reconciliation reports now (seed 003 §6.5).

The same flow the schedules run, in this process; it prints where each report went and its key
figures. Discrepancies are what a report is for, so they do not fail the command; a report
that could not compare with Fortnox does (exit code 1), after writing what it could.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table

from flows.console import console

report_app = typer.Typer(help="Reconciliation reports (seed 003 §6.5) as HTML and CSV under LEDGERFLOW_REPORTS_DIR.",
                         no_args_is_help=True)

Tenant = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant id (default: every tenant in the store).")]
Date = Annotated[str | None, typer.Option("--date", "-d", help="A day (YYYY-MM-DD) in the period to report on "
                                          "(default: the last whole period, in Swedish time).")]

HELP = {
    "daily": "Daily sync summary: records synced, failed, skipped, quarantined; backlogs; failed runs.",
    "weekly": "Weekly reconciliation: the week's records in the store against Fortnox, and payment matching.",
    "monthly": "Monthly audit: full comparison with Fortnox, drift, backlog ageing, audit-chain check.",
}


def _command(kind: str) -> Callable[..., None]:
    def command(tenant: Tenant = None, date: Date = None) -> None:
        from flows.reconciliation import ReconciliationIncomplete, reconciliation

        try:
            written = reconciliation(kind, tenant, date)  # type: ignore[arg-type]
        except ReconciliationIncomplete as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(1) from error
        for report in written:
            table = Table("nyckeltal / key figure", "värde / value", title=f"{report.tenant} {report.period.label}")
            for figure in report.figures:
                colour = {"ok": "green", "warn": "yellow", "bad": "red"}.get(figure.tone, "default")
                table.add_row(figure.label, f"[{colour}]{figure.value}[/]")
            console.print(table)
            for notice in report.notices:
                console.print(f"[yellow]{notice}[/]")
            console.print(f"{report.html}  (+ {len(report.csv)} CSV)")

    command.__doc__ = HELP[kind]
    return command


for _kind in HELP:
    report_app.command(_kind)(_command(_kind))
