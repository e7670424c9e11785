"""Every GX suite on disk loads whole into GX: GX skips a bad expectation silently otherwise."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.workcloud import ROW_COLUMN
from expectations import load_suite, suite_names
from tasks.quality import GateError, check


def _columns(name: str) -> list[str]:
    kwargs = [e["kwargs"] for e in load_suite(name)["expectations"]]
    return sorted({k[key] for k in kwargs for key in ("column", "column_A", "column_B") if key in k})


@pytest.mark.parametrize("name", suite_names())
def test_suite_builds_in_gx_with_every_expectation(name: str) -> None:
    columns = _columns(name)
    frame = pd.DataFrame([[None] * len(columns)], columns=columns, dtype="object").assign(**{ROW_COLUMN: [2]})
    result = check(frame, name, ROW_COLUMN)  # raises if GX accepted fewer expectations than the file has
    required = [e["kwargs"]["column"] for e in load_suite(name)["expectations"]
                if e["type"] == "expect_column_values_to_not_be_null"]
    assert sorted({i.field for i in result.quarantined if i.code == "VAL-REQUIRED"}) == sorted(required)
    assert result.valid.empty


def test_warnings_report_but_do_not_hold_back() -> None:
    frame = pd.DataFrame({"workorder_number": ["AO-17"], "description": [None], "project_number": ["1313"],
                          "responsible": [None], "status": ["Aktiv"], "created": [None], "location": [None],
                          ROW_COLUMN: [2]}, dtype="object")
    result = check(frame, "workcloud_work_orders", ROW_COLUMN)
    assert [(w.line, w.code, w.field) for w in result.warnings] == [(2, "VAL-WORKORDER-FORMAT", "workorder_number")]
    assert result.quarantined == []
    assert len(result.valid) == 1


def test_an_expectation_that_cannot_be_evaluated_stops_the_gate() -> None:
    frame = pd.DataFrame({"something_else": ["x"], ROW_COLUMN: [2]}, dtype="object")
    with pytest.raises(GateError, match="could not be evaluated"):
        check(frame, "bank_transactions", ROW_COLUMN)
