"""WorkCloud CSV exports: projects, work orders and time reports (seed 002 §5.2, fallback 1).

WorkCloud has no public API, so the registry arrives as the daily export a person saves to a
shared folder. The same export may carry the API's field names (``projectNumber``) or the
Swedish headers Excel writes (``Projektnummer``); the kind of file is told by its header,
never by its name, since people rename files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd

from connectors.csv_files import data_rows, decode, first_line, normalise_header, split_header
from models.store import gc_paused


class ExportKind(StrEnum):
    PROJECTS = "projects"
    WORK_ORDERS = "work_orders"
    TIME_REPORTS = "time_reports"


# Canonical field -> the header names it may have (API name first, then Excel's Swedish one).
COLUMNS: Mapping[ExportKind, Mapping[str, tuple[str, ...]]] = {
    ExportKind.PROJECTS: {
        "project_number": ("projectNumber", "Projektnummer"),
        "project_name": ("projectName", "Projektnamn"),
        "project_leader": ("projectLeader", "Projektledare"),
        "status": ("status", "Status"),
        "start_date": ("startDate", "Startdatum"),
        "end_date": ("endDate", "Slutdatum"),
        "customer": ("customer", "Kund"),
        "address": ("address", "Adress"),
        "budget": ("budget", "Budget"),
        "cost_centre": ("costCenter", "Kostnadsställe"),
    },
    ExportKind.WORK_ORDERS: {
        "workorder_number": ("workorderNumber", "Arbetsordernummer"),
        "description": ("description", "Beskrivning"),
        "project_number": ("projectNumber", "Projektnummer"),
        "responsible": ("responsible", "Ansvarig"),
        "status": ("status", "Status"),
        "created": ("created", "Skapad"),
        "location": ("location", "Plats"),
    },
    ExportKind.TIME_REPORTS: {
        "employee": ("employee", "Anställd"),
        "project": ("project", "Projekt"),
        "date": ("date", "Datum"),
        "hours": ("hours", "Timmar"),
        "description": ("description", "Beskrivning"),
        "hourly_rate": ("hourlyRate", "Timpris"),
    },
}

# The columns that tell one kind from the others; a file of a kind must have all of them.
IDENTIFYING: Mapping[ExportKind, tuple[str, ...]] = {
    ExportKind.PROJECTS: ("project_number", "project_name"),
    ExportKind.WORK_ORDERS: ("workorder_number", "project_number"),
    ExportKind.TIME_REPORTS: ("employee", "project", "date", "hours"),
}

ROW_COLUMN = "_row"  # the line number in the file, carried with every row for error reports


@dataclass(frozen=True)
class RowProblem:
    """A row the file format itself rejects, before any quality rule sees it."""

    line: int
    code: str
    field: str
    description: str
    suggested_action: str
    cells: list[str]


@dataclass
class ExportFile:
    """One export read into a frame of text columns named by canonical field."""

    path: Path
    sha256: str
    encoding: str
    kind: ExportKind | None = None
    delimiter: str | None = None
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    error: str | None = None  # set when the file as a whole cannot be read


def _header_index(kind: ExportKind) -> dict[str, str]:
    return {normalise_header(alias): name for name, aliases in COLUMNS[kind].items() for alias in aliases}


def _detect(header: list[str]) -> ExportKind | None:
    for kind in (ExportKind.WORK_ORDERS, ExportKind.TIME_REPORTS, ExportKind.PROJECTS):
        index = _header_index(kind)
        present = {index[normalise_header(cell)] for cell in header if normalise_header(cell) in index}
        if set(IDENTIFYING[kind]) <= present:
            return kind
    return None


def expected_headers() -> str:
    return "; ".join(
        f"{kind.value}: {', '.join(COLUMNS[kind][name][1] + '/' + COLUMNS[kind][name][0] for name in IDENTIFYING[kind])}"
        for kind in ExportKind
    )


@gc_paused()
def read_export(path: Path, data: bytes | None = None) -> ExportFile:
    """Read one export (from `data` when the caller has the bytes already).

    Never raises for bad content: file and row problems are reported on the result."""
    decoded = decode(path.read_bytes() if data is None else data)
    export = ExportFile(path=path, sha256=decoded.sha256, encoding=decoded.encoding)
    all_names = [alias for columns in COLUMNS.values() for aliases in columns.values() for alias in aliases]
    header_line = first_line(decoded.text)
    if not header_line.strip():
        export.error = "the file is empty or has no header line"
        return export
    delimiter, header = split_header(header_line, all_names)
    kind = _detect(header)
    if kind is None:
        export.error = (
            f"the header {header_line[:200]!r} matches no WorkCloud export; expected the columns of one of: "
            f"{expected_headers()}"
        )
        return export
    export.kind, export.delimiter = kind, delimiter
    index = _header_index(kind)
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        name = index.get(normalise_header(cell))
        if name is None or name in positions:
            export.ignored_columns.append(cell)
        else:
            positions[name] = position

    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in data_rows(decoded.text, delimiter):
        cells = row.cells
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]  # trailing separators, as some exports write them
        if len(cells) != width:
            export.problems.append(
                RowProblem(
                    row.line, "CSV-FIELD-COUNT", "(row)",
                    f"line has {len(cells)} fields, the header has {width}",
                    "Check for an unquoted separator (for example a decimal comma in a comma-separated file)",
                    cells,
                )
            )
            continue
        rows.append(cells)
        lines.append(row.line)
    frame = pd.DataFrame({name: _column(rows, positions.get(name)) for name in COLUMNS[kind]}, dtype="object")
    frame[ROW_COLUMN] = lines
    export.frame = frame
    return export


def _column(rows: list[list[str]], position: int | None) -> list[str | None]:
    """One column of the frame: the cells at `position`, stripped, empty ones as None. A frame
    built from columns is about a quarter faster to make than one built from rows."""
    if position is None:
        return [None] * len(rows)
    return [cells[position].strip() or None for cells in rows]


def export_files(directory: Path) -> list[Path]:
    """The CSV and text files in an export folder, in name order."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
