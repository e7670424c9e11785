"""The flows as Prefect's runner loads them: the entrypoints of prefect.yaml and ``ledgerflow serve``.

Each flow module declares its flow with :func:`tasks.runtime.flow`, which imports Prefect only
when a run is recorded (a command from the shell should not pay for it). A worker, ``prefect
deploy`` and ``ledgerflow serve`` need real Prefect ``Flow`` objects instead: these are they, the
same objects a recorded ad hoc run uses.
"""

from __future__ import annotations

from flows.alerting import alert_check as _alert_check
from flows.bank_import import bank_import as _bank_import
from flows.export import export as _export
from flows.import_sync import import_sync as _import_sync
from flows.invoice_validation import supplier_invoice_validation as _supplier_invoice_validation
from flows.reconciliation import reconciliation as _reconciliation
from flows.retention import retention as _retention
from flows.workcloud_ingest import workcloud_ingest as _workcloud_ingest

alert_check = _alert_check.prefect_flow
bank_import = _bank_import.prefect_flow
export = _export.prefect_flow
import_sync = _import_sync.prefect_flow
supplier_invoice_validation = _supplier_invoice_validation.prefect_flow
reconciliation = _reconciliation.prefect_flow
retention = _retention.prefect_flow
workcloud_ingest = _workcloud_ingest.prefect_flow
