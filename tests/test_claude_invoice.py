"""Claude as the second invoice reader (seed 002 BC11, issue #4 step 4).

The real `anthropic` SDK runs over an ``httpx2.MockTransport`` that plays the Messages API: what
the SDK sends is asserted as it went over the wire, and the answers are shaped as the API's. The
cache runs on the real store (SQLite and PostgreSQL); `combine` is checked with exact fields.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import pytest
import sqlalchemy as sa

from connectors.claude_invoice import (
    FIELD_GUIDE, INSTRUCTION, TOOL, ClaudeAnswerInvalid, ClaudeAuthError, ClaudeInvoiceReader, ClaudeRequestRejected,
    ClaudeUnavailable, tool_schema,
)
from connectors.sandbox.fortnox.pdf import InvoiceDocument, InvoiceLine, render
from models.extraction_cache import cached_fields, store_fields
from models.invoice_review import DocumentProblem, ExtractedFields, ExtractedLine, Extraction, ProjectHint, VatLine
from models.store import open_store
from models.tables import invoice_extractions
from tasks.invoice_analysis.combine import combine, read_with_claude

API_KEY = "sk-ant-api03-test-key-never-logged"
MODEL = "claude-sonnet-5-5"

INVOICE = InvoiceDocument(
    supplier_name="Byggvaruhuset Norr AB",
    supplier_address=("Industrigatan 12", "972 54 Luleå"),
    supplier_org_number="556677-8899",
    supplier_vat_number="SE556677889901",
    supplier_bankgiro="5050-1055",
    supplier_phone="0920-123 45",
    supplier_email="faktura@byggvaruhuset-norr.se",
    buyer_name="Stender Bygg AB",
    buyer_address=("Box 114", "971 04 Luleå"),
    buyer_vat_number="SE559012345001",
    invoice_number="20451",
    invoice_date=dt.date(2026, 11, 2),
    due_date=dt.date(2026, 12, 2),
    terms_days=30,
    ocr="2045177",
    your_reference="Anna Lindqvist",
    references=(("Projekt", "1313 Stender VB 1966"), ("Arbetsorder", "WW1245")),
    lines=(
        InvoiceLine("Gipsskiva 13 mm 900x2500", 40, "st", Decimal("89.50")),
        InvoiceLine("Regel 45x95 C24", 120, "m", Decimal("24.90")),
        InvoiceLine("Frakt", 1, "st", Decimal("450.00")),
    ),
    net=Decimal("7018.00"),
    vat=Decimal("1754.50"),
    total=Decimal("8772.50"),
    project_number="1313",
)
PDF = render(INVOICE)
SHA256 = hashlib.sha256(PDF).hexdigest()

# The tool input as Claude gives it: amounts as strings as asked, counts and rates as JSON numbers.
ANSWER: dict[str, Any] = {
    "invoice_number": "20451",
    "invoice_date": "2026-11-02",
    "due_date": "2026-12-02",
    "total": "8772.50",
    "net": "7018.00",
    "vat_amount": "1754.50",
    "vat_lines": [{"rate": 25, "net": "7018.00", "vat": "1754.50"}],
    "currency": "SEK",
    "ocr": "2045177",
    "bankgiro": "5050-1055",
    "plusgiro": None,
    "iban": None,
    "supplier_name": "Byggvaruhuset Norr AB",
    "supplier_org_nr": "556677-8899",
    "supplier_vat_number": "SE556677889901",
    "buyer_name": "Stender Bygg AB",
    "buyer_org_nr": None,
    "invoice_address": ["Box 114", "971 04 Luleå"],
    "delivery_address": None,
    "reference": "Anna Lindqvist",
    "our_reference": None,
    "reverse_charge": False,
    "lines": [
        {"description": "Gipsskiva 13 mm 900x2500", "quantity": 40, "unit": "st", "unit_price": "89.50",
         "amount": "3580.00"},
        {"description": "Regel 45x95 C24", "quantity": 120, "unit": "m", "unit_price": "24.90", "amount": "2988.00"},
        {"description": "Frakt", "quantity": 1, "unit": "st", "unit_price": "450.00", "amount": "450.00"},
    ],
    "project_hints": [
        {"kind": "project_number", "value": "1313", "label": "Projekt"},
        {"kind": "project_name", "value": "Stender VB 1966", "label": "Projekt"},
        {"kind": "work_order", "value": "WW1245", "label": "Arbetsorder"},
    ],
}

EXPECTED = ExtractedFields(
    invoice_number="20451",
    invoice_date=dt.date(2026, 11, 2),
    due_date=dt.date(2026, 12, 2),
    total=Decimal("8772.50"),
    net=Decimal("7018.00"),
    vat_amount=Decimal("1754.50"),
    vat_lines=[VatLine(rate=Decimal(25), net=Decimal("7018.00"), vat=Decimal("1754.50"))],
    currency="SEK",
    ocr="2045177",
    bankgiro="5050-1055",
    supplier_name="Byggvaruhuset Norr AB",
    supplier_org_nr="556677-8899",
    supplier_vat_number="SE556677889901",
    buyer_name="Stender Bygg AB",
    invoice_address=["Box 114", "971 04 Luleå"],
    reference="Anna Lindqvist",
    lines=[
        ExtractedLine(description="Gipsskiva 13 mm 900x2500", quantity=Decimal(40), unit="st",
                      unit_price=Decimal("89.50"), amount=Decimal("3580.00")),
        ExtractedLine(description="Regel 45x95 C24", quantity=Decimal(120), unit="m", unit_price=Decimal("24.90"),
                      amount=Decimal("2988.00")),
        ExtractedLine(description="Frakt", quantity=Decimal(1), unit="st", unit_price=Decimal("450.00"),
                      amount=Decimal("450.00")),
    ],
    project_hints=[
        ProjectHint(kind="project_number", value="1313", label="Projekt"),
        ProjectHint(kind="project_name", value="Stender VB 1966", label="Projekt"),
        ProjectHint(kind="work_order", value="WW1245", label="Arbetsorder"),
    ],
)


def message(tool_input: dict[str, Any], stop_reason: str = "tool_use") -> dict[str, Any]:
    """A Messages API response whose one content block records `tool_input`."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": MODEL,
        "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "record_invoice",
                     "input": tool_input}],
        "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": 3187, "output_tokens": 642},
    }


