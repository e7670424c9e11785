"""Shapes: the fields of an entity, their kinds and defaults, and how request values are checked.

Kinds follow the OpenAPI types; "date" is a string YYYY-MM-DD, "obj" a nested object, "rows" a
list of nested objects. Amounts are Decimals while computed and written as Fortnox writes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.fortnox.errors import (
    INVALID_DATE, INVALID_FIELD, INVALID_VALUE, NOT_ALPHANUMERIC, NOT_BOOLEAN, NOT_NUMERIC, ApiError, no_data,
)
from connectors.sandbox.fortnox.state import Record

CENT = Decimal("0.01")
_KIND_DEFAULTS: dict[str, Any] = {
    "str": "", "num": 0, "int": 0, "bool": False, "date": None, "list": [], "rows": [], "obj": None,
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# ---------------------------------------------------------------------------------------------
# Amounts


def _not_numeric(value: Any) -> ApiError:
    return ApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})")


def dec(value: Any) -> Decimal:
    """A field value as a Decimal: unset is 0, anything else that is no number a 400."""
    if value in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _not_numeric(value) from None


def json_number(value: Decimal) -> int | float:
    """A JSON number as Fortnox writes it: 10, not 10.0."""
    return int(value) if value == value.to_integral_value() else float(value)


def amount_text(value: Decimal) -> str:
    """An amount the spec types as a string (supplier invoices): "6250", "1234.5"."""
    return str(json_number(value))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def is_date(text: str) -> bool:
    """Whether `text` is a real date written YYYY-MM-DD."""
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Shapes


@dataclass(frozen=True)
class Shape:
    """One entity's fields: kind and new-record value of each, nested shapes, allowed values."""

    kinds: Mapping[str, str]
    defaults: Mapping[str, Any]
    nested: Mapping[str, Shape]
    enums: Mapping[str, tuple[str, ...]]
    containers: tuple[str, ...]  # fields a new record needs a fresh object or list in

    def blank(self) -> Record:
        record = dict(self.defaults)
        for name in self.containers:
            record[name] = self.nested[name].blank() if self.kinds[name] == "obj" else []
        return record

    def view(self, record: Record) -> Record:
        return {name: record[name] for name in self.kinds}

    def merge(self, old: Record | None, changes: Record) -> Record:
        """`old` (a new record if None) with `changes` applied: objects field by field, lists (rows)
        replaced whole."""
        base = old or self.blank()
        merged = dict(base)
        for name, value in changes.items():
            merged[name] = {**(base.get(name) or {}), **value} if self.kinds.get(name) == "obj" else value
        return merged

    def check(self, fields: Any) -> Record:
        """Fields of a request body as typed values; an unknown name or a bad value is a 400."""
        if not isinstance(fields, dict):
            raise no_data()
        checked = {}
        for name, value in fields.items():
            if name.startswith("@"):
                continue  # @url and the like, as a client sends an entity back: ignored (guess)
            if name not in self.kinds:
                raise ApiError(400, INVALID_FIELD, f"Felaktigt fältnamn ({name})")
            checked[name] = self._value(name, self.kinds[name], value)
        return checked

    def _value(self, name: str, kind: str, value: Any) -> Any:
        if value is None or value == "API_BLANK":  # API_BLANK is Fortnox's way of asking for an empty field
            if kind in ("str", "date"):
                return "" if value == "API_BLANK" and kind == "str" else None
            return {} if kind == "obj" else [] if kind in ("list", "rows") else _KIND_DEFAULTS[kind]
        if kind == "str":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ApiError(400, NOT_ALPHANUMERIC, f"Värdet måste vara alfanumeriskt ({value})")
            text = str(value)
            if name in self.enums and text and text not in self.enums[name]:
                raise ApiError(400, INVALID_VALUE, f"Ogiltigt värde för {name} ({text})")
            return text
        if kind in ("num", "int"):
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _not_numeric(value)
            number = dec(value)
            if kind == "int" and number != number.to_integral_value():
                raise _not_numeric(value)
            return int(number) if kind == "int" else json_number(number)
        if kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise ApiError(400, NOT_BOOLEAN, f"Värdet måste vara en boolean ({value})")
            return value
        if kind == "date":
            if value == "":
                return None
            if not isinstance(value, str) or not is_date(value):
                raise ApiError(400, INVALID_DATE, f"Ogiltigt datum för {name} ({value})")
            return value
        if kind == "obj":
            return self.nested[name].check(value)
        if not isinstance(value, list):
            raise no_data()
        return [self.nested[name].check(row) for row in value] if kind == "rows" else value


def shape(
    spec: str,
    defaults: Mapping[str, Any] | None = None,
    nested: Mapping[str, Shape] | None = None,
    enums: Mapping[str, tuple[str, ...]] | None = None,
) -> Shape:
    """A shape from lines ``kind: Name Name ...`` (continued on lines without a colon); fields come
    out in alphabetical order, as Fortnox's do."""
    kinds: dict[str, str] = {}
    kind = ""
    for line in spec.strip().splitlines():
        if ":" in line:
            kind, line = (part.strip() for part in line.split(":", 1))
        kinds.update(dict.fromkeys(line.split(), kind))
    kinds = dict(sorted(kinds.items()))
    values = {name: _KIND_DEFAULTS[kind] for name, kind in kinds.items()} | dict(defaults or {})
    containers = tuple(name for name, kind in kinds.items() if kind in ("obj", "list", "rows"))
    return Shape(kinds, values, dict(nested or {}), dict(enums or {}), containers)
