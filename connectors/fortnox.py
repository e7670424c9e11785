"""Fortnox API v3: typed records and a client for the resources ledgerflow reads and writes.

Facts (``reference/notes/apis.md`` §1): bodies are wrapped in the singular (one record) or
plural (lists, with ``MetaInformation``) PascalCase entity name; ids are strings; amounts
arrive as numbers or numeric strings; list items are subsets without rows; ``limit`` is at most
500; errors come as ``ErrorInformation`` with PascalCase *or* lowercase keys, as a gateway
``{"message": ...}`` (401), or as OAuth ``{"error", "error_description"}``. The rate limit is
25 requests per sliding 5 seconds per access token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from connectors.http import ApiClient, RateLimit, RetryPolicy, TokenSource, paginate
from connectors.oauth import OAuthEndpoints

API_URL = "https://api.fortnox.se/3/"
OAUTH = OAuthEndpoints("https://apps.fortnox.se/oauth-v1/auth", "https://apps.fortnox.se/oauth-v1/token")
SCOPES = ["article", "companyinformation", "customer", "invoice", "offer", "project", "salary", "supplier",
          "supplierinvoice", "timereporting", "archive", "connectfile", "settings"]
PAGE_SIZE = 500  # Fortnox's maximum


def limits(requests_per_5s: int = 25) -> tuple[RateLimit, ...]:
    """Fortnox's limit (25 per sliding 5 s, so 300 a minute) with 5 % of headroom, so that a request
    sent exactly as a window closes is not counted in it by the server's clock."""
    return (RateLimit(requests_per_5s, 5.25), RateLimit(requests_per_5s * 12, 63.0))


LIMITS = limits()
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def parse_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from any of Fortnox's error shapes."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:500]
    if not isinstance(body, dict):
        return None, str(body)[:500]
    info = body.get("ErrorInformation")
    if isinstance(info, dict):
        lowered = {key.lower(): value for key, value in info.items()}
        code = lowered.get("code")
        return (str(code) if code is not None else None), str(lowered.get("message", ""))
    if "error" in body:
        return str(body["error"]), str(body.get("error_description", ""))
    return None, str(body.get("message", body))[:500]


def lastmodified(moment: dt.datetime) -> str:
    """The `lastmodified` parameter: Swedish local time, to the second."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


def _loose_decimal(value: Any) -> Any:
    if value in ("", None):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _loose_text(value: Any) -> Any:
    return None if value is None else str(value)


Amount = Annotated[Decimal | None, BeforeValidator(_loose_decimal)]
Text = Annotated[str | None, BeforeValidator(_loose_text)]


class FortnoxRecord(BaseModel):
    """A Fortnox record: the fields we use are typed, the rest are kept as sent."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow", frozen=True)

    url: str | None = Field(None, alias="@url")


class SupplierInvoiceRow(FortnoxRecord):
    account: int | None = None
    code: Text = None
    article_number: Text = None
    item_description: Text = None
    quantity: Amount = None
    price: Amount = None
    debit: Amount = None
    credit: Amount = None
    total: Amount = None
    project: Text = None
    cost_center: Text = None


class SupplierInvoiceItem(FortnoxRecord):
    """A supplier invoice as lists show it (no rows, no VAT)."""

    given_number: str
    invoice_number: Text = None
    supplier_number: str
    supplier_name: Text = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    total: Amount = None
    balance: Amount = None
    currency: Text = None
    project: Text = None
    booked: bool | None = None


class SupplierInvoice(SupplierInvoiceItem):
    vat: Amount = Field(None, alias="VAT")
    ocr: Text = Field(None, alias="OCR")
    comments: Text = None
    cancelled: bool | None = None
    your_reference: Text = None
    our_reference: Text = None
    vat_type: Text = Field(None, alias="VATType")
    supplier_invoice_rows: list[SupplierInvoiceRow] = Field(default_factory=list)


class FileConnection(FortnoxRecord):
    file_id: str
    name: Text = None
    supplier_invoice_number: str
    supplier_name: Text = None


class Project(FortnoxRecord):
    project_number: str
    description: str
    status: Text = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    project_leader: Text = None
    contact_person: Text = None
    comments: Text = None


class Party(FortnoxRecord):
    """What suppliers and customers have in common in Fortnox."""

    name: str
    organisation_number: Text = None
    address1: Text = None
    zip_code: Text = None
    city: Text = None
    country_code: Text = None
    email: Text = None
    phone: Text = None
    currency: Text = None
    active: bool | None = None


