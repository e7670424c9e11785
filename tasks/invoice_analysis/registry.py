"""The project registry that supplier invoices are matched against (seed 002 BC11, step 5).

Projects come from two systems: WorkCloud (the project registry proper, with work orders,
addresses and budgets) and Fortnox (where the invoice is booked, with its own copy of each
project). The store keeps one row per system, so the registry merges them by project
number. Everything an invoice may name a project by is indexed once, up front: numbers,
work orders and leaders in dicts, names and work-site streets in lists that rapidfuzz scans
in C. A registry is built once per run and then answers thousands of invoices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from models.projects import Project, ProjectStatus, WorkOrder
from models.tables import ENTITIES

# WorkCloud is the project registry; Fortnox's copy fills in only what WorkCloud lacks.
SOURCE_ORDER = ("workcloud", "fortnox")
# A project closed in either system is closed: a stale "active" elsewhere must not auto-approve it.
CLOSEDNESS: dict[str, int] = {"active": 0, "inactive": 1, "completed": 2}
WORK_ORDER = re.compile(r"\bWW[\s-]?(\d{3,8})\b", re.IGNORECASE)
POSTAL_CODE = re.compile(r"\b\d{3}\s?\d{2}\b")
# How suppliers shorten street names: "Drottningg. 12", "Kungsängsv. 8".
ABBREVIATIONS = ((re.compile(r"(?<=\w)g\.(?=[\s,\d]|$)"), "gatan"), (re.compile(r"(?<=\w)v\.(?=[\s,\d]|$)"), "vägen"))
# A street, then a house number with an optional letter: "Symmetrivägen 19 B".
STREET_NUMBER = re.compile(r"(?P<street>[^\W\d_][^\d,\n]*?)\s*(?P<number>\d{1,4})(?:\s*(?P<letter>[A-Za-z])\b)?")
LIMIT = 10  # fuzzy matches looked at per query; more than a page can sensibly mean


def process_text(text: str) -> str:
    """Lower case, punctuation to spaces, trimmed: how names are compared."""
    return " ".join(utils.default_process(text).split())


def project_key(text: str) -> str:
    """A project number as printed ("1313", " p-1313 ") in the registry's spelling."""
    return re.sub(r"[\s#:]+", "", text).upper().removeprefix("P-")


def work_order_key(text: str) -> str | None:
    """"WW1245" for "ww 1245", "WW-1245", "Arbetsorder WW1245"; None if there is no work order."""
    found = WORK_ORDER.search(text)
    return f"WW{found.group(1)}" if found else None


@dataclass(frozen=True)
class Site:
    """A work-site address reduced to what tells two sites apart: street, house number, town."""

    street: str
    number: str
    town: str | None

    @classmethod
    def parse(cls, address: str) -> Site | None:
        """The site of a printed address; a label before it ("Arbetsplats: …") is dropped and
        shortened street names are written out."""
        address = address.rsplit(":", 1)[-1]
        for short, full in ABBREVIATIONS:
            address = short.sub(full, address)
        found = STREET_NUMBER.search(address)
        if found is None:
            return None
        number = found.group("number") + (found.group("letter") or "").upper()
        rest = POSTAL_CODE.sub(" ", address[found.end() :])
        town = process_text(rest.split("\n")[-1].split(",")[-1]) or None
        return cls(process_text(found.group("street")), number, town)


@dataclass(frozen=True)
class RegistryProject:
    """One project as both systems know it."""

    number: str
    names: tuple[str, ...]  # every name the systems use for it, WorkCloud's first
    leaders: tuple[str, ...]
    status: ProjectStatus
    address: str | None
    budget: Decimal | None
    sources: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def active(self) -> bool:
        return self.status == "active"


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def merge(copies: list[tuple[str, Project]]) -> RegistryProject:
    """One project out of each system's copy of it, `copies` in SOURCE_ORDER."""
    models = [project for _, project in copies]
    return RegistryProject(
        number=models[0].project_number.strip(),
        names=_unique(p.project_name for p in models),
        leaders=_unique(p.project_leader for p in models),
        status=max((p.status for p in models), key=CLOSEDNESS.__getitem__),
        address=next((p.address for p in models if p.address), None),
        budget=next((p.budget for p in models if p.budget is not None), None),
        sources=_unique(source for source, _ in copies),
    )


def _source_rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


