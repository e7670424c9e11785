"""Reading WorkCloud exports: kinds from headers, separators, encodings, row problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.workcloud import ExportKind, read_export


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("projectNumber,projectName,status", ExportKind.PROJECTS),
        ("Projektnummer;Projektnamn;Projektledare;Status", ExportKind.PROJECTS),
        ("workorderNumber,description,projectNumber,status", ExportKind.WORK_ORDERS),
        ("Arbetsordernummer;Beskrivning;Projektnummer;Ansvarig;Status;Skapad;Plats", ExportKind.WORK_ORDERS),
        ("employee,project,date,hours", ExportKind.TIME_REPORTS),
        ("Anställd;Projekt;Datum;Timmar;Beskrivning;Timpris", ExportKind.TIME_REPORTS),
        ("  PROJEKTNUMMER ; projektnamn ", ExportKind.PROJECTS),
    ],
)
def test_the_kind_is_told_by_the_header_not_the_name(tmp_path: Path, header: str, kind: ExportKind) -> None:
    export = read_export(_write(tmp_path, header + "\n", name="tidrapporter.csv"))
    assert export.error is None
    assert export.kind == kind


def test_values_are_read_as_text_by_canonical_name_with_line_numbers(tmp_path: Path) -> None:
    text = (
        "Anställd;Projekt;Datum;Timmar;Beskrivning;Timpris;Extra\r\n"
        "Lars Säck;1313;2025-10-01;7,5;Plåtmontering tak;1 450,00;x\r\n"
        "\r\n"
        "Åsa Öberg;1245;2025-10-02;8;;450;\r\n"
    )
    export = read_export(_write(tmp_path, text, "cp1252"))
    assert (export.encoding, export.delimiter, export.ignored_columns) == ("cp1252", ";", ["Extra"])
    assert export.frame.to_dict("records") == [
        {"employee": "Lars Säck", "project": "1313", "date": "2025-10-01", "hours": "7,5",
         "description": "Plåtmontering tak", "hourly_rate": "1 450,00", "_row": 2},
        {"employee": "Åsa Öberg", "project": "1245", "date": "2025-10-02", "hours": "8",
         "description": None, "hourly_rate": "450", "_row": 4},
    ]


def test_bom_utf8_and_trailing_separators(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "\ufeffprojectNumber,projectName,status,\n1313,Stender VB 1966,active,\n"))
    assert (export.encoding, export.kind, export.problems) == ("utf-8-sig", ExportKind.PROJECTS, [])
    assert export.frame.loc[0, "project_name"] == "Stender VB 1966"


def test_a_row_with_the_wrong_number_of_fields_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path, "employee,project,date,hours\nA,1,2025-01-01,7,5\nB,1,2025-01-01,8\n"))
    assert [(p.line, p.code, p.cells) for p in export.problems] == [(2, "CSV-FIELD-COUNT", ["A", "1", "2025-01-01", "7", "5"])]
    assert export.frame["employee"].tolist() == ["B"]


@pytest.mark.parametrize("text", ["", "Konto;Belopp\n4010;100\n"])
def test_a_file_that_is_no_export_gets_a_file_error_naming_what_was_expected(tmp_path: Path, text: str) -> None:
    export = read_export(_write(tmp_path, text))
    assert export.kind is None
    assert export.error is not None
    if text:
        assert "Projektnummer/projectNumber" in export.error and "Anställd/employee" in export.error