class Supplier(Party):
    supplier_number: str
    bg: Text = Field(None, alias="BG")
    pg: Text = Field(None, alias="PG")


class Customer(Party):
    customer_number: str
    type: Text = None
    terms_of_payment: Text = None


class InvoiceRow(FortnoxRecord):
    row_id: int | None = None
    article_number: Text = None
    description: Text = None
    delivered_quantity: Amount = None
    price: Amount = None
    vat: Amount = Field(None, alias="VAT")
    discount: Amount = None
    account_number: int | None = None
    total: Amount = None
    project: Text = None
    cost_center: Text = None


class Invoice(FortnoxRecord):
    document_number: str
    customer_number: str
    customer_name: Text = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: Text = None
    net: Amount = None
    total_vat: Amount = Field(None, alias="TotalVAT")
    total: Amount = None
    balance: Amount = None
    ocr: Text = Field(None, alias="OCR")
    booked: bool | None = None
    cancelled: bool | None = None
    your_reference: Text = None
    external_invoice_reference1: Text = None
    invoice_rows: list[InvoiceRow] = Field(default_factory=list)


class Article(FortnoxRecord):
    article_number: str
    description: Text = None
    unit: Text = None
    sales_price: Amount = None
    purchase_price: Amount = None
    vat: Amount = Field(None, alias="VAT")
    active: bool | None = None


class Employee(FortnoxRecord):
    employee_id: str
    full_name: Text = None
    first_name: Text = None
    last_name: Text = None
    email: Text = None
    phone1: Text = None
    inactive: bool | None = None


class Offer(FortnoxRecord):
    document_number: str
    customer_number: str
    customer_name: Text = None
    offer_date: dt.date | None = None
    expire_date: dt.date | None = None
    project: Text = None
    total: Amount = None
    total_vat: Amount = Field(None, alias="TotalVAT")
    currency: Text = None


class AttendanceTransaction(FortnoxRecord):
    id: Text = None
    employee_id: str
    date: dt.date
    cause_code: Text = None
    hours: Amount = None
    project: Text = None
    cost_center: Text = None


class SalaryTransaction(FortnoxRecord):
    salary_row: Text = None
    employee_id: str
    salary_code: Text = None
    date: dt.date
    number: Amount = None
    amount: Amount = None
    total: Amount = None
    project: Text = None
    text_row: Text = Field(None, alias="TextRow")


class CompanyInformation(FortnoxRecord):
    """The company whose Fortnox database the token opens (GET companyinformation, schema `fortnox_CompanyInfo`,
    scope `companyinformation`); one record, not a list, and without `@url`."""

    company_name: Text = None
    organization_number: Text = None  # NNNNNN-NNNN
    address: Text = None
    zip_code: Text = None
    city: Text = None
    country_code: Text = None
    database_number: int | None = None
    visit_address: Text = None
    visit_zip_code: Text = None
    visit_city: Text = None
    visit_country_code: Text = None


R = TypeVar("R", bound=FortnoxRecord)


@dataclass(frozen=True)
class Resource(Generic[R]):
    """One Fortnox resource: where it lives, how its bodies are wrapped, and its record types."""

    path: str
    list_key: str
    item_key: str
    id_field: str
    model: type[R]
    list_model: type[FortnoxRecord] | None = None

    @property
    def item_type(self) -> type[FortnoxRecord]:
        return self.list_model or self.model


SUPPLIER_INVOICES = Resource("supplierinvoices", "SupplierInvoices", "SupplierInvoice", "GivenNumber",
                             SupplierInvoice, SupplierInvoiceItem)
FILE_CONNECTIONS = Resource("supplierinvoicefileconnections", "SupplierInvoiceFileConnections",
                            "SupplierInvoiceFileConnection", "FileId", FileConnection)
PROJECTS = Resource("projects", "Projects", "Project", "ProjectNumber", Project)
SUPPLIERS = Resource("suppliers", "Suppliers", "Supplier", "SupplierNumber", Supplier)
CUSTOMERS = Resource("customers", "Customers", "Customer", "CustomerNumber", Customer)
INVOICES = Resource("invoices", "Invoices", "Invoice", "DocumentNumber", Invoice)
ARTICLES = Resource("articles", "Articles", "Article", "ArticleNumber", Article)
EMPLOYEES = Resource("employees", "Employees", "Employee", "EmployeeId", Employee)
OFFERS = Resource("offers", "Offers", "Offer", "DocumentNumber", Offer)
ATTENDANCE = Resource("attendancetransactions", "AttendanceTransactions", "AttendanceTransaction", "Id",
                      AttendanceTransaction)