class Registry:
    """Projects, work orders and project leaders, indexed for the matcher. Projects are keyed,
    and lookups answer, by `project_key`."""

    def __init__(self, projects: Iterable[RegistryProject], work_orders: Iterable[WorkOrder] = ()) -> None:
        self.projects: dict[str, RegistryProject] = {project_key(p.number): p for p in projects}
        self.work_orders: dict[str, WorkOrder] = {}
        for order in work_orders:
            key = work_order_key(order.workorder_number) or order.workorder_number.upper()
            self.work_orders[key] = order
        self._names: list[str] = []
        self._name_owners: list[str] = []
        self._leaders: dict[str, set[str]] = {}
        self._streets: dict[str, list[tuple[Site, str]]] = {}
        for key, project in self.projects.items():
            for name in project.names:
                self._names.append(process_text(name))
                self._name_owners.append(key)
            for leader in project.leaders:
                self._leaders.setdefault(process_text(leader), set()).add(key)
            self._add_site(project.address, key)
        for order in self.work_orders.values():
            self._add_site(order.location, project_key(order.project_number))
        self._leader_names = list(self._leaders)
        self._street_names = list(self._streets)

    def _add_site(self, address: str | None, number: str) -> None:
        site = Site.parse(address) if address else None
        if site is not None and (site, number) not in self._streets.get(site.street, []):
            self._streets.setdefault(site.street, []).append((site, number))

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, projects: Iterable[tuple[str, Project]], work_orders: Iterable[WorkOrder] = ()) -> Registry:
        """A registry from (source system, project) pairs: copies of one number are merged."""
        copies: dict[str, list[tuple[str, Project]]] = {}
        for source, project in projects:
            copies.setdefault(project_key(project.project_number), []).append((source, project))
        merged = [merge(sorted(found, key=lambda c: _source_rank(c[0]))) for found in copies.values()]
        return cls(merged, work_orders)

    @classmethod
    def from_records(
        cls,
        projects: Iterable[Project | Mapping[str, Any]],
        work_orders: Iterable[WorkOrder | Mapping[str, Any]] = (),
        fortnox_projects: Iterable[Project | Mapping[str, Any]] = (),
    ) -> Registry:
        """A registry from plain records, such as the sandbox company's: WorkCloud projects and
        work orders, and optionally Fortnox's copies of the projects."""
        pairs = [("workcloud", Project.model_validate(p)) for p in projects]
        pairs += [("fortnox", Project.model_validate(p)) for p in fortnox_projects]
        return cls.build(pairs, [WorkOrder.model_validate(o) for o in work_orders])

    @classmethod
    def from_store(cls, connection: sa.Connection, tenant_id: str) -> Registry:
        """The tenant's registry as the WorkCloud ingest and the Fortnox import stored it."""
        projects_table, orders_table = ENTITIES["project"].table, ENTITIES["work_order"].table
        project_fields, order_fields = ENTITIES["project"].fields, ENTITIES["work_order"].fields
        rows = connection.execute(
            sa.select(projects_table.c.source_system, *(projects_table.c[f] for f in project_fields))
            .where(projects_table.c.tenant_id == tenant_id)
        )
        projects = [(row.source_system, Project.model_validate({f: getattr(row, f) for f in project_fields}))
                    for row in rows]
        orders = [
            WorkOrder.model_validate(row._asdict())
            for row in connection.execute(
                sa.select(*(orders_table.c[f] for f in order_fields)).where(orders_table.c.tenant_id == tenant_id)
            )
        ]
        return cls.build(projects, orders)

    # ------------------------------------------------------------------ lookups
    def project(self, number: str) -> RegistryProject | None:
        return self.projects.get(project_key(number))

    def work_order(self, text: str) -> WorkOrder | None:
        key = work_order_key(text)
        return self.work_orders.get(key) if key else None

    def named(self, text: str, cutoff: float, partial: bool = False) -> dict[str, float]:
        """Projects whose name looks like `text`: project number to similarity (0-100), the best
        alias counting. Typos are counted as keyboards make them (a swapped pair is one slip, as
        a dropped, doubled or wrong letter is). `partial` for text that holds more than a name (a
        free-text line): the name must appear in it, while a word of the text that merely
        appears in names is no match."""
        query = process_text(text)
        if partial:
            matches = [(name, score, index) for name, score, index in
                       process.extract(query, self._names, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None)
                       if len(name) <= len(query)]
        else:
            matches = [(name, score * 100, index) for name, score, index in
                       process.extract(query, self._names, scorer=OSA.normalized_similarity,
                                       score_cutoff=cutoff / 100, limit=LIMIT)]
        found: dict[str, float] = {}
        for _, score, index in matches:
            owner = self._name_owners[index]
            found[owner] = max(score, found.get(owner, 0.0))
        return found

    def led_by(self, person: str, cutoff: float) -> dict[str, float]:
        """Projects whose leader is `person` (full name, either order): number to similarity."""
        found: dict[str, float] = {}
        for leader, score, _ in process.extract(process_text(person), self._leader_names,
                                                scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=LIMIT):
            for number in self._leaders[leader]:
                found[number] = max(score, found.get(number, 0.0))
        return found

    def located_at(self, address: str, cutoff: float) -> dict[str, float]:
        """Projects at the work site `address`: the same house number and town, the street
        alike (spelling may differ). Number to the street's similarity."""
        site = Site.parse(address)
        if site is None:
            return {}
        found: dict[str, float] = {}
        for street, score, _ in process.extract(site.street, self._street_names, scorer=fuzz.ratio,
                                                score_cutoff=cutoff, limit=LIMIT):
            for known, number in self._streets[street]:
                same_town = site.town is None or known.town is None or fuzz.ratio(site.town, known.town) >= cutoff
                if known.number == site.number and same_town:
                    found[number] = max(score, found.get(number, 0.0))
        return found
