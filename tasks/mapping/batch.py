"""What every mapping shares: validating a whole batch against a canonical model at once.

A record the canonical model rejects (a 0-hour report, a date that does not exist, totals
that do not sum) becomes a quarantine issue like a failed expectation; the rest go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from tasks.quality import Issue


@dataclass
class Mapped:
    records: list[tuple[str, BaseModel]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def validate_batch(model: type[BaseModel], rows: list[dict[str, Any]]) -> tuple[list[BaseModel | None], dict[int, ValidationError]]:
    """Validate all rows at once; on failure, find the failing rows and validate the rest again."""
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    try:
        return list(adapter.validate_python(rows)), {}
    except ValidationError as error:
        bad = sorted({int(e["loc"][0]) for e in error.errors()})
    failures: dict[int, ValidationError] = {}
    for position in bad:
        try:
            model.model_validate(rows[position])
        except ValidationError as row_error:
            failures[position] = row_error
    good_positions = [i for i in range(len(rows)) if i not in failures]
    good = adapter.validate_python([rows[i] for i in good_positions])
    models: list[BaseModel | None] = [None] * len(rows)
    for position, item in zip(good_positions, good, strict=True):
        models[position] = item
    return models, failures


def model_issues(
    error: ValidationError, line: int | None, record: dict[str, Any], suggested_action: str
) -> list[Issue]:
    """One quarantine issue per rule the canonical model found broken in a record."""
    return [
        Issue(
            line=line,
            code="VAL-MODEL",
            field=".".join(str(part) for part in detail["loc"]) or "(row)",
            description=detail["msg"],
            suggested_action=suggested_action,
            severity="critical",
            record=record,
        )
        for detail in error.errors()
    ]
