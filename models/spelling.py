"""Validating rows against a canonical model and spelling them for the store, in worker processes.

For a large export, validating each row into its canonical model and spelling the model (its
canonical JSON and row hash, ``models.upsert.Spelled``) is the largest part of the Python work,
and on one core it leaves the others idle while the flow waits. So a large batch is cut into
chunks, each validated and spelled by a process of a pool started once per process, while the
flow's own process stores the chunks already done. Only plain text crosses between the
processes: column lists in; row hashes, documents and COPY text out. Models would cost more to
pickle and unpickle than to validate.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from models.store import UNIT_SEPARATOR, gc_paused, joined
from models.upsert import list_adapter, spelled

CHUNK = 10_000  # rows per task of a worker: small enough that the first results come early
IN_PROCESS_BELOW = 20_000  # rows: a smaller batch is validated where it is; the pool's start costs about 0.6 s

Broken = tuple[str, str]
"""A rule a row broke: the field's path (``lines.0.amount``, or ``(row)``) and pydantic's message."""


def validate_batch(
    model: type[BaseModel], rows: Sequence[dict[str, Any]]
) -> tuple[list[BaseModel | None], dict[int, list[Broken]]]:
    """Validate all rows at once; on failure, find the failing rows and validate the rest again.

    Returns a model per row (None for a row that failed) and, by position, the rules each failed row broke."""
    adapter = list_adapter(model)
    try:
        return list(adapter.validate_python(rows)), {}
    except ValidationError as error:
        bad = sorted({int(e["loc"][0]) for e in error.errors()})
    failures: dict[int, list[Broken]] = {}
    for position in bad:
        try:
            model.model_validate(rows[position])
        except ValidationError as row_error:
            failures[position] = [(".".join(str(part) for part in detail["loc"]) or "(row)", detail["msg"])
                                  for detail in row_error.errors()]
    good_positions = [i for i in range(len(rows)) if i not in failures]
    good = adapter.validate_python([rows[i] for i in good_positions])
    models: list[BaseModel | None] = [None] * len(rows)
    for position, item in zip(good_positions, good, strict=True):
        models[position] = item
    return models, failures


@dataclass(frozen=True)
class SpelledRows:
    """A chunk of rows validated and spelled: for the rows that passed, in order, their row
    hashes, documents and (spelled for COPY) columns; for the others, by position in the chunk,
    the rules they broke."""

    row_hashes: list[str]
    documents: list[str]
    copy_fields: list[str | None]
    failures: dict[int, list[Broken]]


def spell_rows(model: type[BaseModel], columns: Mapping[str, list[Any]], for_copy: bool = False) -> SpelledRows:
    """Validate the rows given column by column against `model` and spell those that pass
    (``models.upsert.spelled``).

    What a worker runs; it also runs in the caller's process for a small batch."""
    names = list(columns)
    with gc_paused():
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        models, failures = validate_batch(model, rows)
        records = spelled([("", item) for item in models if item is not None], for_copy=for_copy)
    return SpelledRows([r.row_hash for r in records], [r.document for r in records], [r.copy_fields for r in records],
                       failures)


def spell_in_chunks(
    model: type[BaseModel], columns: Mapping[str, list[Any]], workers: int | None = None, *,
    for_copy: bool = False, chunk_size: int = CHUNK, in_process_below: int = IN_PROCESS_BELOW,
) -> Iterator[SpelledRows]:
    """:func:`spell_rows` over the whole batch, chunk by chunk, in order.

    Every chunk is handed to the pool before this returns, so the workers are busy while the
    caller goes on and then takes the chunks one after the other. `workers` is how many
    processes validate (None: one per core the process may use; 0: none, the chunks are
    validated in the caller's process as it takes them); a batch smaller than
    `in_process_below` rows is always validated in the caller's process.
    """
    total = len(next(iter(columns.values()), []))
    chunks = ({name: values[start : start + chunk_size] for name, values in columns.items()}
              for start in range(0, total, chunk_size))
    workers = usable_cores() if workers is None else workers
    if workers < 1 or total < in_process_below:
        return (spell_rows(model, chunk, for_copy) for chunk in chunks)
    executor = pool(workers)
    return _InOrder(executor, [executor.submit(_spell_packed, model, {name: _pack(values) for name, values in
                                                                      chunk.items()}, for_copy) for chunk in chunks])


