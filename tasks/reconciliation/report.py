"""The reconciliation report: the period it covers, its tables, and how it is written for people.

A report is read by finance staff who open it from a mail or the Prefect UI, often with no
network: one self-contained HTML file (inline CSS, the chart as inline SVG, no scripts) with
Swedish labels and the English beside them, and a CSV file per table for whoever wants to
sort, filter or mark off the rows. Both are written under
``<base>/<tenant>/<kind>-<period>/``, so the reports of a tenant sort by kind and date.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import WithJsonSchema

from models.types import swedish_amount

Kind = Literal["daily", "weekly", "monthly"]
# A day of the period to report on, as a flow parameter: "format: date" gives the UI's date picker and
# Prefect's parameter validation refuses what is not a date. The pattern is for the server: enforcing
# a deployment's schema, Prefect 3.8's server checks types but not formats, so without it a run with
# date=not-a-date would still be created and only fail when it starts.
ReportDate = Annotated[dt.date, WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"})]
STOCKHOLM = ZoneInfo("Europe/Stockholm")  # the company's day: schedules and periods run in Swedish time
CHART_DAYS = 14  # a daily report's chart shows the fortnight before it, so a trend can be seen
MAX_HTML_ROWS = 500  # a longer table is cut in the HTML (the CSV has every row)
VOLUME_COLUMNS = ("day", "synced", "skipped", "failed", "quarantined", "error_rate")  # the chart's CSV

KIND_TITLES = {
    "daily": "Daglig synksammanfattning / Daily sync summary",
    "weekly": "Veckoavstämning / Weekly reconciliation",
    "monthly": "Månadsrevision / Monthly audit",
}


# --------------------------------------------------------------------------- period
@dataclass(frozen=True)
class Period:
    """The days a report covers (Swedish calendar days, `last` included)."""

    kind: Kind
    first: dt.date
    last: dt.date

    @classmethod
    def containing(cls, kind: Kind, day: dt.date) -> Period:
        """The day, ISO week (Monday to Sunday) or calendar month that `day` falls in."""
        if kind == "daily":
            return cls(kind, day, day)
        if kind == "weekly":
            monday = day - dt.timedelta(days=day.weekday())
            return cls(kind, monday, monday + dt.timedelta(days=6))
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(kind, first, following - dt.timedelta(days=1))

    @classmethod
    def completed_before(cls, kind: Kind, today: dt.date) -> Period:
        """The last whole period before `today`: what a scheduled run in the morning reports on."""
        if kind == "daily":
            return cls.containing(kind, today - dt.timedelta(days=1))
        if kind == "weekly":
            return cls.containing(kind, today - dt.timedelta(days=today.weekday() + 1))
        return cls.containing(kind, today.replace(day=1) - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        """2026-03-14, 2026-W11 or 2026-03: the report's name and folder."""
        if self.kind == "daily":
            return self.first.isoformat()
        if self.kind == "weekly":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first.strftime("%Y-%m")

    @property
    def start(self) -> dt.datetime:
        """The first moment of the period, in UTC (what the store's timestamps are compared with)."""
        return _midnight_utc(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period, in UTC."""
        return _midnight_utc(self.last + dt.timedelta(days=1))

    @property
    def chart_days(self) -> list[dt.date]:
        """The days of the volume chart: the period itself, or the fortnight ending on a report's day."""
        first = self.last - dt.timedelta(days=CHART_DAYS - 1) if self.kind == "daily" else self.first
        return [first + dt.timedelta(days=n) for n in range((self.last - first).days + 1)]

    @property
    def chart_start(self) -> dt.datetime:
        """The first moment of the chart's first day, in UTC (never after `start`)."""
        return _midnight_utc(self.chart_days[0])


def _midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), STOCKHOLM).astimezone(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A timestamp read from the store as an aware UTC time (SQLite hands them back without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def swedish_day(moment: dt.datetime) -> dt.date:
    """The Swedish calendar day of a stored timestamp."""
    return as_utc(moment).astimezone(STOCKHOLM).date()


# --------------------------------------------------------------------------- content
ColumnKind = Literal["text", "id", "code", "count", "amount", "date", "time"]

# Every column a report table can have: its bilingual heading and how its values are shown.
# Rows are keyed by the English names, which are also the CSV headings.
COLUMNS: dict[str, tuple[str, ColumnKind]] = {
    "system": ("Integration / Integration", "text"),
    "entity": ("Entitet / Entity", "text"),
    "dataset": ("Datamängd / Dataset", "text"),
    "runs": ("Körningar / Runs", "count"),
    "failed_runs": ("Misslyckade körningar / Failed runs", "count"),
    "synced": ("Synkade poster / Records synced", "count"),
    "skipped": ("Överhoppade poster / Records skipped", "count"),
    "failed": ("Misslyckade poster / Records failed", "count"),
    "quarantined": ("I karantän / Quarantined", "count"),
    "time": ("Tid / Time", "time"),
    "status": ("Status / Status", "code"),
    "records": ("Poster / Records", "count"),
    "error": ("Fel / Error", "text"),
    "retried": ("Körd igen / Retried", "code"),
    "error_category": ("Felkategori / Error category", "text"),
    "error_code": ("Felkod / Error code", "text"),
    "count": ("Antal / Count", "count"),
    "oldest": ("Äldst / Oldest", "date"),
    "queue": ("Kö / Queue", "code"),
    "age_0_7": ("0–7 dagar / days", "count"),
    "age_8_30": ("8–30 dagar / days", "count"),
    "age_31_90": ("31–90 dagar / days", "count"),
    "age_over_90": ("> 90 dagar / days", "count"),
    "kind": ("Avvikelse / Discrepancy", "code"),
    "local_id": ("Lokalt id / Local id", "id"),
    "remote_id": ("Fortnox-id / Fortnox id", "id"),
    "number": ("Nummer / Number", "text"),
    "field": ("Fält / Field", "text"),
    "local_value": ("Lokalt värde / Local value", "text"),
    "remote_value": ("Värde i Fortnox / Fortnox value", "text"),
    "date": ("Datum / Date", "date"),
    "note": ("Anmärkning / Note", "text"),
    "period": ("Period / Period", "date"),
    "local_count": ("Antal lokalt / Local count", "count"),
    "remote_count": ("Antal i Fortnox / Fortnox count", "count"),
    "count_difference": ("Skillnad antal / Count difference", "count"),
    "local_amount": ("Belopp lokalt / Local amount", "amount"),
    "remote_amount": ("Belopp i Fortnox / Fortnox amount", "amount"),
    "amount_difference": ("Skillnad belopp / Amount difference", "amount"),
    "missing_locally": ("Saknas lokalt / Missing locally", "count"),
    "missing_remotely": ("Saknas i Fortnox / Missing in Fortnox", "count"),
    "differs": ("Avvikande värden / Values differ", "count"),
    "synced_until": ("Synkad t.o.m. / Synced until", "time"),
    "events_checked": ("Kontrollerade händelser / Events checked", "count"),
    "chain": ("Kedjan / Chain", "code"),
    "break_seq": ("Brott vid nr / Break at seq", "text"),
    "break_id": ("Händelse-id / Event id", "id"),
    "bulk_loads_checked": ("Kontrollerade massladdningar / Bulk loads checked", "count"),
    "bulk_loads_changed": ("Massladdningar med ändrade rader / Bulk loads with changed rows", "count"),
    "reason": ("Orsak / Reason", "text"),
}

# Codes in `code` columns as a person reads them.
CODES = {
    "success": "Lyckad / Success",
    "partial": "Delvis / Partial",
    "failed": "Misslyckad / Failed",
    "started": "Pågår / Started",
    "yes": "Ja / Yes",
    "recovered": "Ja, lyckades / Yes, succeeded",
    "no": "Nej / No",
    "dead_letter": "Döda brev / Dead letters",
    "quarantine": "Karantän / Quarantine",
    "missing_locally": "Saknas lokalt / Missing locally",
    "missing_remotely": "Saknas i Fortnox / Missing in Fortnox",
    "amount_differs": "Belopp skiljer / Amount differs",
    "value_differs": "Värde skiljer / Value differs",
    "created_remotely": "Skapad i Fortnox efter synk / Created remotely since sync",
    "changed_remotely": "Ändrad i Fortnox efter synk / Changed remotely since sync",
    "intact": "Obruten / Intact",
    "broken": "Bruten / Broken",
}


@dataclass(frozen=True)
class Section:
    """One table of the report, written to the HTML and to ``<key>.csv``.

    A table made elsewhere (payment matching) brings its own `headings` and `codes`, which are
    looked up before this module's own.
    """

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    note: str = ""  # how to read the table, under its title
    empty: str = "Inga / None"
    headings: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    codes: Mapping[str, str] = field(default_factory=dict)

    def heading(self, column: str) -> tuple[str, str]:
        """(bilingual heading, kind of value) of a column."""
        return self.headings.get(column) or COLUMNS.get(column) or (column, "text")

    def cell(self, row: dict[str, Any], column: str) -> str:
        """A cell as the HTML shows it."""
        value, kind = row.get(column), self.heading(column)[1]
        if kind == "code" and value is not None:
            return self.codes.get(str(value)) or CODES.get(str(value), str(value))
        return shown(value, kind)


@dataclass(frozen=True)
class Figure:
    """A key number shown large at the top; `tone` colours it (ok, warn, bad or plain)."""

    label: str
    value: str
    tone: Literal["ok", "warn", "bad", "plain"] = "plain"


@dataclass(frozen=True)
class DayVolume:
    """What the syncs did on one Swedish calendar day: the chart's bars and error rate."""

    day: dt.date
    synced: int = 0
    skipped: int = 0
    failed: int = 0
    quarantined: int = 0

    @property
    def handled(self) -> int:
        return self.synced + self.skipped + self.failed + self.quarantined

    @property
    def error_rate(self) -> float:
        """Share of the records handled that failed or were held back."""
        return (self.failed + self.quarantined) / self.handled if self.handled else 0.0


@dataclass
class Report:
    tenant: str
    period: Period
    generated_at: dt.datetime
    figures: list[Figure] = field(default_factory=list)
    volumes: list[DayVolume] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what could not be checked, and why
    complete: bool = True  # False when a part that should have been checked could not be (Fortnox down)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


@dataclass(frozen=True)
class WrittenReport:
    """Where a report was written and what it found at a glance: what the flow returns. The tables
    stay in the files (Prefect walks a flow's return value item by item)."""

    tenant: str
    period: Period
    html: Path
    csv: dict[str, Path]  # table key -> file; "daily_volumes" is the chart's data
    figures: list[Figure]
    notices: list[str]
    complete: bool


# --------------------------------------------------------------------------- values
def group_digits(number: int) -> str:
    """12 345: thousands grouped with a no-break space, as Swedish print does."""
    return f"{number:,}".replace(",", "\u00a0").replace("-", "−")


def shown(value: Any, kind: str) -> str:
    """A value as the HTML shows it: counts grouped, amounts in Swedish, times in Swedish time."""
    if value is None or value == "":
        return "–"
    if kind == "count" and isinstance(value, int):
        return group_digits(value)
    if kind == "amount" and isinstance(value, Decimal):
        return swedish_amount(value, minus="−")
    if kind == "time" and isinstance(value, dt.datetime):
        return as_utc(value).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else value


# --------------------------------------------------------------------------- chart
CHART_WIDTH, CHART_HEIGHT = 900, 300
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 70, 830, 56, 256
TICKS = 4  # grid lines above the baseline


def _tick(value: float, whole: bool) -> float:
    """The step between grid lines so that `TICKS` of them reach `value`: 1, 2, 2.5 or 5 times a
    power of ten, at least 1 (and whole when counting records)."""
    magnitude = 1.0
    while True:
        for factor in (1, 2, 2.5, 5):
            step = factor * magnitude
            if step * TICKS >= value and (not whole or step == int(step)):
                return step
        magnitude *= 10


def volume_chart(volumes: list[DayVolume]) -> Markup:
    """Daily volumes as stacked bars (synced, skipped, failed or held back) and the error rate as a
    line on its own axis (days without records have none), as inline SVG; hovering a bar shows
    the day's numbers (its <title>)."""
    step = _tick(max((v.handled for v in volumes), default=0), whole=True)
    rate_step = _tick(max((v.error_rate * 100 for v in volumes), default=0.0), whole=False)
    height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(volumes), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" '
        f'width="{CHART_WIDTH}" height="{CHART_HEIGHT}" aria-labelledby="chart-title">',
        '<title id="chart-title">Poster per dag och felfrekvens / Records per day and error rate</title>',
    ]
    for tick in range(TICKS + 1):  # grid lines and both axes' labels
        y = PLOT_BOTTOM - height * tick / TICKS
        parts.append(f'<line class="grid" x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PLOT_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{group_digits(int(step * tick))}</text>')
        parts.append(f'<text class="axis rate" x="{PLOT_RIGHT + 6}" y="{y + 4:.1f}">'
                     f'{f"{rate_step * tick:g}".replace(".", ",")} %</text>')
    parts.append(f'<text class="axis" x="4" y="{PLOT_TOP - 10}">poster / records</text>')
    parts.append(f'<text class="axis rate" x="{PLOT_RIGHT + 6}" y="{PLOT_TOP - 10}">fel / errors</text>')
    label_every = max(1, round(len(volumes) / 12))
    points = []
    for index, volume in enumerate(volumes):
        x = PLOT_LEFT + slot * index + (slot - bar) / 2
        y = PLOT_BOTTOM
        tip = (f"{volume.day.isoformat()}: {volume.synced} synkade / synced, {volume.skipped} överhoppade / skipped, "
               f"{volume.failed} misslyckade / failed, {volume.quarantined} i karantän / quarantined, "
               f"felfrekvens / error rate {volume.error_rate * 100:.1f} %")
        parts.append(f'<g class="day"><title>{tip}</title>'
                     f'<rect class="hover" x="{x:.1f}" y="{PLOT_TOP}" width="{bar:.1f}" height="{height}"/>')
        for css, count in (("synced", volume.synced), ("skipped", volume.skipped),
                           ("failed", volume.failed + volume.quarantined)):
            if count:
                h = height * count / (step * TICKS)
                y -= h
                parts.append(f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"/>')
        parts.append("</g>")
        if volume.handled:
            points.append((x + bar / 2, PLOT_BOTTOM - height * volume.error_rate * 100 / (rate_step * TICKS)))
        if index % label_every == 0:
            parts.append(f'<text class="axis" x="{x + bar / 2:.1f}" y="{PLOT_BOTTOM + 16}" text-anchor="middle">'
                         f'{volume.day.strftime("%d/%m")}</text>')
    if points:
        parts.append(f'<polyline class="rate" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>')
        parts += [f'<circle class="rate" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>' for x, y in points]
    legend = (("synced", "Synkade / Synced", 150), ("skipped", "Överhoppade / Skipped", 170),
              ("failed", "Misslyckade + karantän / Failed + quarantined", 310))
    x = PLOT_LEFT
    for css, text, width in legend:
        parts.append(f'<rect class="{css}" x="{x}" y="8" width="12" height="12"/>'
                     f'<text class="legend" x="{x + 16}" y="18">{text}</text>')
        x += width
    parts.append(f'<line class="rate" x1="{x}" x2="{x + 18}" y1="14" y2="14"/><circle class="rate" cx="{x + 9}" '
                 f'cy="14" r="3.5"/><text class="legend" x="{x + 24}" y="18">Felfrekvens / Error rate</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------- writing
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def report_folder(base: Path, tenant: str, period: Period) -> Path:
    """``<base>/<tenant>/<kind>-<period>``, the tenant made safe as a folder name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", tenant) or "_"
    return base / safe / f"{period.kind}-{period.label}"


def render_html(report: Report, csv_names: dict[str, str]) -> str:
    tables = [
        {
            "section": section,
            "headings": [section.heading(c)[0].partition(" / ")[::2] for c in section.columns],
            "kinds": [section.heading(c)[1] for c in section.columns],
            "cells": [[section.cell(row, c) for c in section.columns] for row in section.rows[:MAX_HTML_ROWS]],
            "cut": max(len(section.rows) - MAX_HTML_ROWS, 0),
            "csv": csv_names.get(section.key),
        }
        for section in report.sections
    ]
    return _ENVIRONMENT.get_template("report.html.j2").render(
        report=report, title=KIND_TITLES[report.period.kind], tables=tables, chart=volume_chart(report.volumes),
        volumes_csv=csv_names.get("daily_volumes"),
        generated=report.generated_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
        group_digits=group_digits,
    )


def _csv_rows(section: Section) -> Iterator[list[Any]]:
    return ([_csv_value(row.get(c)) for c in section.columns] for row in section.rows)


def write_report(report: Report, base: Path) -> WrittenReport:
    """Write ``report.html`` and one CSV per table into the report's folder; a second run for the
    period replaces them. The CSV files are UTF-8 with a byte-order mark, without which Excel shows
    å, ä and ö garbled, and hold values as machines read them (ISO dates, amounts as 1234.50)."""
    folder = report_folder(base, report.tenant, report.period)
    folder.mkdir(parents=True, exist_ok=True)
    tables = [(section.key, section.columns, _csv_rows(section)) for section in report.sections]
    tables.append(("daily_volumes", VOLUME_COLUMNS, [(v.day, v.synced, v.skipped, v.failed, v.quarantined,
                                                      f"{v.error_rate:.4f}") for v in report.volumes]))
    written: dict[str, Path] = {}
    for key, columns, rows in tables:
        path = folder / f"{key}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(rows)
        written[key] = path
    html = folder / "report.html"
    html.write_text(render_html(report, {key: path.name for key, path in written.items()}), encoding="utf-8")
    return WrittenReport(report.tenant, report.period, html, written, report.figures, report.notices, report.complete)
