"""Validation and spelling in worker processes give what the flow's own process gives.

A large export is validated and spelled by a pool of processes (``models.spelling``); these
tests run the real pool (processes forked by a forkserver) and hold its results against the
same work done in the test's process, and against the formulas spelled out here.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import BaseModel, field_validator

from connectors.sandbox.workcloud import generate_company, render, time_reports
from connectors.workcloud import ExportKind
from flows.workcloud_ingest import workcloud_ingest
from models import spelling
from models.audit import verify_chain
from models.projects import TimeReport
from models.spelling import spell_in_chunks
from models.store import open_store
from models.tables import ENTITIES, quarantine

TIME_REPORTS = ENTITIES["time_report"].table


def _columns(rows: list[dict[str, str | None]]) -> dict[str, list[str | None]]:
    return {name: [row[name] for row in rows] for name in rows[0]}


def _rows(count: int) -> list[dict[str, str | None]]:
    return [
        {"employee": ["Åsa Öberg", "Björn Säck"][n % 2], "project": f"13{n % 4}", "date": f"2025-08-{1 + n % 28:02d}",
         "hours": str(1 + n % 16 / 2), "description": None if n % 5 == 0 else f"Fönsterbyte\tetapp {n}",
         "hourly_rate": None if n % 7 == 0 else f"{450 + n}.50"}
        for n in range(count)
    ]


def test_the_pool_validates_and_spells_as_the_process_itself_does() -> None:
    rows = _rows(40)
    rows[3] |= {"date": "2025-02-30"}  # a day that does not exist
    rows[17] |= {"hours": "0", "hourly_rate": "450.555"}  # two rules broken at once
    rows[38] |= {"hours": "25"}
    rows[9] |= {"description": "Etapp\x1f2"}  # holds the separator columns travel joined by: its chunk goes as a list

    pooled = list(spell_in_chunks(TimeReport, _columns(rows), workers=2, chunk_size=7, in_process_below=0))
    local = list(spell_in_chunks(TimeReport, _columns(rows), workers=0, chunk_size=7))
    for_copy = [list(spell_in_chunks(TimeReport, _columns(rows), workers=workers, chunk_size=7, in_process_below=0,
                                     for_copy=True)) for workers in (2, 0)]

    assert pooled == local and for_copy[0] == for_copy[1]
    assert for_copy[0][1].copy_fields[2] == "Björn Säck\t131\t2025-08-10\t5.5\tEtapp\x1f2\t459.50"
    assert spelling.pool(2).submit(os.getpid).result() != os.getpid()  # the pool's chunks ran elsewhere
    assert [len(chunk.row_hashes) + len(chunk.failures) for chunk in pooled] == [7, 7, 7, 7, 7, 5]
    assert {n: chunk.failures for n, chunk in enumerate(pooled) if chunk.failures} == {
        0: {3: [("date", "Input should be a valid date or datetime, day value is outside expected range")]},
        2: {3: [("hours", "Input should be greater than 0"),
                ("hourly_rate", "Value error, amount 450.555 has more than 2 decimals (INT-01-DQ-002)")]},
        5: {3: [("hours", "Input should be less than or equal to 24")]},
    }
    documents = [document for chunk in pooled for document in chunk.documents]
    hashes = [row_hash for chunk in pooled for row_hash in chunk.row_hashes]
    valid = [row for n, row in enumerate(rows) if n not in (3, 17, 38)]
    expected = [TimeReport.model_validate(row).model_dump(mode="json") for row in valid]
    assert documents == [json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for d in expected]
    assert hashes == [hashlib.sha256(d.encode()).hexdigest() for d in documents]
    assert json.loads(documents[1]) == {"date": "2025-08-02", "description": "Fönsterbyte\tetapp 1",
                                        "employee": "Björn Säck", "hourly_rate": "451.50", "hours": "1.5",
                                        "project": "131"}


class _DiesOnValidation(BaseModel):
    n: int

    @field_validator("n")
    @classmethod
    def _die(cls, value: int) -> int:
        os._exit(3)  # what the kernel's OOM killer does to a worker, as far as the pool can tell


def test_a_worker_that_dies_fails_its_batch_and_the_next_batch_gets_a_new_pool() -> None:
    with pytest.raises(RuntimeError, match="died before it finished"):
        list(spell_in_chunks(_DiesOnValidation, {"n": [1, 2, 3]}, workers=2, in_process_below=0))

    again = list(spell_in_chunks(TimeReport, _columns(_rows(3)), workers=2, in_process_below=0))

    assert len(again) == 1 and len(again[0].row_hashes) == 3 and again[0].failures == {}


class _Logged(BaseModel):
    """A row that notes its validation in the file it names (a worker's work seen from the test)."""

    log: str

    @field_validator("log")
    @classmethod
    def _note(cls, value: str) -> str:
        with open(value, "a") as log:
            log.write("x")
        time.sleep(0.02)
        return value


def test_chunks_given_up_before_they_are_taken_are_not_validated(tmp_path: Path) -> None:
    """A stream closed after its first chunk (the gate failed, the load broke off) cancels what no
    worker has begun. One worker takes the chunks in order, so once a task handed in after the
    close has run, everything that would still run has run."""
    log = str(tmp_path / "validated")
    chunks = spell_in_chunks(_Logged, {"log": [log] * 40}, workers=1, chunk_size=1, in_process_below=0)
    assert len(next(chunks).row_hashes) == 1
    chunks.close()  # type: ignore[attr-defined]
    spelling.pool(1).submit(os.getpid).result()
    assert 1 <= len(Path(log).read_text()) <= 4  # the first chunk, and at most those already handed to the worker
    assert list(chunks) == []


def test_a_large_export_is_validated_by_the_pool_and_stored_whole(store_env: str, tmp_path: Path) -> None:
    """20,010 time reports (above the in-process limit), two of them wrong only for the model and
    one for the quality gate too, and one only for the gate: the workers validate them while the
    gate runs, and only the gate's issues are kept, and neither is stored."""
    reports = list(time_reports(generate_company(seed=11), 20_010, 11))
    reports[5] |= {"date": "2025-02-30"}
    reports[12_345] |= {"hours": "25"}
    reports[15_000] |= {"hourly_rate": "+450"}  # the model would take it, the gate does not
    reports[20_000] |= {"hourly_rate": "450,555"}
    (tmp_path / "tid.csv").write_text(render(ExportKind.TIME_REPORTS, reports, "excel"), encoding="utf-8")
    spelling.stop_workers()
    assert multiprocessing.active_children() == []

    report = workcloud_ingest(directory=str(tmp_path)).files[0]

    assert multiprocessing.active_children() != []  # the flow started the pool's workers
    assert (report.read, report.inserted, report.quarantined, report.status) == (20_010, 20_006, 4, "partial")
    with open_store(store_env).connect() as connection:
        held = connection.execute(
            sa.select(quarantine.c.row_number, quarantine.c.error_code, quarantine.c.field)
            .order_by(quarantine.c.row_number)
        ).all()
        stored = connection.execute(
            sa.select(TIME_REPORTS.c.employee, TIME_REPORTS.c.date, TIME_REPORTS.c.hours, TIME_REPORTS.c.hourly_rate,
                      TIME_REPORTS.c.row_hash)
        ).all()
        chain = verify_chain(connection, "acme")
    assert [tuple(row) for row in held] == [(7, "VAL-MODEL", "date"), (12_347, "VAL-RANGE", "hours"),
                                            (15_002, "VAL-NUMBER", "hourly_rate"),
                                            (20_002, "VAL-MODEL", "hourly_rate")]  # + header
    assert len(stored) == 20_006 and chain.ok
    first = TimeReport.model_validate(reports[0])
    match = [row for row in stored if (row.employee, row.date, row.hours, row.hourly_rate)
             == (first.employee, first.date, first.hours, first.hourly_rate)]
    document = json.dumps(first.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(document.encode()).hexdigest() in {row.row_hash for row in match}
    assert sum(row.hours for row in stored) == sum(TimeReport.model_validate(r).hours
                                                   for n, r in enumerate(reports) if n not in (5, 12_345, 15_000, 20_000))

