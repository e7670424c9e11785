"""WorkCloud exports to canonical projects, work orders and time reports.

The text cleaning is done column-wise in pandas and the models are validated a list at a time,
so a batch of 100,000 rows costs a few passes, not 100,000 calls; a large batch is validated in
worker processes (``models.spelling``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from connectors.csv_files import clean_numbers
from connectors.workcloud import ROW_COLUMN, ExportKind
from models.projects import Project, TimeReport, WorkOrder
from models.spelling import spell_in_chunks
from models.store import JsonText, gc_paused
from models.upsert import Spelled
from tasks.mapping.batch import Mapped, model_issues

STATUS_WORDS = {
    "aktiv": "active", "pågående": "active", "active": "active",
    "inaktiv": "inactive", "vilande": "inactive", "inactive": "inactive",
    "avslutad": "completed", "klar": "completed", "färdig": "completed", "completed": "completed",
}


def _status(values: pd.Series) -> pd.Series:
    return values.str.casefold().map(STATUS_WORDS).fillna(values)


def _projects(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    out = frame.assign(status=_status(frame["status"]), budget=clean_numbers(frame["budget"]))
    return out, out["project_number"]


def _work_orders(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    out = frame.assign(status=_status(frame["status"]), workorder_number=frame["workorder_number"].str.upper())
    return out, out["workorder_number"]


def _time_reports(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Time reports carry no id in the export. A report is known by employee, project, date and
    its rank among that person's reports on that project that day (ordered by description), so
    two identical reports in one file are two records, a corrected hour count updates the
    record, and re-reading the file finds the same ids."""
    out = frame.assign(hours=clean_numbers(frame["hours"]), hourly_rate=clean_numbers(frame["hourly_rate"]))
    keys = ["employee", "project", "date"]
    order = out.assign(_d=out["description"].fillna("")).sort_values([*keys, "_d"], kind="stable")
    rank = order.groupby(keys, sort=False, dropna=False).cumcount().reindex(out.index)
    ids = out["project"] + "/" + out["date"] + "/" + out["employee"] + "/" + rank.astype(str)
    return out, ids


MAPPERS: dict[ExportKind, tuple[type[BaseModel], Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.Series]]]] = {
    ExportKind.PROJECTS: (Project, _projects),
    ExportKind.WORK_ORDERS: (WorkOrder, _work_orders),
    ExportKind.TIME_REPORTS: (TimeReport, _time_reports),
}


@gc_paused()
def map_export(kind: ExportKind, frame: pd.DataFrame, workers: int | None = None) -> Mapped[Spelled]:
    """The rows of one WorkCloud export that passed the quality gate, validated into canonical
    records and spelled for the store; `workers` is how many processes validate a large export
    (``models.spelling.spell_in_chunks``)."""
    mapped: Mapped[Spelled] = Mapped()
    if frame.empty:
        return mapped
    model, prepare = MAPPERS[kind]
    prepared, external_ids = prepare(frame)
    lines = prepared[ROW_COLUMN].tolist()
    ids = external_ids.tolist()
    # Column by column into plain lists: cheap to hand to a worker, and zipped into rows there
    # more than twice as fast as DataFrame.to_dict("records"), which boxes every cell on its own.
    columns = {name: prepared[name].astype(object).where(prepared[name].notna(), None).tolist()
               for name in prepared.columns if name != ROW_COLUMN}
    start = 0
    for chunk in spell_in_chunks(model, columns, workers):
        size = len(chunk.row_hashes) + len(chunk.failures)
        passed = [ids[start + offset] for offset in range(size) if offset not in chunk.failures]
        mapped.records += map(Spelled, passed, chunk.row_hashes, map(JsonText, chunk.documents))
        for offset, broken in chunk.failures.items():
            source = frame.iloc[start + offset]
            mapped.issues += model_issues(broken, int(lines[start + offset]),
                                          source.drop(ROW_COLUMN).where(source.notna(), None).to_dict(),
                                          "Correct the value in WorkCloud and export again")
        start += size
    return mapped


@task(name="map-to-canonical", cache_policy=NO_CACHE)
def map_to_canonical(kind: ExportKind, frame: pd.DataFrame, workers: int | None = None) -> Mapped[Spelled]:
    """Prefect task around :func:`map_export`."""
    return map_export(kind, frame, workers)
