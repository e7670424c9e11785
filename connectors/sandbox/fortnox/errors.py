"""Fortnox's error codes and the bodies the sandbox answers with.

Captured quirks kept on purpose (apis.md §1): 404 bodies in PascalCase but every other
ErrorInformation in lower case, and compact JSON with non-ASCII escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

# Documented by Fortnox (errors page, captured responses, apis.md §1.5):
SYSTEM_EXCEPTION = 1000003
NOT_ALPHANUMERIC = 2000106
NOT_NUMERIC = 2000108
NOT_BOOLEAN = 2000134
CUSTOMER_MISSING = 2000204  # a document names a customer that does not exist
INVALID_FILTER = 2000587
INVALID_PARAMETER = 2000588
CUSTOMER_NUMBER_USED = 2000637
NO_SCOPE = 2000663
NOT_BALANCED = 2000755
ARTICLE_MISSING = 2001302
ACCOUNT_MISSING = 2001304
NO_DATA = 2001392
INVALID_FIELD = 2001399
INVALID_JSON = 2002115
# Invented: Fortnox publishes no code for these. All are 20990xx so they are easy to recognise.
SUPPLIER_INVOICE_NOT_FOUND = 2099001
SUPPLIER_NOT_FOUND = 2099002
FILE_CONNECTION_NOT_FOUND = 2099003
ARCHIVE_FILE_NOT_FOUND = 2099004
EMPLOYEE_NOT_FOUND = 2099005
OFFER_NOT_FOUND = 2099006
ATTENDANCE_NOT_FOUND = 2099007
SALARY_TRANSACTION_NOT_FOUND = 2099008
UNKNOWN_PATH = 2099009
METHOD_NOT_ALLOWED = 2099010
MISSING_FIELD = 2099011
INVALID_DATE = 2099012
INVALID_VALUE = 2099013
NUMBER_USED = 2099014
FILE_CONNECTED = 2099015
DOCUMENT_BOOKED = 2099016
DOCUMENT_CANCELLED = 2099017
NOT_BOOKED = 2099018
ALREADY_CREDITED = 2099019
SANDBOX_RULE = 2099020  # the default code of a /_sandbox/rules rule


class ApiError(Exception):
    """A Fortnox ErrorInformation answer."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message)


def refuse(condition: bool, code: int, message: str) -> None:
    """A 400 with `code` when `condition` holds."""
    if condition:
        raise ApiError(400, code, message)


def no_data() -> ApiError:
    """A body, or a field in it, that is missing or of the wrong type."""
    return ApiError(400, NO_DATA, "Ingen eller felaktig typ av data.")


def fortnox_json(
    content: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """Compact JSON with non-ASCII escaped (``\\u00e4``), as Fortnox writes it."""
    return Response(json.dumps(content, separators=(",", ":")), status, headers, media_type)


def error_response(status: int, code: int, message: str) -> Response:
    """404s come with PascalCase keys and every other error with lower-case ones: captured that way."""
    keys = ("Error", "Message", "Code") if status == 404 else ("error", "message", "code")
    return fortnox_json({"ErrorInformation": dict(zip(keys, (1, message, code)))}, status)
