"""Extract: read source batches, leaving out what was already loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from connectors.workcloud import ExportFile, export_files, read_export
from models.bookkeeping import loaded_file_hashes
from models.store import open_store

KIND_ORDER = ("projects", "work_orders", "time_reports")  # the registry before what refers to it


@task(name="read-workcloud-exports", cache_policy=NO_CACHE)
def read_workcloud_exports(directory: Path, database_url: str, tenant_id: str) -> tuple[list[ExportFile], list[Path]]:
    """Read every export in `directory` not loaded before (by SHA-256); returns (to load, skipped)."""
    logger = get_run_logger()
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