# Between the processes, a list of texts travels as one (models.store.joined): pickle copies one
# string at the cost of a memcpy, where it spends a call on each of 10,000 (a quarter of a second
# of the flow's process per 100,000 rows, and as much again in the workers).
@dataclass(frozen=True)
class _Packed:
    text: str  # the values joined, a None as ""
    nulls: list[int]  # the positions of the Nones


def _pack(values: list[Any]) -> list[Any] | _Packed:
    """`values` as one text, or as they are if one is neither text nor None or holds the separator."""
    nulls = [position for position, value in enumerate(values) if value is None]
    try:
        text = joined(["" if value is None else value for value in values] if nulls else values)
    except TypeError:  # a value that is no text
        return values
    return values if text is None else _Packed(text, nulls)


def _unpack(packed: list[Any] | _Packed) -> list[Any]:
    if not isinstance(packed, _Packed):
        return packed
    values: list[Any] = packed.text.split(UNIT_SEPARATOR)
    for position in packed.nulls:
        values[position] = None
    return values


def _spell_packed(model: type[BaseModel], columns: Mapping[str, list[Any] | _Packed], for_copy: bool
                  ) -> tuple[list[Any] | _Packed, list[Any] | _Packed, list[Any] | _Packed, dict[int, list[Broken]]]:
    """:func:`spell_rows` as a worker runs it: packed columns in, packed results out."""
    spelled = spell_rows(model, {name: _unpack(values) for name, values in columns.items()}, for_copy)
    return _pack(spelled.row_hashes), _pack(spelled.documents), _pack(spelled.copy_fields), spelled.failures


class _InOrder(Iterator[SpelledRows]):
    """The chunks handed to the pool, in order, each as its worker finishes it.

    Closed or dropped before the end (the caller failed, or gave up before it began), it cancels
    the chunks no worker has begun: nothing more to compute."""

    def __init__(self, executor: ProcessPoolExecutor, pending: list[Future[Any]]) -> None:
        self._executor = executor
        self._pending = deque(pending)

    def __next__(self) -> SpelledRows:
        if not self._pending:
            raise StopIteration
        try:
            row_hashes, documents, copy_fields, failures = self._pending.popleft().result()
            return SpelledRows(_unpack(row_hashes), _unpack(documents), _unpack(copy_fields), failures)
        except BaseException as error:
            self.close()
            if not isinstance(error, BrokenProcessPool):
                raise
            # A worker died (killed, out of memory): the next batch gets a new pool.
            with _pools_lock:
                for workers in [workers for workers, known in _pools.items() if known is self._executor]:
                    del _pools[workers]
            raise RuntimeError("a process validating the rows died before it finished; nothing of this batch was "
                               "stored (set LEDGERFLOW_WORKERS=0 to validate in the flow's own process)") from error

    def close(self) -> None:
        while self._pending:
            self._pending.popleft().cancel()

    __del__ = close


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes, started once per process and kept until it exits (or :func:`stop_workers`).

    They are forked from a server process that has imported this module (and the program's main
    module, which every worker would otherwise import again), so each starts in milliseconds,
    after the server's one start of about a second; fork itself is not safe in a process that
    runs threads, as Prefect's does."""
    with _pools_lock:  # the flow's thread and start_workers_soon's may ask at once
        if workers not in _pools:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["__main__", __name__])
            _pools[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        return _pools[workers]


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def start_workers(workers: int | None = None) -> None:
    """Start the pool now and wait until it answers, rather than on the first large batch."""
    workers = usable_cores() if workers is None else workers
    if workers >= 1:
        pool(workers).submit(usable_cores).result()


def start_workers_soon(workers: int | None = None) -> None:
    """:func:`start_workers` in the background: the pool's start (a second or more, most of it
    importing) then overlaps what the caller does before its first large batch."""
    threading.Thread(target=start_workers, args=(workers,), name="ledgerflow-start-workers", daemon=True).start()


def stop_workers() -> None:
    """Stop every pool and free the memory of its processes; the next large batch starts a new one."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for executor in pools:
        executor.shutdown(cancel_futures=True)
