"""The project registry: WorkCloud projects, work orders and time reports, and offers.

Seed 002 §5.2 gives the fields. The registry is what incoming supplier invoices are
matched against (project number, work order "WW…", address, project leader), so the
identifiers are kept exactly as WorkCloud writes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from models.types import CanonicalModel, Currency, Money, Quantity

ProjectStatus = Literal["active", "inactive", "completed"]


class Project(CanonicalModel):
    """A WorkCloud / Fortnox project (seed 002 §5.2 `GET /api/projects`)."""

    project_number: str = Field(min_length=1, max_length=50)
    project_name: str = Field(min_length=1)
    project_leader: str | None = None
    status: ProjectStatus
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    customer: str | None = None
    address: str | None = None
    budget: Money | None = None
    cost_centre: str | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Project:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end date {self.end_date} is before start date {self.start_date}")
        return self


class WorkOrder(CanonicalModel):
    """A WorkCloud work order ("WW1245"), tied to a project (seed 002 §5.2 `GET /api/workorders`)."""

    workorder_number: str = Field(min_length=1, max_length=50)
    description: str | None = None
    project_number: str = Field(min_length=1, max_length=50)
    responsible: str | None = None
    status: ProjectStatus
    created: dt.date | None = None
    location: str | None = None


class TimeReport(CanonicalModel):
    """Hours an employee reported on a project (seed 002 §5.2 `GET /api/timereports`)."""

    employee: str = Field(min_length=1)
    project: str = Field(min_length=1, max_length=50)
    date: dt.date
    hours: Quantity = Field(gt=0, le=24)
    description: str | None = None
    hourly_rate: Money | None = None


class Offer(CanonicalModel):
    """A quote to a customer (seed 001: offers are exported to Fortnox)."""

    offer_number: str = Field(min_length=1)
    customer_number: str = Field(min_length=1)
    customer_name: str | None = None
    project_number: str | None = None
    offer_date: dt.date
    valid_until: dt.date | None = None
    description: str | None = None
    net_amount: Money
    vat_amount: Money
    total: Money
    currency: Currency = "SEK"

    @model_validator(mode="after")
    def _total_sums(self) -> Offer:
        if self.net_amount + self.vat_amount != self.total:
            raise ValueError(
                f"INT-01-DQ-004: offer total {self.total} != net {self.net_amount} + vat {self.vat_amount}"
            )
        return self
