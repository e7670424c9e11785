"""Extract: read source batches, leaving out what was already loaded or has not changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tasks.runtime import run_logger, task

from connectors import fortnox as fx
from connectors.banks import Statement, read_statement
from connectors.http import NotFoundError, PermanentError, dead_letter
from connectors.workcloud import ExportFile, export_files, read_export
from models.bookkeeping import DeadLetter, loaded_file_hashes
from models.store import open_store
from tasks.mapping.fortnox import Dataset

KIND_ORDER = ("projects", "work_orders", "time_reports")  # the registry before what refers to it
DETAIL_WORKERS = 4  # enough to keep a 25-per-5-s limit busy over a slow link; the limiter does the pacing


@task(name="read-workcloud-exports")
def read_workcloud_exports(directory: Path, database_url: str, tenant_id: str) -> tuple[list[ExportFile], list[Path]]:
    """Read every export in `directory` not loaded before (by SHA-256); returns (to load, skipped)."""
    logger = run_logger()
    with open_store(database_url).connect() as connection:
        known = loaded_file_hashes(connection, tenant_id, "workcloud")
    exports: list[ExportFile] = []
    skipped: list[Path] = []
    for path in export_files(directory):
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() in known:
            skipped.append(path)
            continue
        export = read_export(path, data)
        if export.error:
            logger.error("%s: %s", path.name, export.error)
        else:
            logger.info("%s: %s, %d rows (%s, delimiter %r)", path.name, export.kind, len(export.frame),
                        export.encoding, export.delimiter)
        exports.append(export)
    exports.sort(key=lambda e: (KIND_ORDER.index(e.kind) if e.kind else -1, e.path.name))
    return exports, skipped


@dataclass
class Fetched:
    """The changed records of one Fortnox dataset, and the calls that failed for good."""

    records: list[fx.FortnoxRecord] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    listed: int = 0
    vanished: int = 0  # listed as changed, deleted before we fetched them


@task(name="fetch-fortnox-changes")
def fetch_fortnox_changes(client: fx.FortnoxClient, dataset: Dataset, since: dt.datetime | None) -> Fetched:
    """Records of `dataset` changed since `since` (all of them without a cursor).

    List items lack rows and amounts for invoices, so for those each changed record is fetched
    whole, a few at a time; the client's shared limiter keeps the pace within Fortnox's limit.
    """
    logger = run_logger()
    params = {"lastmodified": fx.lastmodified(since)} if since else {}
    items = list(client.list(dataset.resource, **params))
    fetched = Fetched(listed=len(items))
    if not dataset.detail:
        fetched.records = items
        return fetched
    id_attr = next(name for name, f in dataset.resource.item_type.model_fields.items()
                   if f.alias == dataset.resource.id_field)

    def one(key: str) -> fx.FortnoxRecord | DeadLetter | None:
        try:
            return client.get(dataset.resource, key)
        except NotFoundError:
            return None
        except PermanentError as error:
            return dead_letter(error, dataset.entity_type, key)

    with ThreadPoolExecutor(max_workers=DETAIL_WORKERS) as pool:
        for done, result in enumerate(pool.map(one, [getattr(item, id_attr) for item in items]), start=1):
            if result is None:
                fetched.vanished += 1
            elif isinstance(result, DeadLetter):
                fetched.dead_letters.append(result)
            else:
                fetched.records.append(result)
            if done % 1000 == 0:
                logger.info("%s: fetched %d of %d changed records", dataset.name, done, len(items))
    return fetched


@task(name="read-bank-statement")
def read_bank_statement(path: Path, bank: str = "auto", max_bytes: int = 10 * 1024 * 1024) -> Statement:
    """Read and validate one bank export; file and row problems come back on the statement."""
    logger = run_logger()
    statement = read_statement(path, bank, max_bytes=max_bytes)  # type: ignore[arg-type]
    if statement.file_error:
        logger.error("%s: %s %s", path.name, statement.file_error.code, statement.file_error.message)
    else:
        logger.info("%s: %s (%s, %s), %d rows, %d errors, %d warnings", path.name, statement.format, statement.bank,
                    statement.encoding, statement.rows, len(statement.errors), len(statement.warnings))
    return statement
