"""A generator of realistic WorkCloud exports for a Swedish construction company.

WorkCloud has no public sandbox, so the demo, the tests and the benchmarks use files made
here: projects such as "1313 Stender VB 1966", work orders "WW1245" and time reports, in
the two header styles a real export has (API field names, or Excel's Swedish headers with
``;``, decimal commas and Windows-1252). The same seed always gives the same company, so
other simulators (Fortnox) can refer to the same projects.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from connectors.workcloud import COLUMNS, ExportKind

Style = Literal["excel", "api"]

FIRST = ["Jasmine", "Tobbe", "Lars", "Åsa", "Björn", "Märta", "Göran", "Karin", "Östen", "Linnéa", "Jönsson", "Sofia"]
LAST = ["Andersson", "Svensson", "Säck", "Öberg", "Lindström", "Håkansson", "Ekström", "Nyström", "Åberg", "Karlsson"]
CUSTOMERS = [
    "Stender Fastigheter AB", "Uppsalahem AB", "Brf Kämpetorget", "Vasakronan AB", "Rikshem AB",
    "Upplands-Bro kommun", "Heimstaden AB", "Brf Solrosen", "Akademiska Hus AB", "Sigtunahem AB",
]
STREETS = ["Symmetrivägen", "Kämpetorget", "Drottninggatan", "Storgatan", "Kungsängsvägen", "Råbyvägen",
           "Sysslomansgatan", "Fyrisvallsgatan", "Bålstavägen", "Västra Ågatan"]
CITIES = ["Uppsala", "Kungsängen", "Stockholm", "Sigtuna", "Enköping", "Bålsta", "Märsta"]
WORKS = ["Service värmesystem", "Byte av stammar", "Takomläggning", "Fönsterbyte", "Fasadrenovering",
         "Plåtmontering tak", "Ventilationsöversyn", "Badrumsrenovering", "Markarbeten", "Elinstallation"]
SUFFIXES = ["VB", "ROT", "NB", "SERV", "REN"]
STATUS_SV = {"active": "Aktiv", "inactive": "Inaktiv", "completed": "Avslutad"}


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


@dataclass(frozen=True)
class Company:
    """The generated registry, as canonical field names to text values."""

    projects: list[dict[str, str]]
    work_orders: list[dict[str, str]]
    employees: list[str]


def generate_company(seed: int = 7, projects: int = 40, work_orders: int = 120) -> Company:
    rng = random.Random(seed)
    numbers = rng.sample(range(1000, 1999), projects)
    project_rows = []
    for number in numbers:
        customer = rng.choice(CUSTOMERS)
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 600))
        status = rng.choices(["active", "completed", "inactive"], weights=[7, 2, 1])[0]
        project_rows.append(
            {
                "project_number": str(number),
                "project_name": f"{customer.split()[0]} {rng.choice(SUFFIXES)} {rng.randrange(1950, 2020)}",
                "project_leader": _person(rng),
                "status": status,
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=rng.randrange(60, 540))).isoformat(),
                "customer": customer,
                "address": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}, {rng.choice(CITIES)}",
                "budget": str(rng.randrange(50, 5000) * 1000),
                "cost_centre": str(4000 + rng.randrange(1, 20)),
            }
        )
    order_rows = []
    for number in rng.sample(range(1000, 9999), work_orders):
        project = rng.choice(project_rows)
        place = project["address"].split(",")[0].rsplit(" ", 1)[0]
        order_rows.append(
            {
                "workorder_number": f"WW{number}",
                "description": f"{rng.choice(WORKS)} {place}",
                "project_number": project["project_number"],
                "responsible": _person(rng),
                "status": project["status"],
                "created": (dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))).isoformat(),
                "location": project["address"],
            }
        )
    employees = sorted({_person(rng) for _ in range(25)})
    return Company(project_rows, order_rows, employees)


def time_reports(company: Company, count: int, seed: int = 7) -> Iterator[dict[str, str]]:
    """`count` time reports on the company's projects, half-hour steps, 450–950 kr an hour."""
    rng = random.Random(seed + 1)
    start = dt.date(2025, 8, 1)
    for _ in range(count):
        project = rng.choice(company.projects)
        yield {
            "employee": rng.choice(company.employees),
            "project": project["project_number"],
            "date": (start + dt.timedelta(days=rng.randrange(0, 92))).isoformat(),
            "hours": str(Decimal(rng.randrange(1, 21)) / 2),
            "description": rng.choice(WORKS),
            "hourly_rate": str(rng.randrange(450, 951, 50)),
        }


def render(kind: ExportKind, rows: Iterable[dict[str, str | None]], style: Style) -> str:
    """CSV text for `rows` as WorkCloud writes it: Excel style uses Swedish headers, ``;``,
    decimal commas and Swedish status words; API style uses the API names and ``,``."""
    columns = COLUMNS[kind]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if style == "excel" else ",", lineterminator="\r\n")
    writer.writerow([aliases[1] if style == "excel" else aliases[0] for aliases in columns.values()])
    for row in rows:
        cells = []
        for name in columns:
            value = row.get(name) or ""
            if style == "excel" and name in ("hours", "hourly_rate", "budget"):
                value = value.replace(".", ",")
            if style == "excel" and name == "status":
                value = STATUS_SV.get(value, value)
            cells.append(value)
        writer.writerow(cells)
    return out.getvalue()


def write_exports(
    directory: Path, seed: int = 7, projects: int = 40, work_orders: int = 120, reports: int = 2000
) -> dict[ExportKind, Path]:
    """The three daily exports the demo ingests, in the mix of styles a real folder holds:
    projects from Excel (Windows-1252), work orders from the API (UTF-8 with BOM), time
    reports from Excel saved as UTF-8."""
    directory.mkdir(parents=True, exist_ok=True)
    company = generate_company(seed, projects, work_orders)
    files = {
        ExportKind.PROJECTS: (directory / "projektregister.csv", render(ExportKind.PROJECTS, company.projects, "excel"), "cp1252"),
        ExportKind.WORK_ORDERS: (directory / "workorders.csv", render(ExportKind.WORK_ORDERS, company.work_orders, "api"), "utf-8-sig"),
        ExportKind.TIME_REPORTS: (
            directory / "tidrapporter.csv",
            render(ExportKind.TIME_REPORTS, time_reports(company, reports, seed), "excel"),
            "utf-8",
        ),
    }
    for path, text, encoding in files.values():
        path.write_bytes(text.encode(encoding))
    return {kind: path for kind, (path, _, _) in files.items()}
