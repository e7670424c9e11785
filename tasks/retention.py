"""Retention (INT-01-OPS-003, seed 003 §7.1-7.2): keep each kind of record as long as it is needed, not longer.

Three periods, each counted back from now:

- **logs** (sync logs, integration jobs, closed dead letters and quarantine entries, alerts):
  `log_months`, at least the
  12 months OPS-003 asks for revision and troubleshooting; then deleted.
- **personal data kept for the bookkeeping**: an invoice review stays as long as the bookkeeping,
  but the people in it (the reviewer, the comment, "Er/Vår referens" and the delivery address read
  off the invoice, the complaint's recipients) are not needed after `personal_months`: they are
  anonymised, and every bookkeeping field (numbers, dates, amounts, supplier, project, decision)
  stays (seed 003 §7.2: "Anonymisér hvor lovkrav"). The cache of Claude's readings, which holds
  the same people, is deleted then (a PDF can be read again).
- **bookkeeping material** (audit events, source files, bank imports, invoice reviews): by the
  tenant's jurisdiction, Sweden 7 years (bokföringslagen 7 kap. 2 §: to the end of the seventh
  year after the calendar year in which the financial year ended) and Denmark 5 years
  (bogføringsloven: five years from the end of the financial year). Financial years are taken as
  calendar years, so a record may go once the whole calendar year it belongs to is that many years
  past. Audit events go only as a whole prefix of the chain, behind a checkpoint
  (:func:`models.audit.remove_prefix`), so the chain still verifies.

Personal data inside audit events cannot be anonymised: the checksums cover it, and the trail is
itself kept under the bookkeeping law (GDPR art. 17(3)(b)); it goes with its prefix.

Every removal and anonymisation is itself recorded in the audit trail (seed 003 §7.2, "Dokumentér
handling"). A dry run counts exactly what a run would do, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from tasks.runtime import task

from models.audit import AuditRecorder, ChainBrokenError, old_prefix, remove_prefix
from models.store import tenants_in
from models.tables import (
    alerts, audit_events, bank_imports, dead_letters, integration_jobs, invoice_extractions, invoice_reviews,
    quarantine, source_files, sync_logs,
)

ANONYMISED = "[anonymiserad]"
NOT_PEOPLE = frozenset({"ai", ANONYMISED})  # deciders of a review that are not a person
PERSONAL_FIELDS = ("reference", "our_reference", "delivery_address")  # of an invoice as read
PERSONAL_HINTS = frozenset({"reference", "address"})
Period = Literal["logs", "personal", "bookkeeping"]
Action = Literal["delete", "anonymise"]


@dataclass(frozen=True)
class Law:
    years: int
    source: str


LAWS = {
    "SE": Law(7, "bokföringslagen (1999:1078) 7 kap. 2 §"),
    "DK": Law(5, "bogføringsloven (lov nr. 700 af 24/05/2022), opbevaring i 5 år"),
}


@dataclass(frozen=True)
class Policy:
    log_months: int
    personal_months: int
    jurisdiction: str  # of every tenant not in `tenant_jurisdictions`
    tenant_jurisdictions: dict[str, str] = field(default_factory=dict)

    def law(self, tenant_id: str) -> Law:
        code = self.tenant_jurisdictions.get(tenant_id, self.jurisdiction)
        if code not in LAWS:
            raise ValueError(f"unknown jurisdiction {code!r} for tenant {tenant_id}; known: {', '.join(LAWS)}")
        return LAWS[code]

    def cutoffs(self, tenant_id: str, now: dt.datetime) -> dict[Period, dt.datetime]:
        """Per period, the moment before which a record of the tenant is past it."""
        return {"logs": months_before(now, self.log_months), "personal": months_before(now, self.personal_months),
                "bookkeeping": dt.datetime(now.year - self.law(tenant_id).years, 1, 1, tzinfo=dt.UTC)}


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the month's last day if it is shorter)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    return moment.replace(year=year, month=month, day=min(moment.day, (next_month - dt.timedelta(days=1)).day))


@dataclass(frozen=True)
class Rule:
    """Records of `table` dated by `column` before the `period`'s cut-off are deleted, or anonymised."""

    table: sa.Table
    column: str
    period: Period
    reason: str | None  # None: the tenant's bookkeeping law
    only: sa.ColumnElement[bool] | None = None  # narrows the rows the rule applies to
    anonymise: Callable[[sa.Row[Any]], dict[str, Any]] | None = None  # the changes a row needs; None: delete

    @property
    def action(self) -> Action:
        return "delete" if self.anonymise is None else "anonymise"

    def where(self, tenant_id: str, before: dt.datetime) -> sa.ColumnElement[bool]:
        condition = sa.and_(self.table.c.tenant_id == tenant_id, self.table.c[self.column] < before)
        return condition if self.only is None else sa.and_(condition, self.only)


