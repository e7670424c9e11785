"""What the command line prints: summaries as tables a person can read at a glance."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flows.workcloud_ingest import IngestSummary
from tasks.export import ExportReport
from tasks.load import SyncReport

console = Console()


def print_ingest(summary: IngestSummary) -> None:
    table = Table("file", "kind", "read", "held back", "new", "changed", "same", "warn", "status",
                  title=f"WorkCloud ingest, tenant {summary.tenant}")
    for r in summary.files:
        table.add_row(r.file, r.kind or "-", f"{r.read:,}", f"{r.quarantined:,}", f"{r.inserted:,}", f"{r.updated:,}",
                      f"{r.unchanged:,}", f"{r.warnings:,}", r.status)
    console.print(table)
    for r in summary.files:
        if r.status == "failed":
            console.print(f"[red]{r.file} was not loaded:[/] {r.error}")


def print_sync(reports: list[SyncReport]) -> None:
    table = Table("tenant", "dataset", "changed", "held back", "dead letters", "new", "updated", "same", "conflicts",
                  "status", title="Import sync")
    for r in reports:
        table.add_row(r.tenant, r.dataset, f"{r.listed:,}", f"{r.quarantined:,}", f"{r.dead_letters:,}",
                      f"{r.inserted:,}", f"{r.updated:,}", f"{r.unchanged:,}", f"{r.conflicts:,}", r.status)
    console.print(table)


def print_export(reports: list[ExportReport]) -> None:
    table = Table("tenant", "entity", "due", "created", "updated", "found created", "refused", title="Export")
    for r in reports:
        table.add_row(r.tenant, r.entity, f"{r.due:,}", f"{r.created:,}", f"{r.updated:,}", f"{r.found_existing:,}",
                      f"{r.dead_letters:,}")
    console.print(table)
