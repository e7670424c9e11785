"""Great Expectations suites, kept as GX 1.x JSON files, one per dataset.

Each expectation's ``meta`` says what a failure means for the row (INT-01-VAL-003):
``severity`` (``critical`` sends the row to quarantine, ``warning`` only reports it),
``error_code``, ``description`` and ``suggested_action``. This module only reads the files;
building GX objects from them is the quality task's job, so importing it stays cheap.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SUITES_DIR = Path(__file__).parent
REQUIRED_META = ("severity", "error_code", "description", "suggested_action")


def suite_names() -> list[str]:
    return sorted(path.stem for path in SUITES_DIR.glob("*.json"))


@cache
def load_suite(name: str) -> dict[str, Any]:
    """The suite `name` as a dict, checked to carry the meta every expectation needs."""
    path = SUITES_DIR / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no expectation suite {name!r} in {SUITES_DIR} (have: {', '.join(suite_names())})")
    suite = json.loads(path.read_text(encoding="utf-8"))
    for expectation in suite["expectations"]:
        missing = [key for key in REQUIRED_META if key not in expectation.get("meta", {})]
        if missing:
            raise ValueError(f"{path.name}: expectation {expectation['type']} lacks meta {missing}")
        if expectation["meta"]["severity"] not in ("critical", "warning"):
            raise ValueError(f"{path.name}: severity must be critical or warning")
    return suite