def api_error(status: int, kind: str, text: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers={"request-id": f"req_{status}", **(headers or {})},
                           json={"type": "error", "error": {"type": kind, "message": text},
                                 "request_id": f"req_{status}"})


Handler = Callable[[httpx2.Request], httpx2.Response]


def reader(
    handler: Handler, sent: list[httpx2.Request], model: str = MODEL, max_retries: int = 2
) -> ClaudeInvoiceReader:
    """A reader on the real SDK whose HTTP goes to `handler`; every request the SDK sends lands in `sent`."""

    def recording(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return handler(request)

    client = httpx2.Client(transport=httpx2.MockTransport(recording))
    return ClaudeInvoiceReader(API_KEY, model, http_client=client, max_retries=max_retries)


def answering(tool_input: dict[str, Any], stop_reason: str = "tool_use") -> Handler:
    return lambda request: httpx2.Response(200, json=message(tool_input, stop_reason))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's waits between retries, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("time.sleep", waited.append)
    return waited


# --------------------------------------------------------------------------- the request and the answer
def test_the_pdf_goes_as_a_document_with_the_forced_tool_and_the_answer_becomes_exact_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[httpx2.Request] = []
    caplog.set_level(logging.DEBUG)

    fields = reader(answering(ANSWER), sent).read(PDF)

    assert fields == EXPECTED
    assert len(sent) == 1
    request = sent[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.anthropic.com/v1/messages")
    body = json.loads(request.content)
    assert body == {
        "model": MODEL,
        "max_tokens": 8192,
        "system": INSTRUCTION,
        "tools": [json.loads(json.dumps(TOOL))],
        "tool_choice": {"type": "tool", "name": "record_invoice"},
        "messages": [{"role": "user", "content": [
            {"type": "document",
             "source": {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(PDF).decode()}},
            {"type": "text", "text": "Läs fakturan. / Read the invoice."},
        ]}],
    }
    schema = body["tools"][0]["input_schema"]
    assert list(schema["properties"]) == list(ExtractedFields.model_fields)
    assert schema["properties"]["bankgiro"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Bankgiro / BG: the supplier's Bankgiro number, as NNN-NNNN or NNNN-NNNN.",
    }
    usage = [r.getMessage() for r in caplog.records if r.name == "ledgerflow.claude"]
    assert usage == [f"Claude read a {len(PDF)}-byte PDF with {MODEL}: 3187 input tokens, 642 output tokens"]
    assert API_KEY not in caplog.text


def test_the_tool_schema_is_the_contract_inlined_and_every_field_is_described() -> None:
    schema = tool_schema()
    text = json.dumps(schema)

    assert ("$ref" in text, "$defs" in text, '"title"' in text, '"default"' in text) == (False, False, False, False)
    assert schema["additionalProperties"] is False
    described = {name: field["description"] for name, field in schema["properties"].items()}
    assert described == FIELD_GUIDE["ExtractedFields"]
    nested = {
        "VatLine": schema["properties"]["vat_lines"]["items"],
        "ExtractedLine": schema["properties"]["lines"]["items"],
        "ProjectHint": schema["properties"]["project_hints"]["items"],
    }
    for model, item in nested.items():
        assert {name: field["description"] for name, field in item["properties"].items()} == FIELD_GUIDE[model]
    assert nested["ProjectHint"]["properties"]["kind"]["enum"] == [
        "project_number", "project_name", "work_order", "reference", "address", "free_text"]
    assert nested["VatLine"]["required"] == ["rate", "vat"]


def test_a_contract_field_without_a_description_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(FIELD_GUIDE["VatLine"], "net")

    with pytest.raises(RuntimeError, match=r"FIELD_GUIDE\['VatLine'\] must describe exactly the fields "
                                           r"\['net', 'rate', 'vat'\], not \['rate', 'vat'\]"):
        tool_schema()


@pytest.mark.parametrize(
    ("tool_input", "stop_reason", "problem"),
    [
        ({**ANSWER, "total": "abc"}, "tool_use",
         "Claude's fields do not validate: total: Input should be a valid decimal"),
        ({**ANSWER, "net": "7018.005"}, "tool_use",
         "Claude's fields do not validate: net: Value error, amount 7018.005 has more than 2 decimals (INT-01-DQ-002)"),
        ({**ANSWER, "currency": "kr"}, "tool_use",
         "Claude's fields do not validate: currency: Value error, 'kr' is not an ISO 4217 currency code"),
        ({**ANSWER, "supplier_bank": "Nordea"}, "tool_use",
         "Claude's fields do not validate: supplier_bank: Extra inputs are not permitted"),
        ({"invoice_number": "20451"}, "max_tokens", "Claude stopped with 'max_tokens' before recording the fields"),
    ],
    ids=["total-not-a-number", "three-decimals", "currency-not-iso", "unknown-field", "cut-off"],
)
def test_an_answer_that_does_not_validate_is_a_typed_error(
    tool_input: dict[str, Any], stop_reason: str, problem: str
) -> None:
    sent: list[httpx2.Request] = []

    with pytest.raises(ClaudeAnswerInvalid) as error:
        reader(answering(tool_input, stop_reason), sent).read(PDF)

    assert str(error.value) == problem
    assert len(sent) == 1


def test_an_answer_without_the_tool_call_is_a_typed_error() -> None:
    text_only = {**message(ANSWER), "content": [{"type": "text", "text": "Fakturan gäller projekt 1313."}]}
    sent: list[httpx2.Request] = []

    with pytest.raises(ClaudeAnswerInvalid, match=r"^Claude's answer has no record_invoice call$"):
        reader(lambda request: httpx2.Response(200, json=text_only), sent).read(PDF)


# --------------------------------------------------------------------------- errors and retries
def test_a_refused_key_is_an_auth_error_at_once(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []
    refuse = api_error(401, "authentication_error", "invalid x-api-key")

    with pytest.raises(ClaudeAuthError) as error:
        reader(lambda request: refuse, sent).read(PDF)

    assert str(error.value) == (
        "Claude API refused the key: HTTP 401 authentication_error: invalid x-api-key (request req_401)")
    assert API_KEY not in str(error.value)
    assert isinstance(error.value.__cause__, anthropic.AuthenticationError)
    assert (len(sent), sleeps) == (1, [])


def test_rate_limits_are_retried_as_retry_after_says_then_reported(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []
    limited = api_error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                        {"retry-after": "7"})

    with pytest.raises(ClaudeUnavailable) as error:
        reader(lambda request: limited, sent, max_retries=2).read(PDF)

    assert str(error.value) == (
        "Claude API still failing after retries: HTTP 429 rate_limit_error: Number of request tokens has exceeded "
        "your per-minute rate limit (request req_429)")
    assert len(sent) == 3
    assert sleeps == [7.0, 7.0]
    assert [r.headers["x-stainless-retry-count"] for r in sent] == ["0", "1", "2"]


def test_overload_is_retried_with_backoff_then_reported(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []
    overloaded = api_error(529, "overloaded_error", "Overloaded")

    with pytest.raises(ClaudeUnavailable) as error:
        reader(lambda request: overloaded, sent, max_retries=3).read(PDF)

    assert str(error.value) == (
        "Claude API still failing after retries: HTTP 529 overloaded_error: Overloaded (request req_529)")
    assert len(sent) == 4
    # The SDK's backoff: 0.5, 1, 2 s, each shortened by up to a quarter (jitter).
    assert len(sleeps) == 3
    assert all(0.75 * base <= wait <= base for wait, base in zip(sleeps, (0.5, 1.0, 2.0)))


def test_overload_that_passes_within_the_retries_is_a_normal_reading(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []
    answers = iter([api_error(529, "overloaded_error", "Overloaded"), httpx2.Response(200, json=message(ANSWER))])

    assert reader(lambda request: next(answers), sent, max_retries=2).read(PDF) == EXPECTED
    assert len(sent) == 2


def test_a_bad_request_is_rejected_without_retries(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []
    bad = api_error(400, "invalid_request_error",
                    "messages.0.content.0.pdf.source.base64.data: The PDF specified was not valid.")

    with pytest.raises(ClaudeRequestRejected) as error:
        reader(lambda request: bad, sent).read(PDF)

    assert str(error.value) == (
        "Claude API rejected the request: HTTP 400 invalid_request_error: "
        "messages.0.content.0.pdf.source.base64.data: The PDF specified was not valid. (request req_400)")
    assert (len(sent), sleeps) == (1, [])


def test_an_unreachable_api_is_unavailable(sleeps: list[float]) -> None:
    sent: list[httpx2.Request] = []

    def refuse_connection(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(ClaudeUnavailable, match=r"^Claude API unreachable: Connection error\.$"):
        reader(refuse_connection, sent, max_retries=1).read(PDF)
    assert len(sent) == 2


# --------------------------------------------------------------------------- the cache
def test_a_pdf_read_once_is_not_sent_again(database_url: str) -> None:
    engine = open_store(database_url)
    sent: list[httpx2.Request] = []
    sonnet = reader(answering(ANSWER), sent)

    first = read_with_claude(PDF, SHA256, sonnet, engine, "acme")
    again = read_with_claude(PDF, SHA256, sonnet, engine, "acme")

    assert (first, again, len(sent)) == (EXPECTED, EXPECTED, 1)
    assert cached_fields(engine, "acme", SHA256, MODEL) == EXPECTED
    # Another tenant, or another model, is another key: asked afresh.
    assert read_with_claude(PDF, SHA256, sonnet, engine, "other") == EXPECTED
    assert read_with_claude(PDF, SHA256, reader(answering(ANSWER), sent, model="claude-opus-5-5"), engine,
                            "acme") == EXPECTED
    assert len(sent) == 3
    with engine.connect() as connection:
        keys = connection.execute(sa.select(invoice_extractions.c.tenant_id, invoice_extractions.c.model)
                                  .order_by(invoice_extractions.c.tenant_id, invoice_extractions.c.model)).all()
    assert [tuple(key) for key in keys] == [("acme", "claude-opus-5-5"), ("acme", MODEL), ("other", MODEL)]


def test_storing_a_reading_twice_keeps_the_first(database_url: str) -> None:
    engine = open_store(database_url)
    other = EXPECTED.model_copy(update={"total": Decimal("1.00")})

    assert store_fields(engine, "acme", SHA256, MODEL, EXPECTED) is True
    assert store_fields(engine, "acme", SHA256, MODEL, other) is False
    assert cached_fields(engine, "acme", SHA256, MODEL) == EXPECTED
    assert cached_fields(engine, "acme", "0" * 64, MODEL) is None
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(invoice_extractions)).scalar_one() == 1


def test_a_failed_reading_is_not_cached(database_url: str, sleeps: list[float]) -> None:
    engine = open_store(database_url)
    sent: list[httpx2.Request] = []
    failing = reader(lambda request: api_error(529, "overloaded_error", "Overloaded"), sent, max_retries=0)

    with pytest.raises(ClaudeUnavailable):
        read_with_claude(PDF, SHA256, failing, engine, "acme")

    assert cached_fields(engine, "acme", SHA256, MODEL) is None
    assert read_with_claude(PDF, SHA256, reader(answering(ANSWER), sent), engine, "acme") == EXPECTED
    assert len(sent) == 2


# --------------------------------------------------------------------------- combine
RULES = ExtractedFields(
    invoice_number="20451",
    invoice_date=dt.date(2026, 11, 2),
    total=Decimal("7018.00"),  # the rules took "Summa exkl. moms" for the amount to pay
    net=Decimal("7018.00"),
    vat_amount=Decimal("1754.50"),
    currency="SEK",
    ocr="2045171",  # last digit misread: fails the Luhn check
    bankgiro="5050-1055",
    supplier_org_nr="556677-8899",
    invoice_address=["Box 114", "971 04 Luleå"],
    reference="Anna Lindqvist",
    project_hints=[
        ProjectHint(kind="project_number", value="1313", label="Projekt"),
        ProjectHint(kind="reference", value="Anna Lindqvist", label="Er referens"),
    ],
)
RULES_EXTRACTION = Extraction(
    sha256=SHA256, pages=1, method="rules", fields=RULES,
    problems=[DocumentProblem(code="no_text", message="Sidan 2 saknar textlager")],
)


def test_without_claude_the_rules_stand_alone() -> None:
    assert combine(RULES_EXTRACTION, None) is RULES_EXTRACTION


def test_combine_settles_each_field_by_check_digits_arithmetic_and_gaps() -> None:
    claude = EXPECTED.model_copy(update={
        "bankgiro": "5050-1085",  # misread, fails the Luhn check: the rules' valid number stays
        "reference": "Anna Lindkvist",  # no check decides: the rules' reading stays
        "project_hints": [
            ProjectHint(kind="project_number", value="1313", label=None),  # said already by the rules
            ProjectHint(kind="project_name", value="Stender VB 1966", label="Projekt"),
            ProjectHint(kind="work_order", value="WW1245", label="Arbetsorder"),
            ProjectHint(kind="reference", value="anna lindqvist", label="Er referens"),  # the same, other case
        ],
    })

    combined = combine(RULES_EXTRACTION, claude)

    assert (combined.sha256, combined.pages, combined.method, combined.problems) == (
        SHA256, 1, "rules+claude", RULES_EXTRACTION.problems)
    assert combined.fields == EXPECTED.model_copy(update={
        "ocr": "2045177",  # Claude's passes the Luhn check, the rules' does not
        "total": Decimal("8772.50"),  # 7018.00 + 1754.50 = 8772.50: Claude's total adds up, the rules' does not
        "due_date": dt.date(2026, 12, 2),  # the rules found none
        "bankgiro": "5050-1055",
        "reference": "Anna Lindqvist",
        "project_hints": [
            ProjectHint(kind="project_number", value="1313", label="Projekt"),
            ProjectHint(kind="reference", value="Anna Lindqvist", label="Er referens"),
            ProjectHint(kind="project_name", value="Stender VB 1966", label="Projekt"),
            ProjectHint(kind="work_order", value="WW1245", label="Arbetsorder"),
        ],
    })


def test_money_goes_to_whichever_reading_adds_up() -> None:
    # 7018.30 + 1754.58 = 8772.88, and the amount to pay is rounded to whole kronor: 8773.00.
    rules = ExtractedFields(net=Decimal("7018.30"), vat_amount=Decimal("1754.58"), total=Decimal("8773.00"))
    unrounded = ExtractedFields(net=Decimal("7018.30"), vat_amount=Decimal("1754.58"), total=Decimal("8772.88"))
    misread_vat = ExtractedFields(net=Decimal("7018.30"), vat_amount=Decimal("1745.58"), total=Decimal("8773.00"),
                                  vat_lines=[VatLine(rate=Decimal(25), vat=Decimal("1745.58"))])

    def money(fields: ExtractedFields, claude: ExtractedFields) -> tuple[Any, ...]:
        merged = combine(RULES_EXTRACTION.model_copy(update={"fields": fields}), claude).fields
        return merged.net, merged.vat_amount, merged.total, merged.vat_lines

    # Both add up, the rules' within öresavrundning (12 öre): the rules' total, the amount printed, stays.
    assert money(rules, unrounded) == (Decimal("7018.30"), Decimal("1754.58"), Decimal("8773.00"), [])
    # Claude's VAT does not add up: the rules' stays. The VAT lines only Claude read are kept as read;
    # that they do not add up to the VAT is for the vat_sum check to report.
    assert money(rules, misread_vat) == (Decimal("7018.30"), Decimal("1754.58"), Decimal("8773.00"),
                                         [VatLine(rate=Decimal(25), vat=Decimal("1745.58"))])
    # The rules found only the total; Claude's net and VAT add up to it.
    assert money(ExtractedFields(total=Decimal("8773.00")), unrounded) == (
        Decimal("7018.30"), Decimal("1754.58"), Decimal("8773.00"), [])
    # The rules' net and total do not add up with any VAT, Claude's reading does: Claude's.
    assert money(ExtractedFields(net=Decimal("100.00"), total=Decimal("900.00")), unrounded) == (
        Decimal("7018.30"), Decimal("1754.58"), Decimal("8772.88"), [])
    # Nothing adds up: each field as the rules read it, Claude's where they read nothing.
    assert money(ExtractedFields(net=Decimal("100.00"), total=Decimal("900.00")), misread_vat) == (
        Decimal("100.00"), Decimal("1745.58"), Decimal("900.00"), [VatLine(rate=Decimal(25), vat=Decimal("1745.58"))])


def test_vat_lines_and_rows_that_add_up_win_over_the_rules() -> None:
    rules = EXPECTED.model_copy(update={
        "vat_lines": [VatLine(rate=Decimal(25), vat=Decimal("754.50"))],
        "lines": EXPECTED.lines[:2],  # the rules missed the freight row
    })

    combined = combine(RULES_EXTRACTION.model_copy(update={"fields": rules}), EXPECTED).fields

    assert (combined.vat_lines, combined.lines) == (EXPECTED.vat_lines, EXPECTED.lines)


def test_reverse_charge_printed_is_kept_from_either_reader() -> None:
    printed = ExtractedFields(reverse_charge=True, vat_amount=Decimal("0.00"))
    not_seen = ExtractedFields()

    assert combine(RULES_EXTRACTION.model_copy(update={"fields": not_seen}), printed).fields == printed
    assert combine(RULES_EXTRACTION.model_copy(update={"fields": printed}), not_seen).fields == printed
