"""Contract: every body the Fortnox sandbox sends validates against Fortnox's official OpenAPI description.

Only ``tests/data/fortnox/openapi-subset.json`` is read (a copy of the served paths and the schemas
they reference; regenerate it with ``make_openapi_subset.py``), so this runs on a clean clone.

How the OpenAPI 3.0 schemas are checked:

- They are used as JSON Schema draft 4, with ``$ref``s to ``#/components/schemas/...`` resolved
  through a ``referencing`` registry holding the subset, and ``nullable: true`` turned into a
  ``"null"`` type. ``date`` and ``uuid`` formats are checked; int32/double are not formats
  jsonschema knows.
- The spec marks nothing nullable, yet captured Fortnox responses carry null for unset values
  (GET /3/customers/1 has 35 null fields). `NULLABLE` names the fields that may be null, each
  seen null in a captured response, or the same field of a sibling entity (marked "sibling");
  every other field must have the spec's type.
- `EMPTY` names the fields captured as ``""`` although the spec gives an enum or a date.
- List wrappers: none of the spec's list schemas (``SupplierInvoiceListItem_Wrap``,
  ``InvoiceListItem_Wrap``, ``EmployeeListItem_Wrap`` and every ``*_List``) declares
  ``MetaInformation``, though every captured /3/ list has it and apis.md says to assume it
  everywhere. The wrappers allow extra properties, so the envelope validates as it is;
  MetaInformation is then checked separately, against the spec's own ``fortnox_MetaInformation``,
  and must be the first key.
- Errors: the spec's ``default`` response is ``ErrorInformationWrap`` with PascalCase keys and no
  required ones, so a lower-case 400 body and the gateway's 401 ``{"message": ...}`` pass it
  without saying much. They are validated all the same; test_fortnox_sandbox pins their exact bodies.
- ``GET /3/archive/{id}`` is ``string``/``byte`` in the spec: raw bytes, checked as a PDF instead.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from connectors.sandbox.fortnox import FortnoxSandbox
from connectors.sandbox.fortnox.app import RESOURCES

SUBSET = Path(__file__).parent / "data" / "fortnox" / "openapi-subset.json"
DOCUMENT = "urn:fortnox:openapi-subset"

NULLABLE = {
    # captured: GET /3/projects?limit=1
    "fortnox_Project": "EndDate ProjectLeader StartDate",
    "fortnox_ProjectListItem": "EndDate ProjectLeader StartDate",
    # captured: GET /3/customers/1
    "fortnox_Customer": (
        "Address1 Address2 City Comments CostCenter Country CountryCode DeliveryAddress1 DeliveryAddress2 DeliveryCity "
        "DeliveryCountry DeliveryCountryCode DeliveryFax DeliveryName DeliveryPhone1 DeliveryPhone2 DeliveryZipCode "
        "ExternalReference Fax GLN GLNDelivery InvoiceAdministrationFee InvoiceDiscount InvoiceFreight Phone1 Phone2 "
        "SalesAccount VisitingAddress VisitingCity VisitingCountry VisitingCountryCode VisitingZipCode ZipCode"
    ),
    "fortnox_CustomerListItem": "Address1 Address2 City Phone ZipCode",  # sibling: the same fields of Customer
    # captured: GET /3/articles/1 and GET /3/articles
    "fortnox_Article": (
        "CostCalculationMethod DefaultStockLocation DefaultStockPoint DirectCost FreightCost HouseworkType "
        "Manufacturer OtherCost SalesPrice StockAccount StockChangeAccount StockPlace SupplierName SupplierNumber Unit"
    ),
    "fortnox_ArticleListItem": "SalesPrice StockPlace Unit",
    # captured: POST /3/invoices and GET /3/invoices
    "fortnox_Invoice": (
        "DeliveryDate FinalPayDate LastRemindDate TaxReduction TimeBasisReference "
        "VoucherNumber VoucherSeries VoucherYear"
    ),
    "fortnox_InvoiceListItem": "FinalPayDate VoucherNumber VoucherSeries VoucherYear",
    "fortnox_Invoice_InvoiceRow": "HouseWorkHoursToReport HouseWorkType StockPointCode",
    "fortnox_Invoice_EDIInformation": (
        "EDIGlobalLocationNumber EDIGlobalLocationNumberDelivery EDIInvoiceExtra1 EDIInvoiceExtra2 "
        "EDIOurElectronicReference EDIYourElectronicReference"
    ),
    "fortnox_Invoice_EmailInformation": "EmailAddressBCC EmailAddressCC EmailAddressFrom",
    # sibling: offers share the invoice's document fields
    "fortnox_Offer": "DeliveryDate ExpireDate TaxReduction",
    "fortnox_Offer_OfferRow": "HouseWorkHoursToReport HouseWorkType",
    "fortnox_Offer_EmailInformation": "EmailAddressBCC EmailAddressCC EmailAddressFrom",
    # sibling: the invoice's voucher and date fields (the synthetic supplier-invoice fixture does the same)
    "fortnox_SupplierInvoice": "FinalPayDate VoucherNumber VoucherSeries VoucherYear",
    "fortnox_SupplierInvoiceListItem": "FinalPayDate",
    "fortnox_SupplierInvoice_SupplierInvoiceRow": "StockLocationCode StockPointCode",
    # sibling: Customer.SalesAccount, the same kind of field, is null when unset
    "fortnox_Supplier": "PreDefinedAccount",
    "fortnox_SupplierListItem": "PreDefinedAccount",
    # sibling: unset dates are null on every other entity
    "fortnox_Employee": "EmployedTo EmploymentDate",
    "fortnox_EmployeeListItem": "EmploymentDate",
}
EMPTY = {  # captured: POST /3/invoices
    "fortnox_Invoice": "InvoicePeriodEnd InvoicePeriodStart PaymentWay",
}


def _formats() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date", raises=ValueError)
    def date(value: Any) -> bool:
        if isinstance(value, str):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"{value!r} is not YYYY-MM-DD")
            dt.date.fromisoformat(value)
        return True

    @checker.checks("uuid", raises=ValueError)
    def uuid_format(value: Any) -> bool:
        if isinstance(value, str):
            uuid.UUID(value)
        return True

    return checker


def _nullable_to_json_schema(node: Any) -> None:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema: null joins the type (and the enum)."""
    if isinstance(node, dict):
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        for value in node.values():
            _nullable_to_json_schema(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_to_json_schema(value)


def _load() -> dict[str, Any]:
    spec = json.loads(SUBSET.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for name, fields in NULLABLE.items():
        for field in fields.split():
            schemas[name]["properties"][field]["nullable"] = True
    for name, fields in EMPTY.items():
        for field in fields.split():
            original = schemas[name]["properties"][field]
            schemas[name]["properties"][field] = {"anyOf": [original, {"enum": [""]}]}
    _nullable_to_json_schema(spec)
    return spec


SPEC = _load()
REGISTRY = Registry().with_resource(DOCUMENT, Resource(contents=SPEC, specification=DRAFT4))
FORMATS = _formats()


@functools.cache
def _validator(ref: str) -> Draft4Validator:
    return Draft4Validator({"$ref": DOCUMENT + ref}, registry=REGISTRY, format_checker=FORMATS)


def validate(schema: dict[str, Any], body: Any) -> None:
    errors = sorted(_validator(schema["$ref"]).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


def response_schema(spec_path: str, method: str, status: int) -> dict[str, Any]:
    responses = SPEC["paths"][spec_path][method.lower()]["responses"]
    content = (responses.get(str(status)) or responses["default"])["content"]
    return next(iter(content.values()))["schema"]  # application/json, or */* on the archive


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(seed=11, supplier_invoices=40, customers=12, invoices=8, offers=6) as running:
        yield running


@pytest.fixture
def api(sandbox: FortnoxSandbox) -> Iterator[httpx.Client]:
    """A client with a fresh token for each test, so no test meets another's rate window."""
    with httpx.Client(base_url=sandbox.url) as admin:
        code = admin.post("/_sandbox/authorize", json={"redirect_uri": "http://localhost/cb"}).json()["code"]
        token = admin.post(
            "/oauth-v1/token", auth=(sandbox.client_id, sandbox.client_secret),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost/cb"},
        ).json()["access_token"]
    with httpx.Client(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def exchange(api: httpx.Client, method: str, spec_path: str, url: str, status: int, body: Any = None) -> Any:
    """Send a request, expect `status`, and validate the answer against the spec's schema for it."""
    response = api.request(method, url, json=body)
    assert response.status_code == status, response.text
    if status == 204:
        assert response.content == b""
        return None
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    validate(response_schema(spec_path, method, status), data)
    return data


def first(api: httpx.Client, path: str, plural: str, query: str = "") -> dict[str, Any]:
    return api.get(f"/{path}?limit=1&{query}").json()[plural][0]


LISTS = [
    ("supplierinvoices", "SupplierInvoices"),
    ("supplierinvoicefileconnections", "SupplierInvoiceFileConnections"),
    ("projects", "Projects"),
    ("suppliers", "Suppliers"),
    ("customers", "Customers"),
    ("invoices", "Invoices"),
    ("articles", "Articles"),
    ("employees", "Employees"),
    ("offers", "Offers"),
    ("attendancetransactions", "AttendanceTransactions"),
    ("salarytransactions", "SalaryTransactions"),
]


def test_the_subset_covers_every_served_path() -> None:
    for resource in RESOURCES.values():
        singles = [p for p in SPEC["paths"] if p.startswith(f"/3/{resource.path}/{{") and p.count("/") == 3]
        assert f"/3/{resource.path}" in SPEC["paths"]
        assert singles or not {"get", "update", "delete"} & resource.methods, resource.path
        for action in resource.actions:
            assert any(p.endswith(f"}}/{action}") and p.startswith(f"/3/{resource.path}/") for p in SPEC["paths"])


@pytest.mark.parametrize(("path", "plural"), LISTS)
def test_lists_match_the_spec(api: httpx.Client, path: str, plural: str) -> None:
    body = exchange(api, "GET", f"/3/{path}", f"/{path}?limit=3", 200)
    assert next(iter(body)) == "MetaInformation"
    validate({"$ref": "#/components/schemas/fortnox_MetaInformation"}, body["MetaInformation"])
    assert body[plural], f"the seed has no {path}"
    assert all(item["@url"].startswith(f"{api.base_url}{path}/") for item in body[plural])


def test_an_empty_list_matches_the_spec(api: httpx.Client) -> None:
    body = exchange(api, "GET", "/3/supplierinvoices", "/supplierinvoices?ocr=nosuchocr", 200)
    assert body["MetaInformation"] == {"@TotalResources": 0, "@TotalPages": 0, "@CurrentPage": 1}
    assert body["SupplierInvoices"] == []


SINGLES = [
    ("supplierinvoices", "SupplierInvoices", "/3/supplierinvoices/{GivenNumber}", "SupplierInvoice"),
    ("supplierinvoicefileconnections", "SupplierInvoiceFileConnections", "/3/supplierinvoicefileconnections/{FileId}",
     "SupplierInvoiceFileConnection"),
    ("projects", "Projects", "/3/projects/{ProjectNumber}", "Project"),
    ("suppliers", "Suppliers", "/3/suppliers/{SupplierNumber}", "Supplier"),
    ("customers", "Customers", "/3/customers/{CustomerNumber}", "Customer"),
    ("invoices", "Invoices", "/3/invoices/{DocumentNumber}", "Invoice"),
    ("articles", "Articles", "/3/articles/{ArticleNumber}", "Article"),
    ("employees", "Employees", "/3/employees/{EmployeeId}", "Employee"),
    ("offers", "Offers", "/3/offers/{DocumentNumber}", "Offer"),
]


@pytest.mark.parametrize(("path", "plural", "spec_path", "singular"), SINGLES)
def test_single_resources_and_their_404s_match_the_spec(
    api: httpx.Client, path: str, plural: str, spec_path: str, singular: str
) -> None:
    """Every record of the resource (rows included) against the entity schema, and the 404 body."""
    for item in api.get(f"/{path}?limit=15").json()[plural]:  # 15 stay inside one token's rate window
        body = exchange(api, "GET", spec_path, item["@url"].removeprefix(str(api.base_url)), 200)
        assert body[singular]["@url"] == item["@url"]
    missing = exchange(api, "GET", spec_path, f"/{path}/999999", 404)
    assert set(missing["ErrorInformation"]) == {"Error", "Message", "Code"}


def test_every_supplier_invoice_matches_the_spec(sandbox: FortnoxSandbox) -> None:
    """All of them, booked, paid, cancelled or not, straight from the state (the API would hit the rate limit)."""
    resource = RESOURCES["supplierinvoices"]
    schema = response_schema("/3/supplierinvoices/{GivenNumber}", "GET", 200)
    for record, _ in sandbox.state.snapshot("supplierinvoices"):
        validate(schema, {"SupplierInvoice": resource.full(sandbox.url, record)})


CREATES = [  # path, fields of the new record
    ("projects", {"Description": "Brf Kämpetorget fasad", "ProjectLeader": "Karin Åberg"}),
    ("suppliers", {"Name": "Mälardalens Bygg & Järn AB", "OrganisationNumber": "556047-3521"}),
    ("customers", {"Name": "Brf Solgläntan", "Email": "styrelsen@solglantan.se"}),
    ("invoices", {"CustomerNumber": "1", "InvoiceRows": [{"ArticleNumber": "101", "DeliveredQuantity": "8"}]}),
    ("articles", {"Description": "Fogskum 750 ml", "SalesPrice": 119, "Unit": "st"}),
    ("employees", {"FirstName": "Linnéa", "LastName": "Håkansson", "Email": "linnea@example.se"}),
    ("offers", {"CustomerNumber": "2", "OfferRows": [{"ArticleNumber": "105", "Quantity": "12"}]}),
    ("attendancetransactions", {"EmployeeId": "1", "CauseCode": "TID", "Date": "2026-03-02", "Hours": "8"}),
    ("salarytransactions", {"EmployeeId": "1", "SalaryCode": "11", "Date": "2026-03-02", "Number": "8"}),
    ("supplierinvoices", {"SupplierNumber": "1", "InvoiceNumber": "K-1", "Total": "1250", "VAT": "250"}),
]


@pytest.mark.parametrize(("path", "fields"), CREATES)
def test_created_resources_match_the_spec(api: httpx.Client, path: str, fields: dict[str, Any]) -> None:
    singular = RESOURCES[path].singular
    body = exchange(api, "POST", f"/3/{path}", f"/{path}", 201, {singular: fields})
    for name, value in fields.items():
        if name not in ("InvoiceRows", "OfferRows"):
            assert body[singular][name] == value


UPDATES = [  # path, changed fields, which record (a filter)
    ("supplierinvoices", {"Comments": "Granskad"}, "filter=unbooked"),
    ("projects", {"ContactPerson": "Märta Säck"}, ""),
    ("suppliers", {"Phone1": "018-10 20 30"}, ""),
    ("customers", {"City": "Örsundsbro"}, ""),
    ("invoices", {"Remarks": "Tack för uppdraget"}, "filter=unbooked"),
    ("articles", {"SalesPrice": 175.5}, ""),
    ("employees", {"JobTitle": "Platschef"}, ""),
    ("offers", {"Remarks": "Giltig i 30 dagar"}, "filter=notcompleted"),
]


@pytest.mark.parametrize(("path", "fields", "query"), UPDATES)
def test_updated_resources_match_the_spec(api: httpx.Client, path: str, fields: dict[str, Any], query: str) -> None:
    resource = RESOURCES[path]
    singular, spec_path = resource.singular, next(p for p in SPEC["paths"] if p.startswith(f"/3/{path}/{{"))
    url = first(api, path, resource.plural, query)["@url"].removeprefix(str(api.base_url))
    body = exchange(api, "PUT", spec_path, url, 200, {singular: fields})
    assert {name: body[singular][name] for name in fields} == fields


def test_supplier_invoice_actions_match_the_spec(api: httpx.Client) -> None:
    unbooked = api.get("/supplierinvoices?filter=unbooked&limit=2").json()["SupplierInvoices"]
    booked = first(api, "supplierinvoices", "SupplierInvoices", "filter=fullypaid")
    for action, invoice in (("bookkeep", unbooked[0]), ("cancel", unbooked[1]), ("credit", booked)):
        number = invoice["GivenNumber"]
        spec_path = f"/3/supplierinvoices/{{GivenNumber}}/{action}"
        exchange(api, "PUT", spec_path, f"/supplierinvoices/{number}/{action}", 200)
    again = f"/supplierinvoices/{unbooked[0]['GivenNumber']}/bookkeep"
    exchange(api, "PUT", "/3/supplierinvoices/{GivenNumber}/bookkeep", again, 400)


def test_file_connections_delete_and_create_match_the_spec(api: httpx.Client) -> None:
    connection = first(api, "supplierinvoicefileconnections", "SupplierInvoiceFileConnections")
    path = f"/supplierinvoicefileconnections/{connection['FileId']}"
    exchange(api, "DELETE", "/3/supplierinvoicefileconnections/{FileId}", path, 204)
    exchange(api, "GET", "/3/supplierinvoicefileconnections/{FileId}", path, 404)
    fields = {"FileId": connection["FileId"], "SupplierInvoiceNumber": connection["SupplierInvoiceNumber"]}
    created = exchange(api, "POST", "/3/supplierinvoicefileconnections", "/supplierinvoicefileconnections", 201,
                       {"SupplierInvoiceFileConnection": fields})
    assert created["SupplierInvoiceFileConnection"] == {**connection, "@url": connection["@url"]}


@pytest.mark.parametrize(("path", "singular", "spec_path", "fields"), [
    ("projects", "Project", "/3/projects/{ProjectNumber}", {"Description": "Rivning förråd"}),
    ("customers", "Customer", "/3/customers/{CustomerNumber}", {"Name": "Kortvarig Kund AB"}),
    ("articles", "Article", "/3/articles/{ArticleNumber}", {"Description": "Utgående artikel"}),
])
def test_deletes_answer_204_without_a_body(
    api: httpx.Client, path: str, singular: str, spec_path: str, fields: dict[str, Any]
) -> None:
    url = api.post(f"/{path}", json={singular: fields}).json()[singular]["@url"].removeprefix(str(api.base_url))
    exchange(api, "DELETE", spec_path, url, 204)
    exchange(api, "GET", spec_path, url, 404)


def test_errors_match_the_default_schema(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    exchange(api, "GET", "/3/invoices", "/invoices?filter=doesntexist", 400)
    exchange(api, "POST", "/3/customers", "/customers", 400, {"Customer": {"Name": "X", "Nonsense": 1}})
    exchange(api, "POST", "/3/supplierinvoices", "/supplierinvoices", 400, {"SupplierInvoice": {"InvoiceNumber": "1"}})
    unauthorised = httpx.get(f"{sandbox.api_url}/customers")
    assert unauthorised.status_code == 401
    validate(response_schema("/3/customers", "GET", 401), unauthorised.json())


def test_the_archive_answers_raw_pdf_bytes(api: httpx.Client) -> None:
    connection = first(api, "supplierinvoicefileconnections", "SupplierInvoiceFileConnections")
    assert SPEC["paths"]["/3/archive/{id}"]["get"]["responses"]["200"]["content"]
    response = api.get(f"/archive/{connection['FileId']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    exchange(api, "GET", "/3/archive/{id}", f"/archive/{uuid.uuid4()}", 404)


def test_company_information_matches_the_spec_exactly(api: httpx.Client, sandbox: FortnoxSandbox) -> None:
    """The one-record resource: every field of `fortnox_CompanyInfo` and no other (the schema would allow extras)."""
    body = exchange(api, "GET", "/3/companyinformation", "/companyinformation", 200)
    assert list(body) == ["CompanyInformation"]
    assert set(body["CompanyInformation"]) == set(SPEC["components"]["schemas"]["fortnox_CompanyInfo"]["properties"])
    assert body["CompanyInformation"] == sandbox.state.company_information
    refused = api.put("/companyinformation", json={"CompanyInformation": {"CompanyName": "Annat AB"}})
    assert refused.status_code == 405  # the spec has only GET; the body is the spec's error, as elsewhere
    validate(response_schema("/3/companyinformation", "GET", 405), refused.json())
    assert api.get("/companyinformation").json() == body


def test_null_allowances_are_real_fields() -> None:
    """A typo in NULLABLE or EMPTY would silently allow nothing: every name must be a property of its schema."""
    source = json.loads(SUBSET.read_text(encoding="utf-8"))["components"]["schemas"]
    for allowances in (NULLABLE, EMPTY):
        for name, fields in allowances.items():
            assert set(fields.split()) <= set(source[name]["properties"]), name
    assert copy.deepcopy(SPEC) == SPEC  # loading is deterministic and self-contained
