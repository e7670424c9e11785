"""Steps 5-6 together: the confidence in the best candidate, its seed 002 band, and the Analysis.

The best candidate's score says how well the page points at it; the confidence also asks
whether the page points anywhere else. A runner-up close behind that nothing of the best's
own tells apart (a leader of two active projects), or evidence for another project as strong
as the best's (two project numbers), leaves a list of alternatives; strong evidence for another
project that the best one does not share, or an invoice that is wrong as printed, leaves a
suggestion at most. A page that could not be read says nothing: confidence 0, manual.
Risk H3 of BC11 (the wrong project auto-approved) is what every rule here guards against.
"""

from __future__ import annotations

import datetime as dt

from models.invoice_review import NO_TEXT, NOT_READABLE, Analysis, Band, Buyer, Check, DocumentProblem, Extraction
from tasks.invoice_analysis.checks import run_checks
from tasks.invoice_analysis.matching import Match, match
from tasks.invoice_analysis.registry import Registry

CLOSE_RUNNER_UP = 10  # points between the best and the next candidate that leave the choice open
ALTERNATIVES_AT_MOST = 79
SUGGESTION_AT_MOST = 94
CONTRADICTING = 80  # evidence worth a suggestion of its own: for another project, or telling the best apart


def confidence(found: Match, checks: list[Check], problems: list[DocumentProblem]) -> int:
    """0-100 for the best candidate of a readable page, after everything that should make a
    reviewer look. `problems` left on a readable page mean it was read only in part."""
    if not found.candidates:
        return 0
    best = found.candidates[0].score
    value = best
    runner_up = found.candidates[1].score if len(found.candidates) > 1 else 0
    undecided = runner_up >= best - CLOSE_RUNNER_UP and found.own < CONTRADICTING
    if undecided or found.rival >= best - CLOSE_RUNNER_UP:
        value = min(value, ALTERNATIVES_AT_MOST)
    wrong_as_printed = any(not check.ok and check.severity == "error" for check in checks)
    if found.rival >= CONTRADICTING or wrong_as_printed or problems:
        value = min(value, SUGGESTION_AT_MOST)
    return value


def analyze(file: str, extraction: Extraction, registry: Registry, buyer: Buyer,
            today: dt.date | None = None) -> Analysis:
    """Match, check and decide one read invoice. `today` places the due date (default: today)."""
    codes = {problem.code for problem in extraction.problems}
    if codes & NOT_READABLE or (codes & NO_TEXT and extraction.method == "rules"):  # nothing was read
        return Analysis(file=file, extraction=extraction, confidence=0, band=Band.MANUAL)
    found = match(extraction.fields, registry)
    checks = [*found.checks, *run_checks(extraction.fields, buyer, today or dt.date.today())]
    value = confidence(found, checks, extraction.problems)
    return Analysis(file=file, extraction=extraction, candidates=found.candidates, checks=checks,
                    confidence=value, band=Band.of(value))
