"""Claude reads a supplier-invoice PDF (seed 002 BC11: "OCR/PDF-parsing (Claude vision)").

The rule-based reader sees only a PDF's text layer and the labels it knows; Claude sees the page
as a person does, so it also reads scanned invoices and unusual layouts. It is asked through the
Messages API with the PDF as a `document` block and one tool, ``record_invoice``, whose input
schema is `ExtractedFields`' own JSON schema; ``tool_choice`` forces the tool, so the answer
arrives as the tool's input, already JSON, and is validated into the contract the rules produce.

Why a forced tool and not strict structured outputs (``output_config.format`` or a ``strict``
tool): strict decoding caps how many optional and union-typed parameters a request may have
(24 and 16, as documented), and the contract has more nullable fields than that, because every
field is "None when the document does not show it". The schema still steers the answer;
pydantic is what enforces it, and an answer it rejects is a `ClaudeAnswerInvalid`, not a crash.

HTTP, retries and backoff are the SDK's own: 408, 409, 429, 5xx and 529 (overloaded) are
retried ``max_retries`` times, honouring Retry-After. Whatever is left after that becomes one
of the typed errors below, so the caller can tell "try again later" from "fix the key" from
"this request will never work", and in every case go on with the rule-based reading alone.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import anthropic
import httpx2
from anthropic.types import ToolParam
from pydantic import ValidationError

from models.invoice_review import ExtractedFields, ExtractedLine, ProjectHint, VatLine

logger = logging.getLogger("ledgerflow.claude")

DEFAULT_MODEL = "claude-sonnet-5-5"  # the newest Sonnet the installed SDK knows; none of its deprecated names
TOOL_NAME = "record_invoice"

INSTRUCTION = (
    "Du läser svenska leverantörsfakturor åt ett byggföretags ekonomiavdelning. "
    "You read Swedish supplier invoices for a construction company's accounts payable. "
    f"Record what the attached invoice shows with the {TOOL_NAME} tool. Copy numbers and text exactly as "
    "printed; use null, or an empty list, for anything the document does not show, and never guess or "
    "compute a value that is not printed. Dates as YYYY-MM-DD. Amounts as strings with a dot and two "
    'decimals: "1 234,56 kr" is "1234.56".'
)

# What each field of the contract means on a Swedish invoice, keyed by the model it belongs to. The
# tool schema carries these as the fields' descriptions; `tool_schema` refuses a contract field
# without one, so a field added to `ExtractedFields` cannot silently go unexplained to Claude.
FIELD_GUIDE: dict[str, dict[str, str]] = {
    ExtractedFields.__name__: {
        "invoice_number": "Fakturanummer / Fakturanr: the supplier's invoice number exactly as printed.",
        "invoice_date": "Fakturadatum: the invoice date.",
        "due_date": "Förfallodatum / Betalas senast: the due date.",
        "total": "Att betala / Summa att betala / Totalt: the amount to pay, VAT and any öresavrundning "
        "included.",
        "net": "Summa exkl. moms / Netto / Nettobelopp: the total excluding VAT.",
        "vat_amount": "Moms / Summa moms: the total VAT; 0.00 when the invoice shows VAT as zero (e.g. reverse "
        "charge).",
        "vat_lines": "One entry per VAT rate shown (Moms 25 %, 12 %, 6 %, 0 %).",
        "currency": "Valuta: ISO 4217 code; SEK when amounts are in kronor (kr).",
        "ocr": "OCR-nummer / OCR / Referensnummer: the payment reference to give with the payment, digits only.",
        "bankgiro": "Bankgiro / BG: the supplier's Bankgiro number, as NNN-NNNN or NNNN-NNNN.",
        "plusgiro": "Plusgiro / PG / Postgiro: the supplier's Plusgiro number.",
        "iban": "IBAN of the supplier's account, without spaces.",
        "supplier_name": "Leverantör: the supplier's company name.",
        "supplier_org_nr": "Org.nr / Organisationsnummer of the supplier, as NNNNNN-NNNN.",
        "supplier_vat_number": "Momsreg.nr / VAT no. of the supplier, e.g. SE556677889901, without spaces.",
        "buyer_name": "The buyer's (köparens) name as printed in the invoice address.",
        "buyer_org_nr": "The buyer's Org.nr, as NNNNNN-NNNN, when printed.",
        "invoice_address": "Fakturaadress: the buyer's address lines as printed, one entry per line, without "
        "the buyer's name.",
        "delivery_address": "Leveransadress / Arbetsplats / Arbetsadress / Objekt: the work site or delivery "
        "address, one line; not the invoice address.",
        "reference": "Er referens / Ert ref / Referens: the buyer's reference as printed, often a project "
        "leader's name or a project number.",
        "our_reference": "Vår referens: the supplier's own contact person.",
        "reverse_charge": "true only when the invoice states Omvänd betalningsskyldighet (reverse charge, "
        "e.g. for construction services); otherwise false.",
        "lines": "The invoice rows (fakturarader), in order.",
        "project_hints": "Everything on the page that may point at the buyer's project: a project number "
        "(Projekt, Projektnr, Proj.nr), a project name, a work order (Arbetsorder, AO; WorkCloud work "
        "orders are WW followed by digits), a site address, or other text naming the job. One entry per "
        "thing found.",
    },
    VatLine.__name__: {
        "rate": "Momssats in percent: 25, 12, 6 or 0.",
        "net": "Underlag: the amount excluding VAT that this rate applies to.",
        "vat": "The VAT at this rate.",
    },
    ExtractedLine.__name__: {
        "description": "Beskrivning / Benämning / Artikel: the row's text.",
        "quantity": "Antal.",
        "unit": "Enhet, e.g. st, tim, m, m2.",
        "unit_price": "À-pris / Pris: the price per unit excluding VAT.",
        "amount": "Belopp / Summa: the row's amount excluding VAT.",
        "section": "The project heading printed above this row inside the rows table, exactly as printed "
                   "(e.g. 'Märkning: 1313 Stender VB 1966'), when the rows are grouped by project; else null.",
    },
    ProjectHint.__name__: {
        "kind": "project_number, project_name, work_order (WW...), reference (a project named in Er referens), "
        "address (a work-site address), or free_text.",
        "value": 'The text as printed, e.g. "1313", "Stender VB 1966" or "WW1245".',
        "label": 'The printed label it followed, e.g. "Projekt", "Arbetsorder", "Er referens"; null when none.',
    },
}

# pydantic's per-field titles and defaults repeat the field names and "null" on every field:
# tokens on every call that tell Claude nothing the descriptions do not.
_DROPPED_KEYS = frozenset({"title", "default", "$defs"})


def tool_schema() -> dict[str, Any]:
    """`ExtractedFields`' JSON schema as the tool's input schema.

    Derived from the contract, never copied, so the two cannot drift: references to nested
    models are inlined (one self-contained object), titles and defaults are dropped, and every
    field gets its description from `FIELD_GUIDE`.
    """
    schema = ExtractedFields.model_json_schema()
    return _simplified(schema, schema.get("$defs", {}))


def _simplified(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_simplified(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _simplified(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":  # field names, not schema keywords: keep every one
            out[key] = {name: _simplified(field, defs) for name, field in value.items()}
        elif key not in _DROPPED_KEYS:
            out[key] = _simplified(value, defs)
    if "properties" in node:  # a model: its fields get their guidance
        model = node.get("title", "")
        guide = FIELD_GUIDE.get(model, {})
        if guide.keys() != out["properties"].keys():
            raise RuntimeError(f"FIELD_GUIDE[{model!r}] must describe exactly the fields "
                               f"{sorted(out['properties'])}, not {sorted(guide)}")
        for name, description in guide.items():
            out["properties"][name]["description"] = description
    return out


TOOL: ToolParam = {
    "name": TOOL_NAME,
    "description": "Record the fields read from one supplier invoice. Call it exactly once.",
    "input_schema": tool_schema(),
}


class ClaudeInvoiceError(Exception):
    """Claude could not read this invoice; the rule-based reading stands alone."""


class ClaudeAuthError(ClaudeInvoiceError):
    """The API key was refused or lacks access (401, 402, 403): only a new key or account fixes it."""


class ClaudeUnavailable(ClaudeInvoiceError):
    """Rate-limited, overloaded, failing or unreachable even after the SDK's retries: a later run may succeed."""


