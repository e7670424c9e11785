"""Fortnox records to canonical models, and the table of what an import sync pulls.

Fortnox sends blanks as empty strings and amounts as numbers or strings; the typed records
in `connectors.fortnox` already read both, so what is left here is naming and meaning:
Fortnox's project states, its "Balance" as what is still due, a credit invoice as a credit note.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tasks.runtime import task
from pydantic import BaseModel

from connectors import fortnox as fx
from models.invoices import Invoice, SupplierInvoice
from models.parties import Customer, Employee, Supplier
from models.products import Product
from models.projects import Project
from models.spelling import validate_batch
from tasks.mapping.batch import Mapped, model_issues

PROJECT_STATUS = {"NOTSTARTED": "inactive", "ONGOING": "active", "COMPLETED": "completed"}
ZERO = Decimal("0")


def _blank(value: Any) -> Any:
    return None if value == "" else value


def _address(street: str | None, postal_code: str | None, city: str | None, country: str | None) -> dict | None:
    if not (street and postal_code and city):
        return None  # a partial address is no address to send anything to
    return {"street": street, "postal_code": postal_code, "city": city, "country": country or "SE"}


def _terms_days(code: str | None) -> int:
    """Fortnox terms-of-payment codes are named by their days ("30", "10DGR"); none means 30 days."""
    match = re.search(r"\d+", code or "")
    return int(match.group()) if match else 30


def _party(record: fx.Customer | fx.Supplier) -> dict[str, Any]:
    return {
        "name": record.name,
        "registration_number": _blank(record.organisation_number),
        "email": _blank(record.email),
        "phone": _blank(record.phone),
        "address": _address(_blank(record.address1), _blank(record.zip_code), _blank(record.city),
                            _blank(record.country_code)),
        "payment_terms_days": _terms_days(getattr(record, "terms_of_payment", None)),
        "currency": _blank(record.currency) or "SEK",
        "is_active": record.active is not False,
    }


def customer(record: fx.Customer) -> dict[str, Any]:
    return {"customer_number": record.customer_number, **_party(record)}


def supplier(record: fx.Supplier) -> dict[str, Any]:
    return {"supplier_number": record.supplier_number, **_party(record)}


def project(record: fx.Project) -> dict[str, Any]:
    return {
        "project_number": record.project_number,
        "project_name": record.description,
        "project_leader": _blank(record.project_leader),
        "status": PROJECT_STATUS.get(record.status or "ONGOING", record.status),
        "start_date": record.start_date,
        "end_date": record.end_date,
    }


def product(record: fx.Article) -> dict[str, Any]:
    return {
        "product_number": record.article_number,
        "name": _blank(record.description) or record.article_number,
        "unit": _blank(record.unit) or "st",
        "sales_price": record.sales_price or ZERO,
        "cost_price": record.purchase_price,
        "vat_code": f"MP{int(record.vat)}" if record.vat is not None else "MP1",
        "revenue_account_number": str(getattr(record, "SalesAccount", None) or 3001),
        "inventory_enabled": bool(getattr(record, "StockGoods", False)),
        "is_active": record.active is not False,
    }


def employee(record: fx.Employee) -> dict[str, Any]:
    name = _blank(record.full_name) or " ".join(p for p in (record.first_name, record.last_name) if p)
    return {"employee_number": record.employee_id, "name": name, "email": _blank(record.email),
            "phone": _blank(record.phone1), "is_active": not record.inactive}


def supplier_invoice(record: fx.SupplierInvoice) -> dict[str, Any]:
    return {
        "given_number": record.given_number,
        "invoice_number": record.invoice_number,
        "supplier_number": record.supplier_number,
        "supplier_name": record.supplier_name,
        "invoice_date": record.invoice_date,
        "due_date": record.due_date,
        "total": record.total,
        "vat": record.vat,
        "currency": record.currency or "SEK",
        "ocr": _blank(record.ocr),
        "project": _blank(record.project),
        "comments": _blank(record.comments),
        "rows": [
            {"account": str(row.account), "code": _blank(row.code), "article_number": _blank(row.article_number),
             "description": _blank(row.item_description), "quantity": row.quantity or ZERO, "price": row.price or ZERO,
             "total": row.total if row.total is not None else ZERO}
            for row in record.supplier_invoice_rows
        ],
    }


def _invoice_status(record: fx.Invoice) -> str:
    if record.cancelled:
        return "cancelled"
    if record.booked and record.balance == ZERO:
        return "paid"
    return "sent" if record.booked else "draft"


def invoice(record: fx.Invoice) -> dict[str, Any]:
    lines = []
    for number, row in enumerate(record.invoice_rows, start=1):
        net = row.total or ZERO
        rate = row.vat or ZERO
        lines.append({
            "line_number": number,
            "product_number": _blank(row.article_number),
            "description": _blank(row.description) or _blank(row.article_number) or "-",
            "quantity": row.delivered_quantity or ZERO,
            "unit_price": row.price or ZERO,
            "discount_percent": row.discount or ZERO,
            "vat_rate": rate,
            "account_number": str(row.account_number) if row.account_number else None,
            "line_total": net,
            "vat_amount": (net * rate / 100).quantize(Decimal("0.01")),
        })
    total, balance = record.total or ZERO, record.balance if record.balance is not None else record.total or ZERO
    return {
        "invoice_number": record.document_number,
        "type": "credit_note" if getattr(record, "Credit", "false") in (True, "true") else "invoice",
        "status": _invoice_status(record),
        "customer_number": record.customer_number,
        "customer_name": record.customer_name,
        "invoice_date": record.invoice_date,
        "due_date": record.due_date,
        "currency": record.currency or "SEK",
        "lines": lines,
        "subtotal": record.net,
        "vat_amount": record.total_vat,
        "rounding": Decimal(str(getattr(record, "RoundOff", 0) or 0)),
        "total": total,
        "amount_due": balance,
        "paid_amount": total - balance,
        "ocr": _blank(record.ocr),
        "reference": _blank(record.your_reference),
    }


@dataclass(frozen=True)
class Dataset:
    """One Fortnox resource as the import sync pulls it."""

    name: str
    resource: fx.Resource[Any]
    entity_type: str
    model: type[BaseModel]
    to_canonical: Callable[[Any], dict[str, Any]]
    detail: bool  # list items lack fields the canonical model needs: fetch each changed record


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("customers", fx.CUSTOMERS, "customer", Customer, customer, detail=False),
        Dataset("suppliers", fx.SUPPLIERS, "supplier", Supplier, supplier, detail=False),
        Dataset("projects", fx.PROJECTS, "project", Project, project, detail=False),
        Dataset("articles", fx.ARTICLES, "product", Product, product, detail=False),
        Dataset("employees", fx.EMPLOYEES, "employee", Employee, employee, detail=False),
        Dataset("supplier_invoices", fx.SUPPLIER_INVOICES, "supplier_invoice", SupplierInvoice, supplier_invoice,
                detail=True),
        Dataset("invoices", fx.INVOICES, "invoice", Invoice, invoice, detail=True),
    )
}


def map_records(dataset: Dataset, records: list[fx.FortnoxRecord]) -> Mapped[tuple[str, BaseModel]]:
    """Canonical models for a batch of Fortnox records, keyed by their Fortnox number."""
    mapped: Mapped[tuple[str, BaseModel]] = Mapped()
    rows = [dataset.to_canonical(record) for record in records]
    models, failures = validate_batch(dataset.model, rows)
    id_field = dataset.resource.id_field
    for position, (record, model) in enumerate(zip(records, models, strict=True)):
        external_id = str(record.model_dump(by_alias=True)[id_field])
        if model is not None:
            mapped.records.append((external_id, model))
            continue
        mapped.issues += model_issues(
            failures[position], None, record.model_dump(by_alias=True, mode="json"),
            f"Correct {dataset.resource.item_key} {external_id} in Fortnox; it is imported again when it changes",
        )
    return mapped


@task(name="map-fortnox")
def map_fortnox(dataset: Dataset, records: list[fx.FortnoxRecord]) -> Mapped[tuple[str, BaseModel]]:
    return map_records(dataset, records)


# --------------------------------------------------------------------------- canonical -> Fortnox
def customer_payload(model: Customer) -> dict[str, Any]:
    """The Fortnox customer for a canonical one; the customer number is kept, so it is the shared key."""
    address = model.address
    payload: dict[str, Any] = {
        "CustomerNumber": model.customer_number,
        "Name": model.name,
        "OrganisationNumber": model.registration_number or "",
        "Email": model.email or "",
        "Phone1": model.phone or "",
        "Currency": model.currency,
        "TermsOfPayment": str(model.payment_terms_days),
        "Active": model.is_active,
    }
    if address:
        payload |= {"Address1": address.street, "ZipCode": address.postal_code, "City": address.city,
                    "CountryCode": address.country}
    return payload


def invoice_payload(model: Invoice, local_id: str) -> dict[str, Any]:
    """The Fortnox invoice for a canonical one. Fortnox numbers invoices itself, so our id goes in
    ExternalInvoiceReference1: that is how an export interrupted after the create finds it again."""
    return {
        "CustomerNumber": model.customer_number,
        "InvoiceDate": model.invoice_date.isoformat(),
        "DueDate": model.due_date.isoformat(),
        "Currency": model.currency,
        "YourReference": model.reference or "",
        "ExternalInvoiceReference1": local_id,
        "InvoiceRows": [
            {
                "ArticleNumber": line.product_number or "",
                "Description": line.description,
                "DeliveredQuantity": str(line.quantity),
                "Price": float(line.unit_price),
                "Discount": float(line.discount_percent),
                "DiscountType": "PERCENT",
                "VAT": int(line.vat_rate) if line.vat_rate == int(line.vat_rate) else float(line.vat_rate),
                **({"AccountNumber": int(line.account_number)} if line.account_number else {}),
            }
            for line in model.lines
        ],
    }
