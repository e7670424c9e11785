"""Everything on the page that may point at a project (seed 002: "Projektnummerdetektion").

Builders' suppliers mark an invoice with a project number and name ("Projekt: 1313 Stender
VB 1966", "Märkning"), a WorkCloud work order ("WW1245", anywhere on the page, or after
"Arbetsorder"/"AO"/"Ert ordernr"), the buyer's reference person, the work-site address, or
only a line of free text ("Avser: takarbeten Stender"). The reader reports them all with the
label they followed; deciding which project they mean is the matcher's job. Free text is
bounded (a few lines, each cut short) so a chatty invoice cannot flood the matcher.
"""

from __future__ import annotations

import re

from connectors.invoice_pdf import labels
from connectors.invoice_pdf.layout import Layout, text_value
from models.invoice_review import HintKind, ProjectHint

_PROJECT_VALUE = re.compile(r"(?P<number>(?:[A-Z]{1,3}-?)?\d{2,8})(?![\w/.,-]\w)(?:\s*[-–:,]\s*|\s+)?(?P<name>.*)")
_WORK_ORDER = re.compile(r"\bWW ?-?\d{2,8}\b")
_FREE_TEXT_LINES = 5
_FREE_TEXT_CHARS = 120


def project_hints(layout: Layout, reference: tuple[str, str] | None, delivery: tuple[str, str] | None) -> list[
        ProjectHint]:
    """Project, work-order, reference, address and free-text hints, in that order, without repeats.

    `reference` and `delivery` are (value, label) pairs the reader has already found.
    """
    hints: list[ProjectHint] = []

    def add(kind: HintKind, value: str, label: str | None) -> None:
        value = value.strip(" ,;")
        if value and all((h.kind, h.value) != (kind, value) for h in hints):
            hints.append(ProjectHint(kind=kind, value=value, label=label))

    for tier in labels.PROJECT:
        for value, match in layout.values(tier, text_value):
            found = _PROJECT_VALUE.fullmatch(value)
            if found:
                add("project_number", found.group("number"), match.label)
                if found.group("name"):
                    add("project_name", found.group("name"), match.label)
            else:
                add("project_name", value, match.label)
    for tier in labels.PROJECT_NAME:
        for value, match in layout.values(tier, text_value):
            add("project_name", value, match.label)
    for tier in labels.WORK_ORDER:
        for value, match in layout.values(tier, text_value):
            add("work_order", _normal_work_order(value.split()[0]), match.label)
    for line in layout.lines:
        for order in _WORK_ORDER.findall(line.text):
            add("work_order", _normal_work_order(order), None)
    if reference:
        add("reference", *reference)
    if delivery:
        add("address", *delivery)
    free = 0
    for tier in labels.FREE_TEXT:
        for value, match in layout.values(tier, text_value, below=False):
            if free < _FREE_TEXT_LINES:
                add("free_text", value[:_FREE_TEXT_CHARS], match.label)
                free += 1
    return hints


def _normal_work_order(value: str) -> str:
    """"WW 1245" and "WW-1245" are the work order WW1245."""
    return re.sub(r"^(WW)[ -]?", r"\1", value.upper()) if value.upper().startswith("WW") else value
