"""Bank CSV import, on demand: ICA-banken and Swedbank exports into bank transactions (seed 004).

Each file is read and validated on its own (a bad file or row never stops the others), its
booked rows are gated by GX, compared with what is stored for the account (the duplicate rule
of §5.3, see `tasks.mapping.bank`) and loaded in one transaction with its import-log row
(§6.4). A dry run does everything but write.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from flows.alerting import notify_failure
from flows.settings import Settings
from models.types import swedish_amount
from tasks import progress
from tasks.extract import read_bank_statement
from tasks.load import BankImportReport, load_bank_statement
from tasks.runtime import Progress, flow, run_id, publish_markdown

BankChoice = Literal["auto", "ica", "swedbank"]


def statement_files(paths: list[str]) -> list[Path]:
    """The files named, and the .csv / .txt files of the folders named, in name order."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
        elif path.exists():
            files.append(path)
        else:
            where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
            raise FileNotFoundError(
                f"{path}{where} does not exist: name existing files or folders in the deployment parameter `paths` "
                "(or as the FILE arguments of ledgerflow bank-import); `ledgerflow sandbox bank-export` writes "
                "sample exports to var/bank")
    return files


def summary_markdown(reports: list[BankImportReport], dry_run: bool) -> str:
    lines = [f"# Bankimport{' (provkörning, inget sparat)' if dry_run else ''}", "",
             "| fil | bank | format | rader | importerade | dubbletter | fel | inkomster | utgifter | netto |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        lines.append(
            f"| {r.file} | {r.bank or '-'} | {r.format or '-'} | {r.rows} | {r.imported} | {r.duplicates} | "
            f"{len(r.errors)} | {swedish_amount(r.income_total, 'kr')} ({r.income_count}) | "
            f"{swedish_amount(r.expense_total, 'kr')} ({r.expense_count}) | {swedish_amount(r.net_total, 'kr')} |"
        )
    for r in reports:
        for e in r.errors[:50]:
            lines.append(f"- **{r.file}** rad {e['row']}: `{e['code']}` {e['message']}")
    return "\n".join(lines)


@flow(name="bank_import", on_failure=notify_failure)
def bank_import(
    paths: list[str],
    bank: BankChoice = "auto",
    account: str | None = None,
    tenant: str | None = None,
    dry_run: bool = False,
    allow_duplicates: bool = False,
) -> list[BankImportReport]:
    """Import bank statement files (or every .csv/.txt in the folders given)."""
    settings = Settings()
    tenant_id = tenant or settings.tenant
    actor = f"bank_import/{run_id()}"
    files = statement_files(paths)
    reports: list[BankImportReport] = []
    artifact = Progress("Bank import: files and rows done")

    def show(step: str, done: int, total: int) -> None:
        if step == "sparar" and total:
            artifact.update(100 * (len(reports) + done / total) / len(files))

    with progress.listening(show):
        for path in files:
            progress.report(f"läser {path.name}", 0, path.stat().st_size)
            statement = read_bank_statement(path, bank, settings.bank_max_file_mb * 1024 * 1024)
            reports.append(load_bank_statement(settings.database_url, tenant_id, statement, account, actor,
                                               dry_run=dry_run, allow_duplicates=allow_duplicates))
            artifact.update(100 * len(reports) / len(files))
    publish_markdown(
        key=f"bank-import-{re.sub(r'[^a-z0-9-]+', '-', tenant_id.lower())}",
        markdown=summary_markdown(reports, dry_run),
        description="Bank import: rows, imported, duplicates skipped, errors and totals per file",
    )
    return reports


if __name__ == "__main__":
    import sys

    bank_import(sys.argv[1:])
