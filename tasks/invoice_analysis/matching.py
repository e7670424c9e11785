"""Step 5: which project a supplier invoice is for, as ranked candidates with Swedish reasons.

Every hint on the page (a project number, a work order, a name, the work site, "Er referens")
is one *signal*. A signal alone is worth what the seed 002 bands say it is worth: a printed
project number or work order is enough to auto-approve, a name, an address or the project
leader only to suggest. Signals that agree on one project combine like independent
witnesses (the doubts multiply), so number + name + leader + address gives 99; a closed
project drops a band. Without a number or a work order, or with an amount beyond the
project's whole budget, no project is auto-approved, whatever else agrees: when in doubt, lower.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from models.invoice_review import Candidate, Check, ExtractedFields, ExtractedLine, ProjectHint
from tasks.invoice_analysis.checks import kronor
from tasks.invoice_analysis.registry import WORK_ORDER, Registry, RegistryProject, process_text, work_order_key

SignalKind = Literal["number", "work_order", "name", "address", "leader", "rows"]
IDENTIFIERS: frozenset[SignalKind] = frozenset({"number", "work_order"})

# What one signal alone is worth, on the confidence scale of the seed 002 bands.
NUMBER = 96  # a printed project number of an active project: auto-approve
WORK_ORDER_OF = 96  # a work order belongs to exactly one project
NAME = 90  # a name, an address or a leader alone: a suggestion (80-94)
ADDRESS = 86
LEADER = 82
ROWS = 40  # most of the amount is under this project's heading: orders two printed projects, decides nothing alone
FUZZY_COST = 0.4  # points lost per point of similarity below 100 (a typo costs ~3)

NAME_CUTOFF = 80  # 1-2 typos in an 11-20 character name keep 81-95 % similarity
FREE_TEXT_CUTOFF = 90  # a name inside a longer line must be nearly whole
ADDRESS_CUTOFF = 85
LEADER_CUTOFF = 90

WITHOUT_IDENTIFIER = 94  # no project number or work order: never auto-approve
CLOSED_COST = 15  # a completed or inactive project drops a band
WITHOUT_PLAUSIBLE_AMOUNT = 94  # one invoice beyond the project's whole budget: a person should look
SHOWN_FROM = 40  # weaker candidates are noise to the reviewer
SHOWN = 5
NUMBER_TOKEN = re.compile(r"\b\d{3,10}\b")
STATUS_TEXT = {"completed": "avslutat", "inactive": "inaktivt"}


@dataclass(frozen=True)
class Evidence:
    """What one signal says about one project."""

    signal: str  # which hint: one hint pointing at two projects is one signal, not two
    kind: SignalKind
    strength: int
    reason: str


@dataclass
class _Project:
    project: RegistryProject
    first_seen: int  # the position of the first hint that pointed here: suppliers print the main project first
    evidence: list[Evidence] = field(default_factory=list)

    def signals(self) -> set[str]:
        return {e.signal for e in self.evidence}

    def strength_without(self, signals: set[str]) -> int:
        """What this project's evidence is worth without `signals` (those it shares with another)."""
        return combine(e.strength for e in _strongest_per_kind(e for e in self.evidence if e.signal not in signals))


@dataclass(frozen=True)
class Match:
    """The ranked candidates and what the matcher noticed on the way, with what tells the best
    candidate from the others: `rival` is the strongest evidence for another project that the
    best does not share (the number of project A and the site of project B contradict each
    other); `own` is the best's evidence that the runner-up does not share (a leader of two
    projects gives neither any)."""

    candidates: list[Candidate]
    checks: list[Check]
    rival: int = 0
    own: int = 0