# --------------------------------------------------------------------------- anonymisation
def _redacted(text: str, people: set[str]) -> str:
    for value in sorted(people, key=len, reverse=True):  # "Jasmine Andersson" before "Jasmine"
        text = text.replace(value, ANONYMISED)
    return text


def anonymised_analysis(analysis: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored analysis without the people read off the invoice: their fields and hints become
    ANONYMISED, and so do their names inside the match reasons and check messages. Amounts, dates,
    numbers, the supplier and the candidates' projects and scores are left exactly as they were."""
    if not analysis:
        return analysis
    fields = analysis["extraction"]["fields"]
    hints = [h for h in fields.get("project_hints", []) if h["kind"] in PERSONAL_HINTS]
    # Short values (initials) would match inside unrelated words: only their own fields are cleared.
    people = {v for v in [*(fields.get(f) for f in PERSONAL_FIELDS), *(h["value"] for h in hints)]
              if v and v != ANONYMISED and len(v) >= 3}
    new_fields = {**fields, **{f: ANONYMISED for f in PERSONAL_FIELDS if fields.get(f)},
                  "project_hints": [{**h, "value": ANONYMISED} if h["kind"] in PERSONAL_HINTS else h
                                    for h in fields.get("project_hints", [])]}
    return {
        **analysis,
        "extraction": {**analysis["extraction"], "fields": new_fields},
        "candidates": [{**c, "reasons": [_redacted(r, people) for r in c.get("reasons", [])]}
                       for c in analysis.get("candidates", [])],
        "checks": [{**c, "message": _redacted(c["message"], people)} for c in analysis.get("checks", [])],
    }


def anonymised_review(review: sa.Row[Any]) -> dict[str, Any]:
    """The columns of an invoice review to change so that no person is left in it; {} if none is."""
    changes: dict[str, Any] = {}
    if review.decided_by is not None and review.decided_by not in NOT_PEOPLE:
        changes["decided_by"] = ANONYMISED
    if review.comment is not None:
        changes["comment"] = None
    if review.complaint and any(to != ANONYMISED for to in review.complaint.get("to", [])):
        changes["complaint"] = {**review.complaint, "to": [ANONYMISED for _ in review.complaint["to"]]}
    analysis = anonymised_analysis(review.analysis)
    if analysis != review.analysis:
        changes["analysis"] = analysis
    return changes


LOGS = "INT-01-OPS-003: loggar sparas 12 månader"
PERSONAL = "GDPR art. 5.1 e: personuppgifter inte längre än nödvändigt"
RULES = (
    Rule(sync_logs, "created_at", "logs", LOGS),
    Rule(integration_jobs, "created_at", "logs", LOGS),
    Rule(dead_letters, "queued_at", "logs", LOGS, dead_letters.c.status != "pending"),
    Rule(quarantine, "created_at", "logs", LOGS, quarantine.c.status != "open"),
    Rule(alerts, "created_at", "logs", LOGS),
    Rule(invoice_extractions, "created_at", "personal", PERSONAL),
    Rule(invoice_reviews, "created_at", "personal", PERSONAL, anonymise=anonymised_review),
    Rule(invoice_reviews, "created_at", "bookkeeping", None),
    Rule(bank_imports, "imported_at", "bookkeeping", None),
    Rule(source_files, "ingested_at", "bookkeeping", None),
)


@dataclass(frozen=True)
class Step:
    """What retention does (or would do) to one table of one tenant."""

    tenant_id: str
    table: str
    action: Action
    before: dt.datetime
    rows: int
    reason: str


@dataclass
class RetentionReport:
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # tenant -> why its audit events were left alone


# --------------------------------------------------------------------------- planning and applying
def _to_anonymise(connection: sa.Connection, rule: Rule, tenant_id: str, cutoffs: dict[Period, dt.datetime]
                  ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, changes) of the rule's rows that still hold personal data; not those deleted in the same run."""
    if rule.anonymise is None:
        return
    kept = rule.table.c[rule.column] >= cutoffs["bookkeeping"]
    for row in connection.execute(sa.select(rule.table).where(rule.where(tenant_id, cutoffs[rule.period]), kept)):
        changes = rule.anonymise(row)
        if changes:
            yield row.id, changes


def tenants(connection: sa.Connection) -> list[str]:
    """Every tenant with records retention looks after."""
    return tenants_in(connection, {rule.table for rule in RULES} | {audit_events})


def _plan(connection: sa.Connection, policy: Policy, tenant_id: str, now: dt.datetime) -> list[Step]:
    cutoffs = policy.cutoffs(tenant_id, now)
    law = policy.law(tenant_id).source
    steps = []
    for rule in RULES:
        before = cutoffs[rule.period]
        if rule.anonymise is not None:
            rows = sum(1 for _ in _to_anonymise(connection, rule, tenant_id, cutoffs))
        else:
            rows = connection.execute(sa.select(sa.func.count()).where(rule.where(tenant_id, before))).scalar_one()
        steps.append(Step(tenant_id, rule.table.name, rule.action, before, rows, rule.reason or law))
    prefix = old_prefix(connection, tenant_id, cutoffs["bookkeeping"])
    steps.append(Step(tenant_id, audit_events.name, "delete", cutoffs["bookkeeping"], prefix.count if prefix else 0,
                      law))
    return steps


def _apply(connection: sa.Connection, policy: Policy, tenant_id: str, now: dt.datetime, actor: str,
           report: RetentionReport) -> None:
    """One tenant's retention, in the caller's transaction; the steps are planned in it, so they are exact."""
    steps = _plan(connection, policy, tenant_id, now)
    cutoffs = policy.cutoffs(tenant_id, now)
    audit = AuditRecorder(tenant_id, actor)
    run_id = str(uuid.uuid4())
    for rule, step in zip(RULES, steps[:-1], strict=True):  # the last step is the audit trail's
        if not step.rows:
            continue
        if rule.anonymise is not None:
            for row_id, changes in list(_to_anonymise(connection, rule, tenant_id, cutoffs)):
                connection.execute(rule.table.update().where(rule.table.c.id == row_id).values(changes))
        else:
            connection.execute(rule.table.delete().where(rule.where(tenant_id, step.before)))
        audit.record("update" if rule.action == "anonymise" else "delete", f"retention:{rule.table.name}", run_id,
                     occurred_at=now, change_set={"rows": step.rows, "before": step.before.isoformat(),
                                                  "reason": step.reason})
    audit.flush(connection)
    try:
        remove_prefix(connection, tenant_id, cutoffs["bookkeeping"], system_actor=actor, occurred_at=now,
                      reason=steps[-1].reason)
    except ChainBrokenError as error:
        report.refused[tenant_id] = str(error)
    report.steps.extend(steps)


@task(name="plan-retention")
def plan_retention(engine: sa.Engine, policy: Policy, now: dt.datetime, tenant_id: str | None = None
                   ) -> RetentionReport:
    """The dry run: per tenant and table, how many rows a run would delete or anonymise, and the cut-offs."""
    report = RetentionReport(dry_run=True)
    with engine.connect() as connection:
        for tenant in [tenant_id] if tenant_id else tenants(connection):
            report.steps.extend(_plan(connection, policy, tenant, now))
    return report


@task(name="apply-retention")
def apply_retention(engine: sa.Engine, policy: Policy, now: dt.datetime, actor: str, tenant_id: str | None = None
                    ) -> RetentionReport:
    """Delete and anonymise what is past its period, one transaction per tenant."""
    report = RetentionReport(dry_run=False)
    with engine.connect() as connection:
        chosen = [tenant_id] if tenant_id else tenants(connection)
    for tenant in chosen:
        with engine.begin() as connection:
            _apply(connection, policy, tenant, now, actor, report)
    return report
