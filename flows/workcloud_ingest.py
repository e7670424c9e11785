"""Daily WorkCloud ingest: the project registry's CSV exports into the store (seed 002 §5.2).

Every file in the folder is read once (a file already loaded, by SHA-256, is skipped); each
goes through the quality gate, the mapping and an idempotent load, and a file that cannot
be read is reported without stopping the others.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flows.alerting import notify_failure
from flows.settings import Settings
from models.spelling import IN_PROCESS_BELOW, start_workers_soon
from tasks.extract import read_workcloud_exports
from tasks.load import FileReport, load_workcloud_export
from tasks.mapping import MappedStream, map_to_canonical
from tasks.quality import quality_gate
from tasks.runtime import flow, run_id, publish_table, run_logger

from connectors.workcloud import ROW_COLUMN


@dataclass(frozen=True)
class IngestSummary:
    tenant: str
    files: list[FileReport]

    def total(self, column: str) -> int:
        return sum(getattr(report, column) for report in self.files)


def missing_folder(folder: Path) -> str:
    """Why there is nothing to ingest, naming every way the folder is chosen: the command's --dir, the
    deployment's `directory` parameter and the setting (a relative folder is the run's working directory's)."""
    where = "" if folder.is_absolute() else f" (relative to {Path.cwd()})"
    problem = "is not a folder" if folder.exists() else "does not exist"
    return (f"WorkCloud export folder {folder}{where} {problem}: choose it with --dir (ledgerflow run "
            "workcloud-ingest), the deployment parameter `directory`, or the setting LEDGERFLOW_WORKCLOUD_DIR")


@flow(name="workcloud_ingest", on_failure=notify_failure)
def workcloud_ingest(directory: str | None = None, tenant: str | None = None) -> IngestSummary:
    """Ingest the WorkCloud exports (projects, work orders, time reports) found in `directory`."""
    settings = Settings()
    folder = Path(directory) if directory else settings.workcloud_dir
    tenant_id = tenant or settings.tenant
    if not folder.is_dir():
        raise FileNotFoundError(missing_folder(folder))
    logger = run_logger()
    flow_run_id = run_id()
    actor = f"workcloud_ingest/{flow_run_id}" if flow_run_id else "workcloud_ingest"

    exports, skipped = read_workcloud_exports(folder, settings.database_url, tenant_id)
    if any(len(export.frame) >= IN_PROCESS_BELOW for export in exports):
        start_workers_soon(settings.workers)  # the validating processes start while the rows are cleaned
    reports = [FileReport(p.name, None, 0, 0, 0, 0, 0, 0, "skipped", "already loaded (same SHA-256)") for p in skipped]
    for export in exports:
        if export.error or export.kind is None:
            reports.append(load_workcloud_export(settings.database_url, tenant_id, export,
                                                 MappedStream([], iter(())), [], 0, actor, flow_run_id))
            continue
        # The mapping hands the rows to the validating processes first, so that they work while
        # the gate runs; the rows the gate holds back are then left out of what they give.
        mapped = map_to_canonical(export.kind, export.frame, settings.workers, settings.store_is_postgres)
        try:
            gate = quality_gate(export.frame, f"workcloud_{export.kind}", ROW_COLUMN)
        except BaseException:
            mapped.close()
            raise
        mapped.hold_back(gate.held_back())
        reports.append(
            load_workcloud_export(
                settings.database_url, tenant_id, export, mapped, gate.quarantined,
                len(gate.warnings), actor, flow_run_id,
            )
        )
    summary = IngestSummary(tenant_id, reports)
    publish_table(
        key=f"workcloud-ingest-{re.sub(r'[^a-z0-9-]+', '-', tenant_id.lower())}",
        table=[asdict(report) for report in reports],
        description=f"WorkCloud ingest of {folder} for tenant {tenant_id}: rows read, quarantined, inserted, "
        "updated and unchanged per file",
    )
    for report in reports:
        if report.status == "failed":
            logger.error("%s was not loaded: %s", report.file, report.error)
    return summary


if __name__ == "__main__":
    workcloud_ingest()