def combine(strengths: Iterable[int]) -> int:
    """Independent signals: the doubts (100 - strength) multiply. Integer arithmetic, rounded
    towards doubt, so that 96 alone stays 96 and nothing short of certainty reaches 100."""
    values = list(strengths)
    if not values:
        return 0
    doubt = 1
    for value in values:
        doubt *= 100 - value
    scale = 100 ** (len(values) - 1)
    return 100 - -(-doubt // scale)


def _strongest_per_kind(evidence: Iterable[Evidence]) -> list[Evidence]:
    """The best evidence of each kind: a number printed twice is one number."""
    best: dict[SignalKind, Evidence] = {}
    for item in evidence:
        if item.kind not in best or item.strength > best[item.kind].strength:
            best[item.kind] = item
    return sorted(best.values(), key=lambda e: -e.strength)


def _fuzzy(similarity: float, strongest: int) -> int:
    return int(strongest - (100 - similarity) * FUZZY_COST)


def _closest(found: dict[str, float]) -> dict[str, float]:
    """The best matches of one hint: a name nearer to one project's name than to any other's
    is that project's (the others are listed only when just as near)."""
    best = max(found.values(), default=0.0)
    return {number: score for number, score in found.items() if score == best}


def _page_hints(fields: ExtractedFields) -> list[ProjectHint]:
    """The project hints of the page, with "Er referens" and the delivery address among them,
    each once."""
    hints = list(fields.project_hints)
    if fields.reference:
        hints.append(ProjectHint(kind="reference", value=fields.reference, label="Er referens"))
    if fields.delivery_address:
        hints.append(ProjectHint(kind="address", value=fields.delivery_address, label="Leveransadress"))
    unique: dict[tuple[str, str], ProjectHint] = {}
    for hint in hints:
        unique.setdefault((hint.kind, process_text(hint.value)), hint)
    return list(unique.values())


class _Collector:
    """Gathers the evidence of every hint, per project, and the checks the hints raise."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.projects: dict[str, _Project] = {}
        self.checks: list[Check] = []
        self.position = 0
        self.section_totals: dict[str, Decimal] = {}  # project number -> the rows under its heading

    def add(self, number: str, evidence: Evidence) -> None:
        project = self.registry.project(number)
        if project is not None:
            self.projects.setdefault(project.number, _Project(project, self.position)).evidence.append(evidence)

    def hint(self, position: int, hint: ProjectHint) -> None:
        self.position = position
        signal = f"{hint.kind}:{position}"
        value = hint.value.strip()
        if hint.kind == "project_number":
            self.project_number(signal, value)
        elif hint.kind == "work_order":
            self.work_order(signal, value)
        elif hint.kind == "project_name":
            self.name(signal, value, NAME_CUTOFF, partial=False)
        elif hint.kind == "address":
            self.address(signal, value)
        elif hint.kind == "reference":
            self.reference(signal, value)
        else:  # free text: a work order or a project name inside a longer line
            for order in WORK_ORDER.finditer(value):
                self.work_order(f"{signal}:{order.group(0)}", order.group(0))
            self.name(signal, value, FREE_TEXT_CUTOFF, partial=True)

    def project_number(self, signal: str, value: str) -> None:
        """A printed project number, possibly followed by the name ("1313 Stender VB 1966")."""
        if work_order_key(value):
            self.work_order(signal, value)
            return
        number, _, rest = value.partition(" ")
        project = self.registry.project(number)
        if project is None:
            self.checks.append(Check(code="project_number", ok=False, severity="warning",
                                     message=f"Projektnummer {number} finns inte i projektregistret"))
        else:
            self.add(project.number, Evidence(signal, "number", NUMBER, f"Projektnummer {project.number} på fakturan"))
        if rest.strip():
            self.name(f"{signal}:name", rest, NAME_CUTOFF, partial=False)

    def sections(self, lines: list[ExtractedLine]) -> None:
        """Rows grouped under project headings: the project most of the amount is printed under."""
        totals = self.section_totals
        for line in lines:
            numbers = NUMBER_TOKEN.findall(line.section or "")
            project = next((p for p in map(self.registry.project, numbers) if p is not None), None)
            if project is not None:
                totals[project.number] = totals.get(project.number, Decimal(0)) + line.amount
        if len(totals) > 1:
            number, amount = max(totals.items(), key=lambda item: item[1])
            self.add(number, Evidence("rows", "rows", ROWS,
                                      f"Störst belopp på fakturan ({kronor(amount)}) står under projekt {number}"))

    def work_order(self, signal: str, value: str, where: str = "") -> None:
        key = work_order_key(value) or value.upper()
        order = self.registry.work_order(key)
        if order is None:
            self.checks.append(Check(code="work_order", ok=False, severity="warning",
                                     message=f"Arbetsorder {key} finns inte i arbetsorderregistret"))
            return
        reason = f"Arbetsorder {key}{where} hör till projekt {order.project_number}"
        strength = WORK_ORDER_OF
        project = self.registry.project(order.project_number)
        if order.status != "active" and project is not None and project.active:  # else the project pays for it
            strength -= CLOSED_COST
            reason += f" (arbetsordern är {STATUS_TEXT[order.status]})"
        self.add(order.project_number, Evidence(signal, "work_order", strength, reason))

    def name(self, signal: str, value: str, cutoff: float, partial: bool) -> None:
        for number, similarity in _closest(self.registry.named(value, cutoff, partial)).items():
            project = self.registry.projects[number]
            if similarity >= 100:
                reason = f"Projektnamnet {project.name} på fakturan"
            else:
                reason = f"{value!r} liknar projektnamnet {project.name} ({int(similarity)} %)"
            self.add(number, Evidence(signal, "name", _fuzzy(similarity, NAME), reason))

    def address(self, signal: str, value: str) -> None:
        for number, similarity in _closest(self.registry.located_at(value, ADDRESS_CUTOFF)).items():
            project = self.registry.projects[number]
            reason = f"Arbetsplatsen {value} är projektets adress ({project.address or 'arbetsorderns plats'})"
            self.add(number, Evidence(signal, "address", _fuzzy(similarity, ADDRESS), reason))

    def reference(self, signal: str, value: str) -> None:
        """"Er referens": the buyer's person, often a project leader; some write a project
        number or work order there instead of, or next to, the name."""
        for number, similarity in _closest(self.registry.led_by(value, LEADER_CUTOFF)).items():
            led = self.registry.projects[number]
            self.add(number, Evidence(signal, "leader", _fuzzy(similarity, LEADER),
                                      f"Er referens {value} är projektledare för {led.number}"))
        for order in WORK_ORDER.finditer(value):
            self.work_order(f"{signal}:{order.group(0)}", order.group(0), where=" i Er referens")
        for token in NUMBER_TOKEN.findall(WORK_ORDER.sub(" ", value)):
            if self.registry.project(token) is not None:
                self.add(token, Evidence(f"{signal}:{token}", "number", NUMBER,
                                         f"Projektnummer {token} i Er referens"))


def _score(project: RegistryProject, evidence: list[Evidence], amount: Decimal | None) -> tuple[int, list[str]]:
    strongest = _strongest_per_kind(evidence)
    score = combine(e.strength for e in strongest)
    reasons = [e.reason for e in strongest]
    if not any(e.kind in IDENTIFIERS for e in strongest) and score > WITHOUT_IDENTIFIER:
        score = WITHOUT_IDENTIFIER
        reasons.append("Inget projektnummer eller arbetsorder på fakturan")
    if not project.active:
        score -= CLOSED_COST
        reasons.append(f"Projektet är {STATUS_TEXT[project.status]}")
    if amount is not None and project.budget is not None and amount > project.budget:
        score = min(score, WITHOUT_PLAUSIBLE_AMOUNT)
        reasons.append(f"Beloppet {kronor(amount)} överstiger projektets hela budget {kronor(project.budget)}")
    return max(score, 0), reasons


def _reference_check(fields: ExtractedFields, best: _Project | None) -> Check:
    reference = fields.reference or next((h.value for h in fields.project_hints if h.kind == "reference"), None)
    if not reference:
        return Check(code="reference", ok=False, severity="warning", message="Er referens saknas på fakturan")
    if best is None:
        return Check(code="reference", ok=False, severity="warning",
                     message=f"Er referens {reference} är inte projektledare för något projekt")
    leaders = ", ".join(best.project.leaders) or "ingen angiven"
    if any(e.kind == "leader" for e in best.evidence):
        return Check(code="reference", ok=True, severity="info",
                     message=f"Er referens {reference} är projektledare för projekt {best.project.number}")
    return Check(code="reference", ok=False, severity="warning",
                 message=f"Er referens {reference} är inte projektledare för projekt {best.project.number} "
                         f"(projektledare: {leaders})")


def match(fields: ExtractedFields, registry: Registry) -> Match:
    """The projects the invoice may be for, best first, with their scores and reasons."""
    collector = _Collector(registry)
    for position, hint in enumerate(_page_hints(fields)):
        collector.hint(position, hint)
    collector.sections(fields.lines)
    amount = fields.net if fields.net is not None else fields.total
    scored = sorted(
        ((*_score(p.project, p.evidence, amount), p) for p in collector.projects.values()),
        # Equal scores (two printed projects): the one with more of the amount, then the one printed first.
        key=lambda item: (-item[0], -collector.section_totals.get(item[2].project.number, 0), item[2].first_seen,
                          item[2].project.number),
    )
    if not scored:
        return Match([], [*collector.checks, _reference_check(fields, None)])
    best = scored[0][2]
    rival = max((p.strength_without(best.signals()) for _, _, p in scored[1:]), default=0)
    own = best.strength_without(scored[1][2].signals()) if len(scored) > 1 else 0
    candidates = [
        Candidate(project_number=p.project.number, project_name=p.project.name, score=score, reasons=reasons)
        for score, reasons, p in scored[:SHOWN]
        if score >= SHOWN_FROM or p is best
    ]
    return Match(candidates, [*collector.checks, _reference_check(fields, best)], rival, own)