SALARY = Resource("salarytransactions", "SalaryTransactions", "SalaryTransaction", "SalaryRow", SalaryTransaction)


class FortnoxClient:
    """Typed access to Fortnox. One client per tenant; its requests share the tenant's rate limit."""

    def __init__(self, api: ApiClient, page_size: int = PAGE_SIZE) -> None:
        self.api = api
        self.page_size = page_size

    @classmethod
    def for_tenant(
        cls,
        tenant_id: str,
        tokens: TokenSource,
        base_url: str = API_URL,
        retry: RetryPolicy | None = None,
        limits: tuple[RateLimit, ...] = LIMITS,
        transport: httpx.BaseTransport | None = None,
        page_size: int = PAGE_SIZE,
        store: sa.Engine | None = None,
    ) -> FortnoxClient:
        """With `store` (the engine of ``models.store``), the token's rate limit is shared with every
        process and machine using that store; without, with this process's other clients of the tenant."""
        return cls(
            ApiClient(
                system="fortnox", base_url=base_url.rstrip("/") + "/", tokens=tokens, limits=limits,
                limiter_key=f"fortnox:{tenant_id}:{base_url}", store=store, tenant_id=tenant_id,
                retry=retry or RetryPolicy(), error_parser=parse_error, transport=transport,
            ),
            page_size,
        )

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> FortnoxClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----------------------------------------------------------------- generic
    def list(self, resource: Resource[R], **params: Any) -> Iterator[FortnoxRecord]:
        """Every item of a list, page by page; `params` are Fortnox's own query parameters."""
        query = {key: value for key, value in params.items() if value is not None}

        def page(number: int) -> tuple[list[FortnoxRecord], int]:
            body = self.api.get_json(resource.path, {**query, "limit": self.page_size, "page": number})
            meta = body.get("MetaInformation", {})
            items = [resource.item_type.model_validate(item) for item in body.get(resource.list_key, [])]
            return items, int(meta.get("@TotalPages", 1))

        return paginate(page)

    def get(self, resource: Resource[R], key: str) -> R:
        return resource.model.model_validate(self.api.get_json(f"{resource.path}/{key}")[resource.item_key])

    def create(self, resource: Resource[R], fields: dict[str, Any]) -> R:
        body = self.api.request("POST", resource.path, json={resource.item_key: fields}).json()
        return resource.model.model_validate(body[resource.item_key])

    def update(self, resource: Resource[R], key: str, fields: dict[str, Any]) -> R:
        """A partial update: only `fields` change."""
        body = self.api.request("PUT", f"{resource.path}/{key}", json={resource.item_key: fields}).json()
        return resource.model.model_validate(body[resource.item_key])

    def delete(self, resource: Resource[R], key: str) -> None:
        self.api.request("DELETE", f"{resource.path}/{key}")

    def action(self, resource: Resource[R], key: str, action: str) -> R:
        body = self.api.request("PUT", f"{resource.path}/{key}/{action}").json()
        return resource.model.model_validate(body[resource.item_key])

    # ----------------------------------------------------------------- the company
    def company_information(self) -> CompanyInformation:
        """Name, organisation number and addresses of the tenant's own company."""
        return CompanyInformation.model_validate(self.api.get_json("companyinformation")["CompanyInformation"])

    # ----------------------------------------------------------------- supplier invoices
    def supplier_invoices(self, since: dt.datetime | None = None, **params: Any) -> Iterator[SupplierInvoiceItem]:
        return self.list(SUPPLIER_INVOICES, lastmodified=lastmodified(since) if since else None, **params)  # type: ignore[return-value]

    def supplier_invoice(self, given_number: str) -> SupplierInvoice:
        return self.get(SUPPLIER_INVOICES, given_number)

    def set_supplier_invoice_project(self, given_number: str, project: str, comments: str) -> SupplierInvoice:
        """Write the validated project and a comment (seed 002 §5.1: PUT `Project` and `Comments`)."""
        return self.update(SUPPLIER_INVOICES, given_number, {"Project": project, "Comments": comments})

    def file_connections(self, given_number: str) -> list[FileConnection]:
        return list(self.list(FILE_CONNECTIONS, supplierinvoicenumber=given_number))  # type: ignore[arg-type]

    def archive_file(self, file_id: str) -> bytes:
        """The bytes of an archived file (the supplier invoice's PDF)."""
        return self.api.request("GET", f"archive/{file_id}", accept="application/octet-stream").content
