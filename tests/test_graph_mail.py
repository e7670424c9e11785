"""Mail through Microsoft Graph: our real client over real HTTP against the Graph sandbox, and the
complaint (reklamation) and escalation e-mails the invoice validation writes."""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pymupdf
import pytest
from pydantic import ValidationError

from connectors import fortnox as fx
from connectors.graph_mail import MAX_ATTACHMENT_BYTES, Attachment, GraphMailClient, MailMessage, Recipient
from connectors.http import AuthError, NotFoundError, PermanentError, RetryPolicy, TransientError, dead_letter
from connectors.sandbox.graph import GraphSandbox
from models.invoice_review import Buyer, Check
from models.projects import Project
from tasks.invoice_analysis.complaint import (
    FlaggedInvoice, compose_complaint, compose_escalation, invoicing_guidelines,
)

MAILBOX = "ekonomi@ekbackenbygg.se"
FAST = RetryPolicy(attempts=4, initial=0.01, jitter=0.0)
BUYER = Buyer(
    name="Ekbacken Bygg AB", org_nr="559138-1240", vat_number="SE559138124001",
    invoice_address=("Box 123", "753 23 Uppsala"), invoice_email="faktura@ekbackenbygg.se",
    peppol_id="0007:5591381240", contact_name="Matilda Ek", contact_email=MAILBOX, contact_phone="018-12 34 56",
)
INVOICE = fx.SupplierInvoice.model_validate({
    "GivenNumber": "123", "InvoiceNumber": "4711", "SupplierNumber": "7", "SupplierName": "Västerås Byggplåt AB",
    "InvoiceDate": "2025-10-01", "DueDate": "2025-10-31", "Total": 25000, "Currency": "SEK", "Project": "",
})
SUPPLIER = fx.Supplier.model_validate(
    {"SupplierNumber": "7", "Name": "Västerås Byggplåt AB", "Email": "faktura@vasterasbyggplat.se"}
)
PROJECT = Project(project_number="1313", project_name="Stender VB 1966", project_leader="Jasmine Andersson",
                  status="active")
CHECKS = [
    Check(code="vat_rate", ok=False, severity="error", message="Momsen är 20 % men ska vara 25 %"),
    Check(code="due_date", ok=True, severity="info", message="Förfallodatum 30 dagar efter fakturadatum"),
    Check(code="reference", ok=False, severity="info", message="Er referens saknas"),
]


@pytest.fixture
def sandbox() -> Iterator[GraphSandbox]:
    with GraphSandbox() as running:
        yield running


def client(sandbox: GraphSandbox, secret: str | None = None) -> GraphMailClient:
    return GraphMailClient.for_tenant(sandbox.tenant_id, sandbox.client_id, secret or sandbox.client_secret,
                                      base_url=sandbox.url, authority=sandbox.url, retry=FAST)


def sent(sandbox: GraphSandbox) -> list[dict[str, Any]]:
    return httpx.get(f"{sandbox.url}/_sandbox/messages").json()


