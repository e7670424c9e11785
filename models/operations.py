"""The pipeline's own records: the audit trail and sync jobs (seed 003 §2.2, §7.5)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, IPvAnyAddress, model_validator

from models.documents import Sha256Hex
from models.types import CanonicalModel


class AuditEvent(CanonicalModel):
    """Seed 003 §2.2 AuditEvent with the §7.5 checksum chain that makes tampering detectable."""

    id: UUID
    company_id: UUID
    timestamp: AwareDatetime
    event_type: Literal["create", "update", "delete", "sync", "export", "login", "permission_change"]
    entity_type: str = Field(min_length=1)
    entity_id: UUID
    user_id: UUID | None = None
    system_actor: str | None = None
    ip_address: IPvAnyAddress | None = None
    user_agent: str | None = None
    previous_state: dict[str, Any] | None = None
    new_state: dict[str, Any] | None = None
    change_set: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checksum: Sha256Hex
    previous_checksum: Sha256Hex | None = None  # None only for the first event of a chain

    @model_validator(mode="after")
    def _has_an_actor(self) -> AuditEvent:
        if self.user_id is None and not self.system_actor:
            raise ValueError("an audit event needs a user_id or a system_actor")
        return self


class SyncError(CanonicalModel):
    """Seed 003 §2.2 SyncJob.errors: enough to retry or hand the record to a person."""

    entity_type: str = Field(min_length=1)
    entity_id: str = Field(min_length=1)  # the source's id: a failed record may never get a canonical one
    error_code: str = Field(min_length=1)
    error_message: str = Field(min_length=1)
    retryable: bool


class SyncJob(CanonicalModel):
    """Seed 003 §2.2 SyncJob: one run of a connector, counted so reconciliation can trust it."""

    id: UUID
    company_id: UUID
    connector_type: str = Field(min_length=1)
    direction: Literal["push", "pull", "bidirectional"]
    entity_types: list[str] = Field(min_length=1)
    status: Literal["pending", "running", "completed", "failed", "partial"]
    started_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    records_processed: int = Field(ge=0)
    records_succeeded: int = Field(ge=0)
    records_failed: int = Field(ge=0)
    errors: list[SyncError] = Field(default_factory=list)
    triggered_by: Literal["schedule", "manual", "webhook", "system"]
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SyncJob:
        if self.completed_at is not None and self.completed_at < self.started_at:
            raise ValueError(f"sync job completed_at {self.completed_at} is before started_at {self.started_at}")
        if self.records_succeeded + self.records_failed > self.records_processed:
            raise ValueError(
                f"sync job counts {self.records_succeeded} succeeded + {self.records_failed} failed "
                f"exceed {self.records_processed} processed"
            )
        return self
