"""What the command line prints: summaries as tables a person can read at a glance."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:  # every command imports this module; the flows' own imports are for the commands that run them
    from flows.invoice_validation import ValidationSummary
    from flows.workcloud_ingest import IngestSummary
    from tasks.export import ExportReport
    from tasks.load import BankImportReport, SyncReport
    from tasks.progress import Listener

console = Console()


@contextmanager
def progress_bar() -> Iterator[Listener]:
    """A terminal progress bar fed by `tasks.progress` reports: one line per step, the current
    one moving. It disappears when done, leaving the summary that follows."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        current: dict[str, object] = {}

        def show(step: str, done: int, total: int) -> None:
            if step not in current:
                current[step] = bar.add_task(step, total=total or None)
            bar.update(current[step], completed=done, total=total or None)  # type: ignore[arg-type]

        yield show


def print_ingest(summary: IngestSummary) -> None:
    if not summary.files:
        console.print(f"WorkCloud ingest, tenant {summary.tenant}: no exports (*.csv, *.txt) in the folder")
        return
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


def print_bank_import(reports: list[BankImportReport], *, dry_run: bool, row_log: bool) -> None:
    """The summary of seed 004 §6.3, per file, in Swedish amounts; the row-level log on request."""
    from models.types import swedish_amount

    for r in reports:
        title = "Provkörning klar (inget sparat)" if dry_run else "Import slutförd!"
        console.print(f"\n[bold]{r.file}[/]: {r.bank or '-'} / {r.format or '-'} — {title}")
        if r.file_error:
            console.print(f"[red]✗ {r.errors[0]['message']}[/] ({r.errors[0]['code']})")
            continue
        verb = "skulle importeras" if dry_run else "importerade"
        console.print(f"[green]✓ {r.imported} transaktioner {verb}[/]")
        console.print(f"[yellow]⚠ {r.duplicates} dubbletter överhoppades[/]")
        console.print(f"[red]✗ {len(r.errors)} rader kunde inte importeras[/]"
                      + (" (se logg för detaljer: --log)" if r.errors and not row_log else ""))
        console.print(f"Totalt belopp importerat: {swedish_amount(r.net_total, 'kr')}")
        console.print(f"Inkomster: {swedish_amount(r.income_total, 'kr')} ({r.income_count} transaktioner)")
        console.print(f"Utgifter: {swedish_amount(r.expense_total, 'kr')} ({r.expense_count} transaktioner)")
        if row_log:
            for kind, messages in (("fel", r.errors), ("varning", r.warnings)):
                for m in messages:
                    console.print(f"  rad {m['row']}: {kind} {m['code']}: {m['message']}")


def print_validation(summary: ValidationSummary) -> None:
    table = Table("", "invoices", title=f"Supplier-invoice validation, tenant {summary.tenant}")
    for label, value in (
        ("changed in Fortnox since the last run", summary.listed), ("analysed", summary.processed),
        ("auto-approved (>= 95 %), project written to Fortnox", summary.auto_approved),
        ("to review: suggestion (80-94 %)", summary.suggestion), ("to review: alternatives (60-79 %)", summary.alternatives),
        ("to review: manual (< 60 %)", summary.manual), ("of them without a PDF", summary.no_document),
        ("complaints sent", summary.complaints_sent), ("escalated (due soon)", summary.escalated),
        ("settled in Fortnox meanwhile (left the list)", summary.settled),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    if summary.failed_writes:
        console.print(f"[red]{summary.failed_writes} approvals were refused by Fortnox; they wait on the review list[/]")
