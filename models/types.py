"""Value types shared by every canonical model.

Money, rates and codes are validated at the boundary so that nothing downstream has to
guess: INT-01-DQ-002 asks for ISO 8601 dates and amounts as decimals with two places.
Amounts with more than two significant decimals are *rejected*, never rounded, because a
silently rounded amount is a wrong amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

TWO_PLACES = Decimal("0.01")
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # what the store's integer columns hold
ONE = Decimal(1)
# The store's columns for amounts and quantities (NUMERIC(precision, places), models/tables.py), and
# what they hold. A larger amount would fail the whole load at the database, and a quantity with
# more places would be rounded by it without a word.
NUMERIC_PRECISION, MONEY_PLACES, QUANTITY_PLACES = 18, 2, 6
MONEY_LIMIT = Decimal(10) ** (NUMERIC_PRECISION - MONEY_PLACES)
QUANTITY_LIMIT = Decimal(10) ** (NUMERIC_PRECISION - QUANTITY_PLACES)


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if abs(value) >= MONEY_LIMIT:
        raise ValueError(f"amount {value} is out of range: at most {NUMERIC_PRECISION - MONEY_PLACES} digits "
                         "before the decimal point")
    quantized = value.quantize(TWO_PLACES)
    if quantized != value:
        raise ValueError(f"amount {value} has more than 2 decimals (INT-01-DQ-002)")
    return quantized


@lru_cache(maxsize=1024)  # a handful of codes, each looked up in pycountry's list once, not once per record
def _iso4217(value: str) -> str:
    code = value.strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def is_money(metadata: list[Any]) -> bool:
    """Whether a field's Annotated metadata is that of `Money` (the store gives it NUMERIC(18, 2))."""
    return any(getattr(m, "func", None) is _two_places for m in metadata)


# Text, integers, floats (through their shortest repr: 2500000.0 -> 2500000.0) and decimals are
# read by pydantic itself; the validators only add the rules of the store and of DQ-002.
Money = Annotated[
    Decimal,
    AfterValidator(_two_places),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
"""An amount with exactly two decimals (INT-01-DQ-002); serialised to JSON as a string."""


def swedish_amount(value: Decimal | str, unit: str | None = None, *, minus: str = "-") -> str:
    """An amount as Swedes print it: ``-1234.5`` -> ``-1 234,50``, and with `unit` ``-1 234,50 kr``.

    Thousands are grouped and the unit set off with no-break spaces, so that neither a terminal,
    a mail client nor a browser splits the amount across lines. Print may pass U+2212 as `minus`.
    """
    amount = Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    whole, _, cents = format(abs(amount), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u00a0")
    text = f"{minus if amount < 0 else ''}{grouped},{cents}"
    return f"{text}\u00a0{unit}" if unit else text


def _normalised(value: Decimal) -> Decimal:
    """7.50 -> 7.5, 10.000000 -> 10, -0 -> 0: one spelling per number, whatever the source or the
    store wrote (NUMERIC(18, 6) gives 7.5 back as 7.500000), so a record's row hash and its
    audited states read the same after a round trip through the database."""
    if not value.is_finite():
        raise ValueError("quantity must be a finite number")
    if abs(value) >= QUANTITY_LIMIT:
        raise ValueError(f"quantity {value} is out of range: at most {NUMERIC_PRECISION - QUANTITY_PLACES} digits "
                         "before the decimal point")
    if not value:
        return Decimal(0)
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if exponent < -QUANTITY_PLACES:  # type: ignore[operator]  (finite: an int)
        raise ValueError(f"quantity {value} has more than {QUANTITY_PLACES} decimals")
    return normal.quantize(ONE) if exponent > 0 else normal  # type: ignore[operator]  # 1E+1 -> 10


Quantity = Annotated[
    Decimal,
    AfterValidator(_normalised),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
"""A count or rate that may carry more decimals than money (hours, quantities, VAT %), normalised."""

Currency = Annotated[str, AfterValidator(_iso4217)]
"""ISO 4217 alphabetic code, upper case."""


class CanonicalModel(BaseModel):
    """Base of every canonical entity.

    Python names are snake_case; the camelCase names of the seed documents and of the
    source APIs (``projectNumber``, ``invoiceDate``) are accepted as aliases, so a raw
    record can be validated directly.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        populate_by_name=True,
        alias_generator=to_camel,
    )
