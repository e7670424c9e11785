"""A property-management system's customers and rent invoices (seed 000's "fastighetssystem").

Stands in for the system ledgerflow exports *from*: the demo loads these canonical records
and sends them to the Fortnox sandbox. Amounts follow the DQ-004 rules exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from models.invoices import Invoice
from models.parties import Customer

SYSTEM = "fastighetssystem"
TENANTS = ["Brf Kvarnen", "Café Fyris AB", "Tandläkare Öberg AB", "Frisör Åsa HB", "Uppsala Cykel AB",
           "Bokhandeln Svartbäcken AB"]


def customers_and_invoices(seed: int = 7, month: dt.date = dt.date(2026, 11, 1)) -> tuple[
    list[tuple[str, Customer]], list[tuple[str, Invoice]]
]:
    """One customer per commercial tenant and a month's rent invoice each (rent is VAT-able at 25 %)."""
    rng = random.Random(seed)
    customers, invoices = [], []
    for number, name in enumerate(TENANTS, start=1):
        customer_number = f"FS{100 + number}"
        customers.append((customer_number, Customer(customer_number=customer_number, name=name, payment_terms_days=30,
                                                    currency="SEK", is_active=True)))
        rent = Decimal(rng.randrange(60, 400) * 100)
        vat = (rent * Decimal("0.25")).quantize(Decimal("0.01"))
        invoice_number = f"H{month:%Y%m}-{number:03d}"
        invoices.append((invoice_number, Invoice(
            invoice_number=invoice_number, status="sent", customer_number=customer_number, customer_name=name,
            invoice_date=month, due_date=month + dt.timedelta(days=30), currency="SEK",
            lines=[{"line_number": 1, "description": f"Hyra lokal {month:%B %Y}", "quantity": "1",
                    "unit_price": str(rent), "vat_rate": "25", "line_total": str(rent), "vat_amount": str(vat)}],
            subtotal=rent, vat_amount=vat, total=rent + vat, amount_due=rent + vat, paid_amount=Decimal("0.00"),
        )))
    return customers, invoices
