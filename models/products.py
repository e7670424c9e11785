"""Articles sold on invoice lines (seed 003 §2.2 Product)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from models.types import CanonicalModel, Money, Quantity


class Product(CanonicalModel):
    """Seed 003 §2.2 Product: supplies the price, VAT code and revenue account an invoice line defaults to."""

    product_number: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    unit: str = Field(min_length=1)
    sales_price: Money = Field(ge=0)
    cost_price: Annotated[Money, Field(ge=0)] | None = None
    vat_code: str = Field(min_length=1)
    revenue_account_number: str = Field(min_length=1)
    inventory_enabled: bool
    stock_quantity: Quantity | None = None
    is_active: bool
