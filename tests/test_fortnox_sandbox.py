"""The Fortnox sandbox behaves as Fortnox does (apis.md §1), over real HTTP with plain httpx."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
import random
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pymupdf
import pytest

from connectors.sandbox.fortnox import FortnoxSandbox
from connectors.sandbox.fortnox.pdf import LAYOUTS, kronor
from connectors.sandbox.workcloud import generate_company

REDIRECT = "http://localhost:8080/callback"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(seed=7, supplier_invoices=520) as running:
        yield running


@pytest.fixture
def admin(sandbox: FortnoxSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url) as client:
        yield client
        client.post("/_sandbox/faults", json={})
        client.delete("/_sandbox/rules")


def grant(sandbox: FortnoxSandbox, admin: httpx.Client, scope: str | None = None) -> dict[str, str]:
    code = admin.post("/_sandbox/authorize", json={"redirect_uri": REDIRECT, "scope": scope}).json()["code"]
    response = admin.post(
        "/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def api(sandbox: FortnoxSandbox, admin: httpx.Client) -> Iterator[httpx.Client]:
    """A client with a token of its own: each test has a rate window to itself."""
    token = grant(sandbox, admin)["access_token"]
    with httpx.Client(base_url=sandbox.api_url + "/", headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


# ---------------------------------------------------------------------------------------------
# OAuth


def test_authorization_code_flow_with_refresh_rotation(sandbox: FortnoxSandbox, admin: httpx.Client) -> None:
    redirect = admin.get("/oauth-v1/auth", params={
        "client_id": sandbox.client_id, "redirect_uri": REDIRECT, "scope": "supplierinvoice project",
        "state": "xyz", "access_type": "offline", "response_type": "code",
    })
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["state"] == "xyz"

    exchange = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT}
    tokens = admin.post("/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret), data=exchange)
    assert tokens.status_code == 200
    assert tokens.headers["cache-control"] == "no-store"
    assert tokens.headers["pragma"] == "no-cache"
    body = tokens.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (body["expires_in"], body["token_type"], body["scope"]) == (3600, "bearer", "supplierinvoice project")

    again = admin.post("/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret), data=exchange)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # a code works once

    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    rotated = admin.post("/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret), data=refresh)
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != body["refresh_token"]
    assert rotated.json()["access_token"] != body["access_token"]

    reused = admin.post("/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret), data=refresh)
    assert reused.status_code == 400
    assert reused.headers["content-type"] == "text/html; charset=UTF-8"
    assert reused.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}

    bad_client = admin.post("/oauth-v1/token", auth=(sandbox.client_id, "wrong"), data=refresh)
    assert bad_client.status_code == 401
    assert bad_client.headers["content-type"] == "text/plain;charset=UTF-8"
    assert bad_client.json() == {"error": "invalid_client", "error_description": "The client credentials are invalid"}


def test_401_is_the_gateway_body_for_missing_unknown_and_expired_tokens(
    sandbox: FortnoxSandbox, admin: httpx.Client
) -> None:
    token = grant(sandbox, admin)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert admin.get("/3/projects", headers=bearer).status_code == 200
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = admin.get("/3/projects", headers=headers)
        assert (response.status_code, response.text) == (401, '{"message":"unauthorized"}')
        assert response.headers["content-type"] == "application/json"
    admin.post("/_sandbox/clock", json={"advance_seconds": 3601})
    expired = admin.get("/3/projects", headers=bearer)
    assert (expired.status_code, expired.json()) == (401, {"message": "unauthorized"})


def test_a_token_without_the_scope_is_refused(sandbox: FortnoxSandbox, admin: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {grant(sandbox, admin, scope='project')['access_token']}"}
    assert admin.get("/3/projects", headers=headers).status_code == 200
    for path in ("/3/supplierinvoices", "/3/companyinformation"):
        refused = admin.get(path, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["ErrorInformation"]["code"] == 2000663
    allowed = {"Authorization": f"Bearer {grant(sandbox, admin, scope='companyinformation')['access_token']}"}
    company = admin.get("/3/companyinformation", headers=allowed).json()["CompanyInformation"]
    assert (company["CompanyName"], company["OrganizationNumber"]) == ("Ekbacken Bygg AB", "559138-1248")


# ---------------------------------------------------------------------------------------------
# Lists


def test_paging_across_three_pages(api: httpx.Client) -> None:
    pages = [api.get("projects", params={"limit": 15, "page": page}).json() for page in (1, 2, 3, 4)]
    assert [page["MetaInformation"] for page in pages] == [
        {"@TotalResources": 40, "@TotalPages": 3, "@CurrentPage": page} for page in (1, 2, 3, 4)
    ]
    assert [len(page["Projects"]) for page in pages] == [15, 15, 10, 0]
    numbers = [item["ProjectNumber"] for page in pages for item in page["Projects"]]
    assert numbers == sorted(numbers, key=int) and len(set(numbers)) == 40
    assert list(pages[0]) == ["MetaInformation", "Projects"]
    assert "Comments" not in pages[0]["Projects"][0]  # list items are the ListItem subset


def test_limit_defaults_to_100_and_is_clamped_to_500(api: httpx.Client) -> None:
    default = api.get("supplierinvoices").json()
    assert (len(default["SupplierInvoices"]), default["MetaInformation"]["@TotalPages"]) == (100, 6)
    clamped = api.get("supplierinvoices", params={"limit": 1000}).json()
    assert (len(clamped["SupplierInvoices"]), clamped["MetaInformation"]["@TotalPages"]) == (500, 2)
    offset = api.get("supplierinvoices", params={"limit": 5, "offset": 3}).json()["SupplierInvoices"]
    assert [item["GivenNumber"] for item in offset] == ["4", "5", "6", "7", "8"]
    assert "SupplierInvoiceRows" not in offset[0] and "Cancel" in offset[0]


def test_projects_are_the_workcloud_projects(api: httpx.Client) -> None:
    company = generate_company(7)
    projects = {p["ProjectNumber"]: p for p in api.get("projects", params={"limit": 500}).json()["Projects"]}
    assert set(projects) == {p["project_number"] for p in company.projects}
    status = {"active": "ONGOING", "inactive": "NOTSTARTED", "completed": "COMPLETED"}
    for source in company.projects:
        project = projects[source["project_number"]]
        assert project["Description"] == source["project_name"][:50]
        assert (project["ProjectLeader"], project["Status"]) == (source["project_leader"], status[source["status"]])


def test_lastmodified_returns_what_changed_since(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    before = dt.datetime.fromtimestamp(sandbox.state.now() - 1, STOCKHOLM)
    changed = api.put("supplierinvoices/7", json={"SupplierInvoice": {"Comments": "Kontrollerad"}})
    assert changed.status_code == 200 and changed.json()["SupplierInvoice"]["Comments"] == "Kontrollerad"
    def since(value: str) -> dict:
        return api.get("supplierinvoices", params={"lastmodified": value}).json()

    assert [item["GivenNumber"] for item in since(before.strftime("%Y-%m-%d %H:%M:%S"))["SupplierInvoices"]] == ["7"]
    month_ago = (before - dt.timedelta(days=31)).strftime("%Y-%m-%d")
    assert since(month_ago)["MetaInformation"]["@TotalResources"] == 520
    half_a_month = since((before - dt.timedelta(days=15)).strftime("%Y-%m-%d %H:%M"))
    assert 0 < half_a_month["MetaInformation"]["@TotalResources"] < 520
    assert since("yesterday")["ErrorInformation"]["code"] == 2000588


def test_filters_and_search(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    records = [record for record, _ in sandbox.state.snapshot("supplierinvoices")]
    unbooked = api.get("supplierinvoices", params={"filter": "unbooked", "limit": 500}).json()
    expected = sum(not r["Booked"] and not r["Cancelled"] for r in records)
    assert unbooked["MetaInformation"]["@TotalResources"] == expected
    assert all(not item["Booked"] and not item["Cancel"] for item in unbooked["SupplierInvoices"])
    project = next(r["Project"] for r in records if r["Project"])
    found = api.get("supplierinvoices", params={"project": project, "limit": 500}).json()["SupplierInvoices"]
    assert found and all(project in item["Project"] for item in found)
    by_name = api.get("customers", params={"name": "stender"}).json()["Customers"]
    assert [c["Name"] for c in by_name] == ["Stender Fastigheter AB"]
    assert api.get("customers", params={"filter": "active"}).json()["MetaInformation"]["@TotalResources"] > 0


def test_fromdate_and_todate_select_by_the_document_date(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    dates = sorted(record["InvoiceDate"] for record, _ in sandbox.state.snapshot("supplierinvoices"))
    start, end = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    found = api.get("supplierinvoices", params={"fromdate": start, "todate": end, "limit": 500}).json()
    assert found["MetaInformation"]["@TotalResources"] == sum(start <= d <= end for d in dates)
    assert all(start <= item["InvoiceDate"] <= end for item in found["SupplierInvoices"])


def test_trailing_slash_is_accepted(api: httpx.Client) -> None:
    assert api.get("invoices/").status_code == 200
    assert api.get("invoices/1/").json()["Invoice"]["DocumentNumber"] == "1"


# ---------------------------------------------------------------------------------------------
# Errors


def test_404_is_pascal_case_and_400_lower_case(api: httpx.Client) -> None:
    missing = api.get("invoices/123456789")
    assert missing.status_code == 404
    assert missing.json() == {"ErrorInformation": {"Error": 1, "Message": "Kan inte hitta fakturan.", "Code": 2000434}}
    for path, code in (("customers/99999", 2000433), ("projects/1", 2001161), ("articles/nope", 2000428)):
        assert api.get(path).json()["ErrorInformation"]["Code"] == code
    bad_filter = api.get("invoices", params={"filter": "doesntexist"})
    assert bad_filter.status_code == 400
    assert bad_filter.text == (  # compact, non-ASCII escaped: as captured
        '{"ErrorInformation":{"error":1,"message":"Ett ogiltigt filter har anv\\u00e4nts.","code":2000587}}'
    )


def test_validation_errors(api: httpx.Client) -> None:
    def error(response: httpx.Response) -> tuple[int, int]:
        return response.status_code, response.json()["ErrorInformation"]["code"]

    json_header = {"Content-Type": "application/json"}
    assert error(api.post("customers", content=b'{"Customer": {', headers=json_header)) == (400, 2002115)
    assert error(api.post("customers", json={"Customer": {"Name": "A", "Colour": "red"}})) == (400, 2001399)
    assert error(api.post("customers", json={"Customer": {"CustomerNumber": "1", "Name": "B AB"}})) == (400, 2000637)
    assert error(api.post("customers", json={"Customer": {"City": "Uppsala"}}))[0] == 400
    assert error(api.post("supplierinvoices", json={"SupplierInvoice": {"InvoiceNumber": "9"}}))[0] == 400
    unbooked = api.get("supplierinvoices", params={"filter": "unbooked", "limit": 1}).json()["SupplierInvoices"][0]
    unknown_project = {"SupplierInvoice": {"Project": "no-such-project"}}
    assert error(api.put(f"supplierinvoices/{unbooked['GivenNumber']}", json=unknown_project)) == (400, 2001161)
    assert error(api.put("projects/1038", json={"Project": {"Status": "ACTIVE"}}))[0] == 400


def test_injected_500_is_error_information_1000003(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/faults", json={"rate_500": 1.0})
    response = api.get("projects")
    assert response.status_code == 500
    assert response.json() == {"ErrorInformation": {"error": 1, "message": "System exception", "code": 1000003}}


# ---------------------------------------------------------------------------------------------
# Rate limit, faults, rules


def test_the_26th_request_in_5_seconds_is_429(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/stats/reset")
    statuses = [api.get("articles", params={"limit": 1}).status_code for _ in range(26)]
    assert statuses == [200] * 25 + [429]
    refused = api.get("articles")
    assert (refused.status_code, refused.json()) == (429, {"message": "Too Many Requests"})
    assert "retry-after" not in refused.headers
    stats = admin.get("/_sandbox/stats").json()
    assert stats["rate_limit_violations"] == 2
    assert stats["max_requests_in_5s_window"] == 27
    assert stats["by_status"] == {"200": 25, "429": 2}
    assert stats["by_route"] == {"GET /3/articles": 27}


def test_injected_faults_follow_the_seeded_rng(sandbox: FortnoxSandbox, admin: httpx.Client) -> None:
    admin.post("/_sandbox/stats/reset")
    admin.post("/_sandbox/faults", json={"rate_503": 0.3, "retry_after": 2, "seed": 42})
    tokens = [grant(sandbox, admin)["access_token"] for _ in range(5)]
    responses = [admin.get("/3/articles/101", headers={"Authorization": f"Bearer {tokens[i % 5]}"}) for i in range(100)]
    faulted = [r for r in responses if r.status_code == 503]
    rng = random.Random(42)
    assert len(faulted) == sum(rng.random() < 0.3 for _ in range(100))  # one draw per request, in order
    assert 18 <= len(faulted) <= 42
    assert all(r.headers["retry-after"] == "2" and r.json() == {"message": "Service Unavailable"} for r in faulted)
    stats = admin.get("/_sandbox/stats").json()
    assert (stats["injected_faults"], stats["rate_limit_violations"]) == (len(faulted), 0)

    admin.post("/_sandbox/faults", json={"rate_429": 1.0})
    injected = admin.get("/3/articles/101", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert (injected.status_code, injected.json()) == (429, {"message": "Too Many Requests"})
    assert admin.get("/_sandbox/stats").json()["rate_limit_violations"] == 0  # injected, not a violation


def test_dropped_connections_and_latency(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/faults", json={"drop_rate": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("projects")
    admin.post("/_sandbox/faults", json={"latency_ms": 120})
    started = dt.datetime.now()
    assert api.get("projects", params={"limit": 1}).status_code == 200
    assert dt.datetime.now() - started >= dt.timedelta(milliseconds=120)
    assert admin.get("/oauth-v1/auth").status_code == 400  # faults never touch OAuth or /_sandbox


def test_rules_make_matching_requests_fail_until_deleted(api: httpx.Client, admin: httpx.Client) -> None:
    rule = {"method": "POST", "path": "/3/customers", "match": {"Name": "Regelbrott AB"}, "status": 422,
            "code": 2000999, "message": "Kunden får inte skapas."}
    assert admin.post("/_sandbox/rules", json=rule).json() == {"rules": 1}
    refused = api.post("customers", json={"Customer": {"Name": "Regelbrott AB"}})
    assert refused.status_code == 422
    assert refused.json() == {"ErrorInformation": {"error": 1, "message": "Kunden får inte skapas.", "code": 2000999}}
    assert api.post("customers", json={"Customer": {"Name": "Annan Kund AB"}}).status_code == 201
    admin.delete("/_sandbox/rules")
    assert api.post("customers", json={"Customer": {"Name": "Regelbrott AB"}}).status_code == 201


# ---------------------------------------------------------------------------------------------
# Supplier invoices, files and the archive


def test_the_archive_returns_the_invoice_pdf(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    connections = api.get("supplierinvoicefileconnections", params={"limit": 500}).json()
    assert 0.9 * 520 < connections["MetaInformation"]["@TotalResources"] < 520  # ~5 % arrived without a file
    archive = sandbox.state.archive
    connection = next(c for c in connections["SupplierInvoiceFileConnections"]
                      if not archive[c["FileId"]].source.scanned)  # a scan has no text to compare
    invoice = api.get(f"supplierinvoices/{connection['SupplierInvoiceNumber']}").json()["SupplierInvoice"]
    pdf = api.get(f"archive/{connection['FileId']}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    document = archive[connection["FileId"]].source  # the corpus invoice behind it, in its supplier's layout
    layout = LAYOUTS[document.layout]
    text = "".join(page.get_text() for page in pymupdf.open(stream=pdf.content, filetype="pdf")).replace("\xa0", " ")
    dates = [dt.date.fromisoformat(invoice[name]).strftime(layout.date_format) for name in ("InvoiceDate", "DueDate")]
    values = [invoice[name] for name in ("InvoiceNumber", "SupplierName", "OCR")]
    for expected in [layout.title, layout.number, layout.net, layout.total, *values, *dates]:
        assert expected in text, expected
    assert f"{kronor(Decimal(invoice['Total']))}{layout.suffix}" in text
    assert document.your_reference in text
    assert document.project_number is None or document.project_number in {
        p["project_number"] for p in generate_company(7).projects}
    assert api.get(f"archive/{connection['FileId']}").content == pdf.content  # rendered once, then kept


def test_supplier_invoice_state_machine(api: httpx.Client) -> None:
    def error_code(response: httpx.Response) -> int:
        assert response.status_code == 400, response.text
        return response.json()["ErrorInformation"]["code"]

    first, second = api.get("supplierinvoices", params={"filter": "unbooked", "limit": 2}).json()["SupplierInvoices"]
    number = first["GivenNumber"]
    project = api.get("projects", params={"limit": 1}).json()["Projects"][0]["ProjectNumber"]
    with_project = api.put(f"supplierinvoices/{number}", json={"SupplierInvoice": {"Project": project}})
    assert with_project.json()["SupplierInvoice"]["Project"] == project

    booked = api.put(f"supplierinvoices/{number}/bookkeep").json()["SupplierInvoice"]
    assert booked["Booked"] and booked["VoucherSeries"] == "D"
    assert booked["Vouchers"][0]["Number"] == booked["VoucherNumber"]
    assert error_code(api.put(f"supplierinvoices/{number}/bookkeep")) == 2099016
    assert error_code(api.put(f"supplierinvoices/{number}/cancel")) == 2099016
    assert error_code(api.put(f"supplierinvoices/{number}", json={"SupplierInvoice": {"Project": ""}})) == 2099016
    assert api.put(f"supplierinvoices/{number}", json={"SupplierInvoice": {"Comments": "Attest"}}).status_code == 200

    credited = api.put(f"supplierinvoices/{number}/credit").json()["SupplierInvoice"]
    credit = api.get(f"supplierinvoices/{credited['CreditReference']}").json()["SupplierInvoice"]
    assert credit["Credit"] and credit["CreditReference"] == int(number) and credit["Total"] == f"-{first['Total']}"
    assert error_code(api.put(f"supplierinvoices/{number}/credit")) == 2099019

    cancelled = api.put(f"supplierinvoices/{second['GivenNumber']}/cancel").json()["SupplierInvoice"]
    assert cancelled["Cancelled"] and cancelled["Balance"] == "0"
    assert error_code(api.put(f"supplierinvoices/{second['GivenNumber']}/bookkeep")) == 2099017
    assert error_code(api.put(f"supplierinvoices/{second['GivenNumber']}/credit")) == 2099017


def test_imbalanced_rows_cannot_be_booked(api: httpx.Client) -> None:
    rows = [{"Account": 2440, "Credit": 1250}, {"Account": 2641, "Debit": 250}, {"Account": 4010, "Debit": 900}]
    fields = {"SupplierNumber": "2", "InvoiceNumber": "77", "SupplierInvoiceRows": rows}
    created = api.post("supplierinvoices", json={"SupplierInvoice": fields})
    assert created.status_code == 201
    invoice = created.json()["SupplierInvoice"]
    assert (invoice["Total"], invoice["VAT"], invoice["Balance"], invoice["Booked"]) == ("1250", "250", "1250", False)
    assert [row["Code"] for row in invoice["SupplierInvoiceRows"]] == ["TOT", "VAT", "PRE"]
    refused = api.put(f"supplierinvoices/{invoice['GivenNumber']}/bookkeep")
    assert (refused.status_code, refused.json()["ErrorInformation"]["code"]) == (400, 2000755)


def test_a_posted_customer_invoice_is_completed_like_fortnox(api: httpx.Client) -> None:
    rows = [{"ArticleNumber": "101", "DeliveredQuantity": "3"}]
    fields = {"CustomerNumber": "1", "InvoiceDate": "2026-01-30", "InvoiceRows": rows}
    created = api.post("invoices", json={"Invoice": fields})
    assert created.status_code == 201
    invoice = created.json()["Invoice"]
    number = invoice["DocumentNumber"]
    assert invoice["DueDate"] == "2026-03-01" and invoice["Booked"] is False and invoice["Credit"] == "false"
    assert invoice["OCR"].startswith(number) and invoice["CustomerName"] == "Stender Fastigheter AB"
    row = invoice["InvoiceRows"][0]
    assert (row["Description"], row["Price"], row["Total"]) == ("Timpenning snickare", 650, 1950)
    assert row["AccountNumber"] == 3041  # the article's sales account
    assert (invoice["Net"], invoice["TotalVAT"], invoice["Total"]) == (1950, 487.5, 2438)
    updated = api.put(f"invoices/{number}", json={"Invoice": {"YourReference": "Märta"}}).json()["Invoice"]
    assert updated["YourReference"] == "Märta" and updated["InvoiceRows"] == invoice["InvoiceRows"]


def test_admin_info(admin: httpx.Client, sandbox: FortnoxSandbox) -> None:
    info = admin.get("/_sandbox/info").json()
    assert (info["client_id"], info["client_secret"], info["seed"]) == ("ledgerflow-sandbox", "sandbox-secret", 7)
    assert info["api_url"] == sandbox.api_url and info["token_url"] == sandbox.token_url
    assert info["counts"]["projects"] == 40
