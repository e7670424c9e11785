"""Vouchers and other files kept as bookkeeping evidence (seed 003 §2.2 Attachment / Voucher)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from models.types import CanonicalModel


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Sha256Hex = Annotated[str, BeforeValidator(_lower), Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest as 64 lower-case hex digits, whatever case the producer wrote."""


class Attachment(CanonicalModel):
    """Seed 003 §2.2 Attachment: the checksum proves the stored file is the one that was booked."""

    file_name: str = Field(min_length=1)
    mime_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$")
    file_size: int = Field(gt=0)
    storage_url: str = Field(min_length=1)
    checksum: Sha256Hex
    source_type: Literal["invoice", "expense", "receipt", "bank_statement", "other"]
    ocr_processed: bool
    ocr_data: dict[str, Any] | None = None
    retention_until: dt.date

    @model_validator(mode="after")
    def _ocr_data_needs_ocr(self) -> Attachment:
        if self.ocr_data is not None and not self.ocr_processed:
            raise ValueError(f"attachment {self.file_name} has ocr_data but ocr_processed is false")
        return self
