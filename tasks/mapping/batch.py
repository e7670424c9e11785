"""What every mapping shares: its result, and the quarantine issues of the records the canonical
model rejects (a 0-hour report, a date that does not exist, totals that do not sum), which go
to quarantine like a failed expectation while the rest go on. The validation itself is
``models.spelling``'s."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from models.spelling import Broken
from models.upsert import Spelled
from tasks.quality import Issue

R = TypeVar("R")


@dataclass
class Mapped(Generic[R]):
    """A batch's canonical records (models, or spelled for the store) and the issues of the rest."""

    records: list[R] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class MappedStream:
    """A large batch's mapping while it is being done: the external ids of all its rows, known at
    once, and its chunks (records spelled for the store, and issues), each as soon as it is
    validated, so that a load stores one chunk while the workers validate the next
    (``models.spelling``). The chunks can be taken once.

    The mapping can start before the quality gate has judged the same rows, so that the workers
    validate while the gate runs; the lines the gate then holds back are named by
    :meth:`hold_back` before the chunks are taken, and the chunks leave out their records and
    issues (the gate's issues say what is wrong with them)."""

    external_ids: list[str]  # of every row, held back or not
    chunks: Iterator[Mapped[Spelled]]
    held_back: set[int] = field(default_factory=set)  # source lines

    def hold_back(self, lines: Iterable[int]) -> None:
        self.held_back.update(lines)

    def close(self) -> None:
        """Give up the chunks not taken: the validation of those no worker has begun is cancelled."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def model_issues(broken: list[Broken], line: int | None, record: dict[str, Any], suggested_action: str) -> list[Issue]:
    """One quarantine issue per rule the canonical model found broken in a record."""
    return [
        Issue(line=line, code="VAL-MODEL", field=path, description=message, suggested_action=suggested_action,
              severity="critical", record=record)
        for path, message in broken
    ]