def admin(sandbox: GraphSandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{sandbox.url}/_sandbox/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def note(subject: str = "Test") -> MailMessage:
    return MailMessage(subject=subject, html="<p>Hej</p>", to=["matilda@ekbackenbygg.se"])


def complaint() -> MailMessage:
    return compose_complaint(INVOICE, SUPPLIER, BUYER, ["Saknar projektnummer"], checks=CHECKS, project=PROJECT,
                             work_order="WW1245")


def items(markup: str) -> list[list[str]]:
    """The text of each list item, list by list."""
    return [[html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", bullets)]
            for bullets in re.findall(r"<ul>(.*?)</ul>", markup)]


def paragraphs(markup: str) -> list[str]:
    return [html.unescape(text.replace("<br>", "\n")) for text in re.findall(r"<p>(.*?)</p>", markup)]


# ---------------------------------------------------------------------------------------------
# The complaint, end to end


def test_a_complaint_goes_out_through_graph_with_the_guidelines_attached(sandbox: GraphSandbox) -> None:
    message = complaint()
    with client(sandbox) as graph:
        graph.send(message, MAILBOX)

    [mail] = sent(sandbox)
    assert (mail["sender"], mail["subject"], mail["to"], mail["cc"], mail["bodyType"], mail["saveToSentItems"]) == (
        MAILBOX, "Reklamation faktura 4711", ["faktura@vasterasbyggplat.se"], [], "HTML", True)
    assert mail["body"] == message.html
    [attachment] = mail["attachments"]
    assert (attachment["name"], attachment["contentType"]) == ("Faktureringsriktlinjer.pdf", "application/pdf")
    pdf = base64.b64decode(attachment["contentBytes"])
    assert attachment["size"] == len(pdf)
    assert pdf == invoicing_guidelines(BUYER)
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        assert document.metadata["title"] == "Faktureringsriktlinjer – Ekbacken Bygg AB"
        text = " ".join(" ".join(page.get_text().split()) for page in document)
    assert text.startswith("Faktureringsriktlinjer för leverantörer till Ekbacken Bygg AB 1. Projektnummer och "
                           "projektnamn")
    for fact in ("Arbetsorder WW1245", "Som Er referens anges projektledaren för projektet",
                 "Fakturan ska ställas till: Ekbacken Bygg AB Box 123 753 23 Uppsala Org.nr 559138-1240 "
                 "Momsreg.nr SE559138124001",
                 '"Omvänd betalningsskyldighet för byggtjänster"', "till 0007:5591381240",
                 "30 dagar netto från fakturadatum"):
        assert fact in text


def test_the_complaint_names_invoice_faults_and_the_right_details_in_swedish() -> None:
    message = complaint()
    assert message.subject == "Reklamation faktura 4711"
    assert message.to == [Recipient(address="faktura@vasterasbyggplat.se", name="Västerås Byggplåt AB")]
    assert message.cc == []
    assert [a.name for a in message.attachments] == ["Faktureringsriktlinjer.pdf"]
    assert items(message.html) == [
        ["Fakturanummer: 4711", "Fakturadatum: 2025-10-01", "Förfallodatum: 2025-10-31",
         "Belopp: 25\u00a0000,00\u00a0SEK"],
        ["Saknar projektnummer", "Momsen är 20 % men ska vara 25 %"],  # failed checks, but not the info-only one
        ["Projekt: 1313 Stender VB 1966", "Arbetsorder: WW1245", "Er referens: Jasmine Andersson (projektledare)",
         "Fakturaadress: Ekbacken Bygg AB, Box 123, 753 23 Uppsala", "Org.nr: 559138-1240",
         "Momsreg.nr: SE559138124001"],
    ]
    assert paragraphs(message.html) == [
        "Hej,",
        "Vi har tagit emot faktura 4711 från Västerås Byggplåt AB och kan tyvärr inte godkänna den för betalning. "
        "Vi reklamerar därför fakturan.",
        "<strong>Fakturan</strong>",
        "<strong>Det här är fel</strong>",
        "<strong>Rätt uppgifter</strong>",
        "Vi ber er att skicka en kreditfaktura på hela beloppet och därefter en ny faktura med rätt uppgifter. "
        "Fakturan betalas inte i sin nuvarande form; betalningsvillkoret räknas från den dag den rättade fakturan "
        "kommer in.",
        "Våra faktureringsriktlinjer bifogas (Faktureringsriktlinjer.pdf). Hör gärna av er om något är oklart.",
        "Med vänliga hälsningar\nMatilda Ek\nEkbacken Bygg AB\nekonomi@ekbackenbygg.se\n018-12 34 56",
    ]


def test_what_comes_from_outside_is_escaped_and_only_known_details_are_given() -> None:
    supplier = fx.Supplier.model_validate({"SupplierNumber": "9", "Name": "Bygg & Plåt <AB>",
                                           "Email": "a@byggplat.se; b@byggplat.se"})
    invoice = fx.SupplierInvoiceItem.model_validate(
        {"GivenNumber": "5", "InvoiceNumber": "A<1>", "SupplierNumber": "9"})
    buyer = Buyer(name="Ekbacken Bygg AB", org_nr="559138-1240")
    message = compose_complaint(invoice, supplier, buyer, ["<script>alert(1)</script>", " Saknar projektnummer ",
                                                           "Saknar projektnummer"])
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "Bygg &amp; Plåt &lt;AB&gt;" in message.html
    assert message.subject == "Reklamation faktura A<1>"
    assert message.to == [Recipient(address="a@byggplat.se", name="Bygg & Plåt <AB>"),
                          Recipient(address="b@byggplat.se", name="Bygg & Plåt <AB>")]
    assert items(message.html) == [["Fakturanummer: A<1>"], ["<script>alert(1)</script>", "Saknar projektnummer"],
                                   ["Org.nr: 559138-1240"]]


def test_a_complaint_needs_an_address_a_number_and_a_reason() -> None:
    silent = fx.Supplier.model_validate({"SupplierNumber": "8", "Name": "Tyst AB", "Email": ""})
    with pytest.raises(ValueError, match=r"^supplier 8 \(Tyst AB\) has no e-mail address in Fortnox$"):
        compose_complaint(INVOICE, silent, BUYER, ["Saknar projektnummer"])
    unnumbered = fx.SupplierInvoiceItem.model_validate({"GivenNumber": "77", "SupplierNumber": "7"})
    with pytest.raises(ValueError, match=r"^supplier invoice 77 has no invoice number to refer to$"):
        compose_complaint(unnumbered, SUPPLIER, BUYER, ["Saknar projektnummer"])
    with pytest.raises(ValueError, match=r"^a complaint needs at least one reason$"):
        compose_complaint(INVOICE, SUPPLIER, BUYER, [" "], checks=CHECKS[1:])
    with pytest.raises(TypeError, match=r"^reasons is a list of reasons, not one string$"):
        compose_complaint(INVOICE, SUPPLIER, BUYER, "Saknar projektnummer")


# ---------------------------------------------------------------------------------------------
# Tokens


def test_one_token_serves_several_sends(sandbox: GraphSandbox) -> None:
    with client(sandbox) as graph:
        for n in range(3):
            graph.send(note(f"Meddelande {n}"), MAILBOX)
        assert graph.api.requests_made == 3
    assert sandbox.state.tokens_issued == 1
    assert [mail["subject"] for mail in sent(sandbox)] == ["Meddelande 0", "Meddelande 1", "Meddelande 2"]


def test_a_token_within_five_minutes_of_expiry_is_renewed_before_it_is_used() -> None:
    with GraphSandbox(token_lifetime=300) as sandbox, client(sandbox) as graph:
        graph.send(note(), MAILBOX)
        graph.send(note(), MAILBOX)
        assert graph.api.requests_made == 2  # no request was refused
        assert sandbox.state.tokens_issued == 2


def test_a_token_graph_refuses_is_renewed_once_and_the_send_goes_through(sandbox: GraphSandbox) -> None:
    with client(sandbox) as graph:
        graph.send(note("Före"), MAILBOX)
        admin(sandbox, "clock", {"advance_seconds": 3600})  # the server's clock passes the token's expiry
        graph.send(note("Efter"), MAILBOX)
        assert graph.api.requests_made == 3  # the second send: a 401, then the retry with a new token
    assert sandbox.state.tokens_issued == 2
    assert [mail["subject"] for mail in sent(sandbox)] == ["Före", "Efter"]


def test_a_token_refused_twice_is_an_auth_error_with_graphs_code() -> None:
    with GraphSandbox(token_lifetime=0) as sandbox, client(sandbox) as graph:  # tokens expired on issue
        with pytest.raises(AuthError) as caught:
            graph.send(note(), MAILBOX)
        # the first token, the renewal after the 401, and one more: a token already within 5 minutes of
        # its expiry is replaced before it is used
        assert sandbox.state.tokens_issued == 3
        assert sent(sandbox) == []
    error = caught.value
    assert (error.system, error.status, error.code, error.message) == (
        "graph", 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    assert [attempt.status_code for attempt in error.attempts] == [401, 401]


def test_a_wrong_client_secret_is_an_auth_error_and_the_secret_is_never_shown(sandbox: GraphSandbox) -> None:
    with client(sandbox, secret="not-the-secret") as graph:
        with pytest.raises(AuthError) as caught:
            graph.send(note(), MAILBOX)
        assert "not-the-secret" not in repr(graph.api.tokens)
    error = caught.value
    assert (error.status, error.code) == (401, "invalid_client")
    assert error.message.split("\r\n")[0] == (
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
        f"secret value, not the client secret ID, for a secret added to app '{sandbox.client_id}'.")
    assert "not-the-secret" not in str(error) and "not-the-secret" not in repr(error.request)
    assert sandbox.state.tokens_issued == 0
    assert sent(sandbox) == []


def test_credentials_and_tokens_never_reach_the_log(sandbox: GraphSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with client(sandbox) as graph:
        graph.send(note(), MAILBOX)
    [token] = sandbox.state.grants
    assert f"graph POST v1.0/users/{MAILBOX}/sendMail -> 202" in caplog.text
    assert sandbox.client_secret not in caplog.text
    assert token not in caplog.text


# ---------------------------------------------------------------------------------------------
# Retries and errors


def test_throttling_waits_for_retry_after_and_a_503_is_retried(sandbox: GraphSandbox) -> None:
    with client(sandbox) as graph:
        admin(sandbox, "faults", {"status": 429, "count": 1, "retry_after": 1})
        started = time.monotonic()
        graph.send(note("Efter 429"), MAILBOX)
        assert time.monotonic() - started >= 1.0
        assert graph.api.requests_made == 2

        admin(sandbox, "faults", {"status": 503, "count": 2})
        graph.send(note("Efter 503"), MAILBOX)
        assert graph.api.requests_made == 5
    assert [mail["subject"] for mail in sent(sandbox)] == ["Efter 429", "Efter 503"]


def test_a_503_that_outlasts_the_retries_is_a_transient_error(sandbox: GraphSandbox) -> None:
    admin(sandbox, "faults", {"status": 503, "count": 10})
    with client(sandbox) as graph, pytest.raises(TransientError) as caught:
        graph.send(note(), MAILBOX)
    error = caught.value
    assert (error.status, error.code) == (503, "serviceNotAvailable")
    assert [attempt.status_code for attempt in error.attempts] == [503, 503, 503, 503]
    assert sent(sandbox) == []


def test_graph_errors_become_typed_errors_with_graphs_code(sandbox: GraphSandbox) -> None:
    with client(sandbox) as graph:
        with pytest.raises(PermanentError) as bad_request:
            graph.send(note(), None)  # /me with an app-only token
        with pytest.raises(NotFoundError) as unknown:
            graph.send(note(), "ingen@ekbackenbygg.se")
    assert type(bad_request.value) is PermanentError
    assert (bad_request.value.status, bad_request.value.code, bad_request.value.message) == (
        400, "BadRequest", "/me request is only valid with delegated authentication flow.")
    assert (unknown.value.status, unknown.value.code, unknown.value.message) == (
        404, "ErrorInvalidUser", "The requested user 'ingen@ekbackenbygg.se' is invalid.")
    letter = dead_letter(bad_request.value, "supplier_invoice", "123")
    assert (letter.error_category, letter.error_code, letter.request["method"], letter.request["url"]) == (
        "validation", "BadRequest", "POST", f"{sandbox.url}/v1.0/me/sendMail")
    assert sent(sandbox) == []


class SignedInUser:
    """A delegated token, as a signed-in user's session would hold it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def renew(self, rejected: str) -> str:
        return self._token


def test_a_signed_in_user_sends_through_me(sandbox: GraphSandbox) -> None:
    token = admin(sandbox, "delegated-token", {"user": MAILBOX})["access_token"]
    with GraphMailClient.connect(SignedInUser(token), sandbox.url, FAST) as graph:
        graph.send(note("Som inloggad"), None, save_to_sent_items=False)
    [mail] = sent(sandbox)
    assert (mail["sender"], mail["subject"], mail["saveToSentItems"]) == (MAILBOX, "Som inloggad", False)


# ---------------------------------------------------------------------------------------------
# The message model and the sandbox's own checks


def test_attachments_over_3_mb_are_refused_before_anything_is_sent() -> None:
    assert len(Attachment(name="ok.pdf", content_type="application/pdf", content=bytes(MAX_ATTACHMENT_BYTES)).content
               ) == 3 * 1024 * 1024
    with pytest.raises(ValidationError, match=re.escape(
            "attachment 'ritning.pdf' is 3145729 bytes; Graph sendMail takes at most 3145728 bytes (3 MB) per "
            "attachment")):
        Attachment(name="ritning.pdf", content_type="application/pdf", content=bytes(MAX_ATTACHMENT_BYTES + 1))
    half = Attachment(name="del.pdf", content_type="application/pdf", content=bytes(MAX_ATTACHMENT_BYTES // 2 + 1))
    with pytest.raises(ValidationError, match=re.escape(
            "the attachments are 3145730 bytes together; Graph sendMail takes at most 3145728 bytes (3 MB) in one "
            "message")):
        MailMessage(subject="Ritningar", html="", to=["a@b.se"], attachments=[half, half])


def test_the_message_as_graph_reads_it() -> None:
    message = MailMessage(subject="Ämne", html="<p>Hej</p>", to=[Recipient(address="a@b.se", name="A")],
                          cc=["c@d.se"], attachments=[Attachment(name="x.txt", content_type="text/plain",
                                                                 content=b"Hello World!")])
    assert message.graph() == {
        "subject": "Ämne",
        "body": {"contentType": "HTML", "content": "<p>Hej</p>"},
        "toRecipients": [{"emailAddress": {"address": "a@b.se", "name": "A"}}],
        "ccRecipients": [{"emailAddress": {"address": "c@d.se"}}],
        "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "x.txt",
                         "contentType": "text/plain", "contentBytes": "SGVsbG8gV29ybGQh"}],
    }
    with pytest.raises(ValidationError):
        MailMessage(subject="Ämne", html="", to=[])
    with pytest.raises(ValidationError):
        MailMessage(subject="Ämne", html="", to=["inte en adress"])


def test_the_sandbox_answers_as_entra_id_and_graph_do(sandbox: GraphSandbox) -> None:
    form = {"grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret, "scope": "https://graph.microsoft.com/.default"}
    with httpx.Client(base_url=sandbox.url) as http:
        granted = http.post(f"/{sandbox.tenant_id}/oauth2/v2.0/token", data=form)
        assert granted.status_code == 200
        body = granted.json()
        assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 3599)
        for changed, status, error in (({"scope": "Mail.Send"}, 400, "invalid_scope"),
                                       ({"client_id": "okänd"}, 400, "unauthorized_client"),
                                       ({"client_secret": ""}, 401, "invalid_client")):
            refused = http.post(f"/{sandbox.tenant_id}/oauth2/v2.0/token", data={**form, **changed})
            assert (refused.status_code, refused.json()["error"]) == (status, error)
        assert http.post("/annan-tenant/oauth2/v2.0/token", data=form).json()["error"] == "invalid_request"

        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        path = f"/v1.0/users/{MAILBOX}/sendMail"
        message = {"subject": "Hej", "body": {"contentType": "Text", "content": "Hej"},
                   "toRecipients": [{"emailAddress": {"address": "a@b.se"}}]}
        accepted = http.post(path, headers=bearer, json={"message": message})
        assert (accepted.status_code, accepted.content) == (202, b"")
        assert accepted.headers["request-id"] == accepted.headers["client-request-id"]

        def error_of(response: httpx.Response) -> tuple[int, str, str]:
            error = response.json()["error"]
            assert set(error) == {"code", "message", "innerError"}
            return response.status_code, error["code"], error["message"]

        assert error_of(http.post(path, json={"message": message})) == (
            401, "InvalidAuthenticationToken", "Access token is empty.")
        assert error_of(http.post(path, headers=bearer, json={"message": {**message, "toRecipients": []}})) == (
            400, "ErrorInvalidRecipients",
            "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
        untyped = {**message, "attachments": [{"name": "x.pdf", "contentBytes": "SGVq"}]}
        assert error_of(http.post(path, headers=bearer, json={"message": untyped})) == (
            400, "RequestBodyRead", "The property 'contentBytes' does not exist on type 'microsoft.graph.attachment'. "
            "Make sure to only use property names that are defined by the type or mark the type as open type.")
        assert error_of(http.post(path, headers=bearer, content=b"{")) == (
            400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and "
            "payload is of valid JSON format.")

        assert admin(sandbox, "faults", {"status": 429, "count": 1, "retry_after": 7}) == {
            "fault": {"status": 429, "count": 1, "retry_after": 7}}
        throttled = http.post(path, headers=bearer, json={"message": message})
        assert throttled.headers["retry-after"] == "7"
        assert error_of(throttled) == (429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
        assert http.post(path, headers=bearer, json={"message": message}).status_code == 202
    assert [mail["to"] for mail in sent(sandbox)] == [["a@b.se"], ["a@b.se"]]


# ---------------------------------------------------------------------------------------------
# The escalation


def test_the_escalation_lists_flagged_invoices_soonest_and_least_certain_first(sandbox: GraphSandbox) -> None:
    flagged = [
        FlaggedInvoice(given_number="130", invoice_number="88", supplier_name="Krontak AB",
                       due_date=dt.date(2025, 10, 31), total=Decimal("1250.50"), currency="SEK", confidence=72),
        FlaggedInvoice.model_validate({"given_number": "123", "invoice_number": "4711", "status": "pending",
                                       "supplier_name": "Västerås Byggplåt AB", "due_date": dt.date(2025, 10, 30),
                                       "total": Decimal("25000.00"), "currency": "SEK", "confidence": 75}),
        FlaggedInvoice(given_number="131", supplier_name="Ekohus <AB>", due_date=dt.date(2025, 10, 31),
                       total=Decimal("980.00"), currency="EUR", confidence=40),
    ]
    message = compose_escalation(flagged, "matilda@ekbackenbygg.se", dt.date(2025, 10, 30),
                                 portal_url="https://portal.example.se/fakturor?status=pending&due=3")
    assert message.subject == "3 flaggade fakturor förfaller inom 3 dagar"
    assert message.to == [Recipient(address="matilda@ekbackenbygg.se")]
    rows = [[html.unescape(cell) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", message.html)]
    assert rows == [
        ["Förfaller", "Leverantör", "Fakturanr", "Löpnr i Fortnox", "Belopp", "Konfidens"],
        ["2025-10-30 (i dag)", "Västerås Byggplåt AB", "4711", "123", "25\u00a0000,00\u00a0SEK", "75\u00a0%"],
        ["2025-10-31 (i morgon)", "Ekohus <AB>", "", "131", "980,00\u00a0EUR", "40\u00a0%"],
        ["2025-10-31 (i morgon)", "Krontak AB", "88", "130", "1\u00a0250,50\u00a0SEK", "72\u00a0%"],
    ]
    assert '<a href="https://portal.example.se/fakturor?status=pending&amp;due=3">' in message.html
    assert paragraphs(message.html)[1] == ("3 flaggade fakturor väntar på granskning och förfaller inom 3 dagar. "
                                           "Godkänn eller neka dem före förfallodagen, så att ingen betalning blir "
                                           "försenad.")
    single = compose_escalation(flagged[:1], "matilda@ekbackenbygg.se", dt.date(2025, 11, 2))
    assert single.subject == "1 flaggad faktura förfaller inom 3 dagar"
    assert "2025-10-31 (förfallen)" in single.html

    with client(sandbox) as graph:
        graph.send(message, MAILBOX)
    [mail] = sent(sandbox)
    assert (mail["subject"], mail["to"], mail["attachments"]) == (
        "3 flaggade fakturor förfaller inom 3 dagar", ["matilda@ekbackenbygg.se"], [])