class ClaudeRequestRejected(ClaudeInvoiceError):
    """The API refused this request (400, 404, 413, 422: a PDF too large or broken, an unknown model):
    sent again as it is, it fails again."""


class ClaudeAnswerInvalid(ClaudeInvoiceError):
    """Claude answered, but not with fields that validate against `ExtractedFields`."""


_AUTH_STATUSES = frozenset({401, 402, 403})


def _is_transient(status: int) -> bool:
    """The statuses the SDK itself retries: what is still failing after them may pass later."""
    return status in (408, 409, 429) or status >= 500


class ClaudeInvoiceReader:
    """Reads invoice PDFs into `ExtractedFields` through the Anthropic Messages API.

    Takes its key and model as arguments (only flows read settings); `http_client` lets tests put
    an ``httpx2.MockTransport`` under the real SDK. `model` is also the cache key's model part:
    a new model reads a PDF afresh.
    """

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        *,
        http_client: httpx2.Client | None = None,
        max_retries: int = 5,  # as DESIGN.md's retry policy: five retries after the first try
        max_tokens: int = 8192,  # room for a long invoice's rows; a cut-off answer is an error, never half-read
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._client = anthropic.Anthropic(api_key=api_key, max_retries=max_retries, http_client=http_client)

    def read(self, pdf: bytes) -> ExtractedFields:
        """Claude's reading of one PDF; raises a `ClaudeInvoiceError` subclass when there is none."""
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=INSTRUCTION,
                tools=[TOOL],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                messages=[{"role": "user", "content": [
                    {"type": "document", "source": {
                        "type": "base64", "media_type": "application/pdf",
                        "data": base64.standard_b64encode(pdf).decode("ascii"),
                    }},
                    {"type": "text", "text": "Läs fakturan. / Read the invoice."},
                ]}],
            )
        except anthropic.APIStatusError as error:
            raise _typed(error) from error
        except anthropic.APIConnectionError as error:
            raise ClaudeUnavailable(f"Claude API unreachable: {error}") from error
        logger.debug("Claude read a %d-byte PDF with %s: %d input tokens, %d output tokens",
                     len(pdf), message.model, message.usage.input_tokens, message.usage.output_tokens)
        if message.stop_reason != "tool_use":
            raise ClaudeAnswerInvalid(f"Claude stopped with {message.stop_reason!r} before recording the fields")
        answer = next((block.input for block in message.content
                       if block.type == "tool_use" and block.name == TOOL_NAME), None)
        if answer is None:
            raise ClaudeAnswerInvalid(f"Claude's answer has no {TOOL_NAME} call")
        try:
            return ExtractedFields.model_validate(answer)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ClaudeAnswerInvalid(f"Claude's fields do not validate: {problems}") from error


def _typed(error: anthropic.APIStatusError) -> ClaudeInvoiceError:
    """Our error for what the API answered last; its message carries no secret, only what the API said."""
    detail = f"HTTP {error.status_code} {error.type or 'error'}: {error.api_message or error.message}"
    if error.request_id:
        detail += f" (request {error.request_id})"
    if error.status_code in _AUTH_STATUSES:
        return ClaudeAuthError(f"Claude API refused the key: {detail}")
    if _is_transient(error.status_code):
        return ClaudeUnavailable(f"Claude API still failing after retries: {detail}")
    return ClaudeRequestRejected(f"Claude API rejected the request: {detail}")
