"""Steps 3-6 for a batch of PDFs: read (rules, and Claude when configured), match, check, decide.

Shared by the 5-minute flow (PDFs from the Fortnox archive) and `ledgerflow invoice analyze`
(PDFs from disk), so both reach the same decision on the same document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from tasks.runtime import task

from connectors.claude_invoice import ClaudeAuthError, ClaudeInvoiceError, ClaudeInvoiceReader
from connectors.invoice_pdf import read_invoice
from models.invoice_review import NOT_READABLE, Analysis, Buyer, DocumentProblem, Extraction, ExtractedFields
from tasks.invoice_analysis.combine import combine, read_with_claude
from tasks.invoice_analysis.registry import Registry
from tasks.invoice_analysis.scoring import analyze

log = logging.getLogger("ledgerflow.invoices")


@dataclass
class Reader:
    """Reads a PDF by rules, and also by Claude when a reader is configured (cached per PDF).

    Claude failing never fails the invoice: the rule-based reading stands alone, and a refused key
    is reported once and not tried again for the rest of the run.
    """

    engine: sa.Engine
    tenant_id: str
    claude: ClaudeInvoiceReader | None = None
    max_pages: int = 50

    def read(self, data: bytes) -> Extraction:
        extraction = read_invoice(data, max_pages=self.max_pages)
        return combine(extraction, self._claude(data, extraction) if self.claude else None)

    def _claude(self, data: bytes, extraction: Extraction) -> ExtractedFields | None:
        if any(p.code in NOT_READABLE or p.code == "too_many_pages" for p in extraction.problems):
            return None  # nothing Claude could read either, or more pages than it should be sent
        assert self.claude is not None
        try:
            return read_with_claude(data, extraction.sha256, self.claude, self.engine, self.tenant_id)
        except ClaudeAuthError as error:
            log.error("Claude refused the API key; the rest of this run reads by rules only: %s", error)
            self.claude = None
        except ClaudeInvoiceError as error:
            log.warning("Claude could not read %s (rules only): %s", extraction.sha256[:12], error)
        return None


def no_document(name: str) -> Analysis:
    """The analysis of an invoice that arrived without a PDF: flagged "no document" (step 2)."""
    problem = DocumentProblem(code="no_document", message="Fakturan har ingen bifogad PDF i Fortnox")
    extraction = Extraction(sha256=hashlib.sha256(b"").hexdigest(), pages=0, method="rules",
                            fields=ExtractedFields(), problems=[problem])
    return Analysis(file=name, extraction=extraction, confidence=0, band="manual")


@task(name="analyze-invoices")
def analyze_documents(
    documents: list[tuple[str, bytes | None]], reader: Reader, registry: Registry, buyer: Buyer,
    today: dt.date | None = None,
) -> list[Analysis]:
    """Analyse a batch of (name, PDF bytes or None) in order; a bad PDF is an analysis with its
    problem, never an exception, so one document cannot stop the run."""
    return [analyze(name, reader.read(data), registry, buyer, today) if data is not None else no_document(name)
            for name, data in documents]
