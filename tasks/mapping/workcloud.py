"""WorkCloud exports to canonical projects, work orders and time reports.

The text cleaning is done column-wise in pandas and the models are validated a list at a time,
so a batch of 100,000 rows costs a few passes, not 100,000 calls; a large batch is validated in
worker processes (``models.spelling``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
from tasks.runtime import task
from pydantic import BaseModel

from connectors.csv_files import clean_numbers
from connectors.workcloud import ROW_COLUMN, ExportKind
from models.projects import Project, TimeReport, WorkOrder
from models.spelling import SpelledRows, spell_in_chunks
from models.store import gc_paused
from models.upsert import Spelled
from tasks.mapping.batch import Mapped, MappedStream, model_issues

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
    its rank among that person's reports on that project that day (ordered by description, then
    by place in the file), so two identical reports in one file are two records, a corrected
    hour count updates the record, and re-reading the file finds the same ids."""
    out = frame.assign(hours=clean_numbers(frame["hours"]), hourly_rate=clean_numbers(frame["hourly_rate"]))
    keys = list(zip(out["project"].tolist(), out["date"].tolist(), out["employee"].tolist()))
    # Ranked in Python: most reports are alone on their key, and only the others need sorting.
    # pandas' sort and group over the whole frame cost five times as much.
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for position, key in enumerate(keys):
        by_key.setdefault(key, []).append(position)
    rank = [0] * len(keys)
    descriptions = out["description"].tolist()
    for positions in by_key.values():
        if len(positions) > 1:
            ordered = sorted(positions, key=lambda p: descriptions[p] if isinstance(descriptions[p], str) else "")
            for n, position in enumerate(ordered):
                rank[position] = n
    ids = [f"{project}/{date}/{employee}/{n}" for (project, date, employee), n in zip(keys, rank, strict=True)]
    return out, pd.Series(ids, index=out.index, dtype=object)


MAPPERS: dict[ExportKind, tuple[type[BaseModel], Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.Series]]]] = {
    ExportKind.PROJECTS: (Project, _projects),
    ExportKind.WORK_ORDERS: (WorkOrder, _work_orders),
    ExportKind.TIME_REPORTS: (TimeReport, _time_reports),
}


@gc_paused()
def map_export(kind: ExportKind, frame: pd.DataFrame, workers: int | None = None, for_copy: bool = False
               ) -> MappedStream:
    """The rows of one WorkCloud export on their way to canonical records spelled for the store
    (with their columns as COPY text when `for_copy`: a PostgreSQL store): the cleaning is done
    here, the validation by `workers` processes for a large export
    (``models.spelling.spell_in_chunks``), whose chunks come as the stream is read. The flow
    starts it before the quality gate and holds back the rows the gate fails
    (:meth:`MappedStream.hold_back`); time reports are ranked among all the file's rows, so a
    report's id does not change when a sibling held back today is corrected tomorrow."""
    if frame.empty:
        return MappedStream([], iter(()))
    model, prepare = MAPPERS[kind]
    prepared, external_ids = prepare(frame)
    ids = external_ids.tolist()
    # Column by column into plain lists: cheap to hand to a worker, and zipped into rows there
    # more than twice as fast as DataFrame.to_dict("records"), which boxes every cell on its own.
    columns = {name: prepared[name].astype(object).where(prepared[name].notna(), None).tolist()
               for name in prepared.columns if name != ROW_COLUMN}
    held_back: set[int] = set()  # the stream's: named by the caller once the gate has judged the rows
    chunks = _mapped(spell_in_chunks(model, columns, workers, for_copy=for_copy), ids, frame, held_back)
    return MappedStream(ids, chunks, held_back)


def _mapped(chunks: Iterator[SpelledRows], ids: list[str], frame: pd.DataFrame, held_back: set[int]
            ) -> Iterator[Mapped[Spelled]]:
    """Each validated chunk as records (with their external ids) and the issues of its failed
    rows, but those of the `held_back` lines (read as each chunk comes)."""
    lines = frame[ROW_COLUMN].tolist()
    start = 0
    for chunk in chunks:
        size = len(chunk.row_hashes) + len(chunk.failures)
        mapped: Mapped[Spelled] = Mapped()
        passed = [start + offset for offset in range(size) if offset not in chunk.failures]
        records = map(Spelled, [ids[p] for p in passed], chunk.row_hashes, chunk.documents, chunk.copy_fields)
        if held_back:
            records = (record for record, p in zip(records, passed, strict=True) if lines[p] not in held_back)
        mapped.records += records
        for offset, broken in chunk.failures.items():
            if lines[start + offset] in held_back:
                continue
            source = frame.iloc[start + offset]
            mapped.issues += model_issues(broken, int(source[ROW_COLUMN]),
                                          source.drop(ROW_COLUMN).where(source.notna(), None).to_dict(),
                                          "Correct the value in WorkCloud and export again")
        start += size
        yield mapped


@task(name="map-to-canonical")
def map_to_canonical(kind: ExportKind, frame: pd.DataFrame, workers: int | None = None, for_copy: bool = False
                     ) -> MappedStream:
    """The step around :func:`map_export`: it ends when the cleaned rows are handed to the
    validating processes; the load task takes the validated chunks as they come."""
    return map_export(kind, frame, workers, for_copy)
