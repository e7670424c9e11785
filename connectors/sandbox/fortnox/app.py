"""The Fortnox API v3 as the sandbox serves it: resources, OAuth, the gateway in front, admin.

Our Fortnox client is tested against this over HTTP, so Fortnox's quirks are reproduced on
purpose (apis.md §1): 404 bodies in PascalCase but every other ErrorInformation in lower case, a
gateway 401 that is no ErrorInformation at all, OAuth errors with the wrong Content-Type, amounts
that are strings on supplier invoices and numbers elsewhere, nulls for unset values as captured
responses show them. Every resource is one entry in `RESOURCES`; the handlers are generic over
it. Where Fortnox's behaviour is not documented, the choice made here is marked "guess".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import uuid
from base64 import b64decode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields as dataclass_fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox.fortnox import pdf
from connectors.sandbox.fortnox.state import STOCKHOLM, Faults, Record, Rule, SandboxState

# ---------------------------------------------------------------------------------------------
# Error codes. Documented by Fortnox (errors page, captured responses, apis.md §1.5):
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

ALL_SCOPES = "archive article connectfile customer invoice offer project salary supplier supplierinvoice"
FIRST_FINANCIAL_YEAR = 2016  # the sandbox company's financial year 1; VoucherYear is a year id (guess)
SUPPLIER_INVOICE_SERIES = "D"  # Fortnox's default voucher series for supplier invoices
CENT = Decimal("0.01")

ACCOUNTS = {
    2440: "Leverantörsskulder",
    2614: "Utgående moms omvänd skattskyldighet, 25 %",
    2641: "Debiterad ingående moms",
    2647: "Ingående moms omvänd skattskyldighet",
    3001: "Försäljning inom Sverige, 25 % moms",
    3041: "Försäljning tjänst inom Sverige, 25 % moms",
    3740: "Öres- och kronutjämning",
    4010: "Inköp material och varor",
    4600: "Legoarbeten och underentreprenader",
    5010: "Lokalhyra",
    5220: "Hyra av inventarier och verktyg",
    5410: "Förbrukningsinventarier",
    5460: "Förbrukningsmaterial",
    5611: "Drivmedel för personbilar",
    6110: "Kontorsmateriel",
    6212: "Mobiltelefon",
    6540: "IT-tjänster",
}


class ApiError(Exception):
    """A Fortnox ErrorInformation answer."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message)


def fortnox_json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Compact JSON with non-ASCII escaped (``\\u00e4``), as Fortnox writes it."""
    return Response(json.dumps(content, separators=(",", ":")), status, headers, "application/json")


def error_response(status: int, code: int, message: str) -> Response:
    """404s come with PascalCase keys and every other error with lower-case ones: captured that way."""
    keys = ("Error", "Message", "Code") if status == 404 else ("error", "message", "code")
    return fortnox_json({"ErrorInformation": dict(zip(keys, (1, message, code)))}, status)


# ---------------------------------------------------------------------------------------------
# Amounts


def _dec(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})") from None


def json_number(value: Decimal) -> int | float:
    """A JSON number as Fortnox writes it: 10, not 10.0."""
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: Decimal) -> str:
    """An amount the spec types as a string (supplier invoices): "6250", "1234.5"."""
    return str(json_number(value))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# Shapes: the fields of each entity, their kinds and defaults. Kinds follow the OpenAPI types;
# "date" is a string YYYY-MM-DD, "obj" a nested object, "rows" a list of nested objects.

_KIND_DEFAULTS: dict[str, Any] = {
    "str": "", "num": 0, "int": 0, "bool": False, "date": None, "list": [], "rows": [], "obj": None,
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

    def merge(self, old: Record, changes: Record) -> Record:
        """`old` with `changes` applied: objects field by field, lists (rows) replaced whole."""
        merged = dict(old)
        for name, value in changes.items():
            merged[name] = {**(old.get(name) or {}), **value} if self.kinds.get(name) == "obj" else value
        return merged

    def check(self, fields: Any) -> Record:
        """Fields of a request body as typed values; an unknown name or a bad value is a 400."""
        if not isinstance(fields, dict):
            raise ApiError(400, NO_DATA, "Ingen eller felaktig typ av data.")
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
                raise ApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})")
            number = _dec(value)
            if kind == "int" and number != number.to_integral_value():
                raise ApiError(400, NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})")
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
            if not isinstance(value, str) or not _DATE.match(value) or not _is_date(value):
                raise ApiError(400, INVALID_DATE, f"Ogiltigt datum för {name} ({value})")
            return value
        if kind == "obj":
            return self.nested[name].check(value)
        if not isinstance(value, list):
            raise ApiError(400, NO_DATA, "Ingen eller felaktig typ av data.")
        return [self.nested[name].check(row) for row in value] if kind == "rows" else value


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


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


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _nulls(names: str) -> dict[str, None]:
    """Fields a new record leaves null, as captured Fortnox responses show them."""
    return dict.fromkeys(names.split())


VOUCHER_FIELDS = "VoucherNumber VoucherSeries VoucherYear"

SUPPLIER_INVOICE_ROW = shape(
    """
    int: Account Quantity
    str: AccountDescription ArticleNumber Code CostCenter ItemDescription Project StockLocationCode StockPointCode
        TransactionInformation Unit
    num: Credit CreditCurrency Debit DebitCurrency Price Total
    """,
    _nulls("StockLocationCode StockPointCode"),
    enums={"Code": ("TOT", "VAT", "FRT", "AFE", "ROV", "CND", "CNC", "PRD", "PRC", "SRD", "SRC", "PRE", "GWB", "ACC")},
)
SUPPLIER_INVOICE = shape(
    """
    str: AccountingMethod AdministrationFee Balance Comments CostCenter Currency CurrencyRate ExternalInvoiceNumber
        ExternalInvoiceSeries Freight GivenNumber InvoiceNumber OCR OurReference Project RoundOffValue SalesType
        SupplierName SupplierNumber Total VAT VATType VoucherSeries YourReference
    bool: Booked Cancelled Credit DisablePaymentFile PaymentPending
    int: CreditReference VoucherNumber VoucherYear
    num: CurrencyUnit
    date: DueDate FinalPayDate InvoiceDate
    rows: SupplierInvoiceRows
    list: Vouchers
    """,
    {
        "AccountingMethod": "ACCRUAL", "AdministrationFee": "0", "Balance": "0", "Currency": "SEK", "CurrencyRate": "1",
        "CurrencyUnit": 1, "Freight": "0", "RoundOffValue": "0", "SalesType": "STOCK", "Total": "0", "VAT": "0",
        "VATType": "NORMAL", **_nulls(VOUCHER_FIELDS),
    },
    {"SupplierInvoiceRows": SUPPLIER_INVOICE_ROW},
    {
        "AccountingMethod": ("ACCRUAL", "CASH"),
        "SalesType": ("STOCK", "SERVICE"),
        "VATType": ("NORMAL", "EUINTERNAL", "REVERSE"),
    },
)
SUPPLIER_INVOICE_FILE_CONNECTION = shape("str: FileId Name SupplierInvoiceNumber SupplierName")
PROJECT = shape(
    """
    str: Comments ContactPerson Description ProjectLeader ProjectNumber Status
    date: EndDate StartDate
    """,
    {"Status": "ONGOING", "ProjectLeader": None},
    enums={"Status": ("NOTSTARTED", "ONGOING", "COMPLETED")},
)
SUPPLIER = shape(
    """
    bool: Active DisablePaymentFile
    str: Address1 Address2 BG BIC Bank BankAccountNumber BranchCode City ClearingNumber Comments CostCenter Country
        CountryCode Currency Email Fax IBAN Name OrganisationNumber OurCustomerNumber OurReference PG Phone1 Phone2
        PreDefinedAccount Project SupplierNumber TermsOfPayment VATNumber VATType VisitingAddress VisitingCity
        VisitingCountry VisitingCountryCode VisitingZipCode WWW WorkPlace YourReference ZipCode
    """,
    {"Active": True, "Currency": "SEK", "PreDefinedAccount": None, "VATType": "NORMAL"},
)
CUSTOMER = shape(
    """
    bool: Active ShowPriceVATIncluded
    str: Address1 Address2 City Comments CostCenter Country CountryCode Currency CustomerNumber DeliveryAddress1
        DeliveryAddress2 DeliveryCity DeliveryCountry DeliveryCountryCode DeliveryFax DeliveryName DeliveryPhone1
        DeliveryPhone2 DeliveryZipCode Email EmailInvoice EmailInvoiceBCC EmailInvoiceCC EmailOffer EmailOfferBCC
        EmailOfferCC EmailOrder EmailOrderBCC EmailOrderCC ExternalReference Fax GLN GLNDelivery
        InvoiceAdministrationFee InvoiceFreight InvoiceRemark Name OrganisationNumber OurReference Phone1 Phone2
        PriceList Project SalesAccount TermsOfDelivery TermsOfPayment Type VATNumber VATType VisitingAddress
        VisitingCity VisitingCountry VisitingCountryCode VisitingZipCode WWW WayOfDelivery YourReference ZipCode
    obj: DefaultDeliveryTypes DefaultTemplates
    num: InvoiceDiscount
    """,
    {
        "Active": True, "Currency": "SEK", "PriceList": "A", "Type": "COMPANY", "VATType": "SEVAT",
        **_nulls(
            "Address1 Address2 City Comments CostCenter Country CountryCode DeliveryAddress1 DeliveryAddress2 "
            "DeliveryCity DeliveryCountry DeliveryCountryCode DeliveryFax DeliveryName DeliveryPhone1 DeliveryPhone2 "
            "DeliveryZipCode ExternalReference Fax GLN GLNDelivery InvoiceAdministrationFee InvoiceDiscount "
            "InvoiceFreight Phone1 Phone2 SalesAccount VisitingAddress VisitingCity VisitingCountry "
            "VisitingCountryCode VisitingZipCode ZipCode"
        ),
    },
    {
        "DefaultDeliveryTypes": shape(
            "str: Invoice Offer Order", dict.fromkeys(_names("Invoice Offer Order"), "PRINT")
        ),
        "DefaultTemplates": shape(
            "str: CashInvoice Invoice Offer Order",
            dict.fromkeys(_names("CashInvoice Invoice Offer Order"), "DEFAULTTEMPLATE"),
        ),
    },
    {"Type": ("PRIVATE", "COMPANY"), "VATType": ("SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")},
)
ARTICLE = shape(
    """
    bool: Active Bulky Expired Housework StockGoods WebshopArticle
    str: ArticleNumber CostCalculationMethod DefaultStockLocation DefaultStockPoint Description EAN HouseworkType
        Manufacturer ManufacturerArticleNumber Note StockPlace SupplierName SupplierNumber Type Unit
    int: ConstructionAccount Depth EUAccount EUVATAccount ExportAccount Height PurchaseAccount SalesAccount
        StockAccount StockChangeAccount Weight Width
    num: DirectCost DisposableQuantity FreightCost OtherCost PurchasePrice QuantityInStock ReservedQuantity SalesPrice
        StockValue StockWarning VAT
    """,
    {
        "Active": True, "Type": "STOCK", "VAT": 25, "ConstructionAccount": 3231, "EUAccount": 3108,
        "EUVATAccount": 3106, "ExportAccount": 3105,
        "PurchaseAccount": 4000, "SalesAccount": 3001,
        **_nulls(
            "CostCalculationMethod DefaultStockLocation DefaultStockPoint DirectCost FreightCost HouseworkType "
            "Manufacturer OtherCost SalesPrice StockAccount StockChangeAccount StockPlace SupplierName SupplierNumber "
            "Unit"
        ),
    },
    enums={"Type": ("STOCK", "SERVICE")},
)
EMPLOYEE = shape(
    """
    num: ATFValue ATKValue AbsenceHoursNonVacationBased AbsenceHoursVacationBased AbsenceWorkdaysNonVacationBased
        AbsenceWorkdaysVacationBased CurrentCompBalance CurrentFlexBalance FullTimeEquivalent InitialComp InitialFlex
        NonVacationBasedCalendarDaysPartial NonVacationBasedCalendarDaysWhole PreliminaryTaxDeducted
        VacationBasedAttendanceDays VacationBasedAttendanceHours VacationBasedCalendarDaysWhole
        VacationBasedSalaryTotal VacationBasedSalaryVariableAddition VacationBasedSalaryWorkedTime
        VacationCalculationAdvanceVacationDebt VacationCalculationTotalVacationSalarySum
        VacationCalculationVacationEntitlement VacationCalculationVariableAdditionSum VacationDaysPaid
        VacationDaysPendingPaid VacationDaysPendingPrepaid VacationDaysPendingSaved VacationDaysPendingSavedYear1
        VacationDaysPendingSavedYear2 VacationDaysPendingSavedYear3 VacationDaysPendingSavedYear4
        VacationDaysPendingSavedYear5 VacationDaysPendingSavedYear6Plus VacationDaysPendingUnpaid VacationDaysPrepaid
        VacationDaysRegisteredPaid VacationDaysRegisteredPrepaid VacationDaysRegisteredSaved
        VacationDaysRegisteredSavedYear1 VacationDaysRegisteredSavedYear2 VacationDaysRegisteredSavedYear3
        VacationDaysRegisteredSavedYear4 VacationDaysRegisteredSavedYear5 VacationDaysRegisteredSavedYear6Plus
        VacationDaysRegisteredUnpaid VacationDaysSaved VacationDaysSavedEmploymentRateYear1
        VacationDaysSavedEmploymentRateYear2 VacationDaysSavedEmploymentRateYear3
        VacationDaysSavedEmploymentRateYear4 VacationDaysSavedEmploymentRateYear5
        VacationDaysSavedEmploymentRateYear6Plus VacationDaysSavedYear1 VacationDaysSavedYear2 VacationDaysSavedYear3
        VacationDaysSavedYear4 VacationDaysSavedYear5 VacationDaysSavedYear6Plus VacationDaysUnpaid
    str: Address1 Address2 AverageHourlyWage AverageWeeklyHours BankAccountNo City ClearingNo CostCenter Country Email
        EmployeeId EmploymentForm FirstName ForaType FullName HourlyPay JobTitle LastName MonthlySalary
        NonRecurringTax PayslipType PersonalIdentityNumber PersonelType Phone1 Phone2 PostCode Project SalaryForm
        ScheduleId TaxAllowance TaxTable WorkingTimeEnumeration
    bool: AutoNonRecurringTax Inactive VacationCalculationIncludeInCalculation VacationCalculationSameWagePercent
        VacationCalculationSoleCustody VacationCalculationSumOnlyNoDays
    list: DatedSchedules DatedWages EmployeeCategories EmployeeChildren OpeningSalaries
    date: EmployedTo EmploymentDate
    int: TaxColumn
    """,
    {
        "EmploymentForm": "TV", "ForaType": "A", "FullTimeEquivalent": 1, "PayslipType": "pdf", "PersonelType": "ARB",
        "SalaryForm": "MAN", "TaxAllowance": "HUV", "TaxColumn": 1,
    },
    enums={"SalaryForm": ("MAN", "TIM"), "PersonelType": ("TJM", "ARB"), "PayslipType": ("pdf", "digital", "kivra")},
)
ATTENDANCE_TRANSACTION = shape(
    """
    str: CauseCode CostCenter EmployeeId Hours Project id
    date: Date
    """,
    enums={"CauseCode": (
        "ARB", "BE2", "BER", "FLX", "HLG", "JO2", "JOR", "MER", "OB1", "OB2", "OB3", "OB4", "OB5", "OK0", "OK1",
        "OK2", "OK3", "OK4", "OK5", "OT1", "OT2", "OT3", "OT4", "OT5", "RES", "TID",
    )},
)
SALARY_TRANSACTION = shape(
    """
    str: Amount CostCenter EmployeeId Expense Number Project SalaryCode TextRow Total VAT
    date: Date
    int: SalaryRow
    """
)


def _email(subject: str) -> Shape:
    return shape(
        "str: EmailAddressBCC EmailAddressCC EmailAddressFrom EmailAddressTo EmailBody EmailSubject",
        {**_nulls("EmailAddressBCC EmailAddressCC EmailAddressFrom"), "EmailBody": " ", "EmailSubject": subject},
    )


SALES_ROW_ENUMS = {"DiscountType": ("AMOUNT", "PERCENT")}
EDI_NULLS = (
    "EDIGlobalLocationNumber EDIGlobalLocationNumberDelivery EDIInvoiceExtra1 EDIInvoiceExtra2 "
    "EDIOurElectronicReference EDIYourElectronicReference"
)
INVOICE_ROW = shape(
    """
    int: AccountNumber HouseWorkHoursToReport RowId VAT
    str: ArticleNumber ContributionPercent ContributionValue CostCenter DeliveredQuantity Description DiscountType
        HouseWorkType Project StockPointCode Unit VATCode
    num: Cost Discount Price PriceExcludingVAT Total TotalExcludingVAT
    bool: HouseWork
    """,
    {
        "AccountNumber": 3001, "ContributionPercent": "0", "ContributionValue": "0", "DeliveredQuantity": "0",
        "DiscountType": "PERCENT", "VAT": 25, **_nulls("HouseWorkHoursToReport HouseWorkType StockPointCode"),
    },
    enums=SALES_ROW_ENUMS,
)
INVOICE = shape(
    """
    str: AccountingMethod Address1 Address2 City Comments CostCenter Country Credit CreditInvoiceReference Currency
        CustomerName CustomerNumber DeliveryAddress1 DeliveryAddress2 DeliveryCity DeliveryCountry DeliveryName
        DeliveryZipCode DocumentNumber ExternalInvoiceReference1 ExternalInvoiceReference2 InvoicePeriodReference
        InvoiceReference InvoiceType Language OCR OfferReference OrderReference OrganisationNumber OurReference
        PaymentWay Phone1 Phone2 PriceList PrintTemplate Project Remarks TaxReductionType TermsOfDelivery
        TermsOfPayment VoucherSeries WayOfDelivery YourOrderNumber YourReference ZipCode
    num: AdministrationFee AdministrationFeeVAT Balance BasisTaxReduction ContributionPercent ContributionValue
        CurrencyRate Freight FreightVAT Gross Net RoundOff Total TotalToPay TotalVAT
    bool: Booked Cancelled EUQuarterlyReport HouseWork NotCompleted NoxFinans Sent VATIncluded WarehouseReady
    int: ContractReference CurrencyUnit Reminders TaxReduction TimeBasisReference VoucherNumber VoucherYear
    date: DeliveryDate DueDate FinalPayDate InvoiceDate InvoicePeriodEnd InvoicePeriodStart LastRemindDate OutboundDate
    obj: EDIInformation EmailInformation
    rows: InvoiceRows
    list: Labels
    """,
    {
        "AccountingMethod": "ACCRUAL", "Credit": "false", "CreditInvoiceReference": "0", "Currency": "SEK",
        "CurrencyRate": 1, "CurrencyUnit": 1, "InvoicePeriodEnd": "", "InvoicePeriodStart": "", "InvoiceReference": "0",
        "InvoiceType": "INVOICE",
        "Language": "SV", "OfferReference": "0", "OrderReference": "0", "PriceList": "A", "PrintTemplate": "st",
        "TaxReductionType": "none", "TermsOfPayment": "30", "WarehouseReady": True,
        **_nulls(f"TaxReduction TimeBasisReference {VOUCHER_FIELDS}"),
    },
    {
        "EDIInformation": shape(
            f"str: EDIStatus {EDI_NULLS}", _nulls(EDI_NULLS),
        ),
        "EmailInformation": _email("Faktura {no} bifogas"),
        "InvoiceRows": INVOICE_ROW,
    },
    {
        "InvoiceType": ("INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE"),
        "Language": ("SV", "EN"),
        "TaxReductionType": ("none", "rot", "rut", "green"),
    },
)
OFFER_ROW = shape(
    """
    int: AccountNumber RowId VAT
    str: ArticleNumber ContributionPercent ContributionValue CostCenter Description DiscountType HouseWorkType Project
        Quantity Unit VATCode
    num: Discount HouseWorkHoursToReport Price Total
    bool: HouseWork
    """,
    {
        "AccountNumber": 3001, "ContributionPercent": "0", "ContributionValue": "0", "DiscountType": "PERCENT",
        "Quantity": "0", "VAT": 25, **_nulls("HouseWorkHoursToReport HouseWorkType"),
    },
    enums=SALES_ROW_ENUMS,
)
OFFER = shape(
    """
    str: Address1 Address2 City Comments CostCenter Country Currency CustomerName CustomerNumber DeliveryAddress1
        DeliveryAddress2 DeliveryCity DeliveryCountry DeliveryName DeliveryZipCode DocumentNumber InvoiceReference
        Language OrderReference OrganisationNumber OurReference Phone1 Phone2 PriceList PrintTemplate Project Remarks
        TaxReductionType TermsOfDelivery TermsOfPayment WayOfDelivery YourReference YourReferenceNumber ZipCode
    num: AdministrationFee AdministrationFeeVAT BasisTaxReduction ContributionPercent ContributionValue CurrencyRate
        Freight FreightVAT Gross Net RoundOff Total TotalToPay TotalVAT
    bool: Cancelled CopyRemarks HouseWork NotCompleted Sent VATIncluded
    int: CurrencyUnit TaxReduction
    date: DeliveryDate ExpireDate OfferDate
    obj: EmailInformation
    rows: OfferRows
    list: Labels
    """,
    {
        "Currency": "SEK", "CurrencyRate": 1, "CurrencyUnit": 1, "InvoiceReference": "0", "Language": "SV",
        "OrderReference": "0", "PriceList": "A", "PrintTemplate": "offert", "TaxReductionType": "none",
        "TermsOfPayment": "30", "TaxReduction": None,
    },
    {"EmailInformation": _email("Offert {no} bifogas"), "OfferRows": OFFER_ROW},
    {"TaxReductionType": ("none", "rot", "rut", "green")},
)

# ---------------------------------------------------------------------------------------------
# What happens to a record when it is written. A `Prepare` gets the stored record (None on
# create) and the checked changes, and returns the new record, or raises ApiError.

Prepare = Callable[[SandboxState, Record | None, Record], Record]


def _plain(entity: Shape) -> Prepare:
    def prepare(state: SandboxState, old: Record | None, changes: Record) -> Record:
        return entity.merge(old or entity.blank(), changes)

    return prepare


def _referenced(
    state: SandboxState, resource: str, ident: Any, code: int | None = None, message: str | None = None
) -> Record:
    """The record a write refers to; a missing one is a 400 (the resource's not-found code unless given)."""
    record = state.get(resource, str(ident))
    if record is None:
        not_found = RESOURCES[resource].not_found
        raise ApiError(400, code or not_found[0], message or not_found[1])
    return record


def _check_project(state: SandboxState, record: Record) -> None:
    if record.get("Project"):
        _referenced(state, "projects", record["Project"])


def _refuse(condition: bool, code: int, message: str) -> None:
    if condition:
        raise ApiError(400, code, message)


def _employee(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = EMPLOYEE.merge(old or EMPLOYEE.blank(), changes)
    record["FullName"] = f"{record['FirstName'] or ''} {record['LastName'] or ''}".strip()
    return record


def _file_connection(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = SUPPLIER_INVOICE_FILE_CONNECTION.merge(old or SUPPLIER_INVOICE_FILE_CONNECTION.blank(), changes)
    file = state.archive.get(record["FileId"])
    _refuse(file is None, ARCHIVE_FILE_NOT_FOUND, "Kan inte hitta filen.")
    invoice = _referenced(state, "supplierinvoices", record["SupplierInvoiceNumber"])
    return {**record, "Name": file.name, "SupplierName": invoice["SupplierName"]}


def _attendance(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = ATTENDANCE_TRANSACTION.merge(old or ATTENDANCE_TRANSACTION.blank(), changes)
    _referenced(state, "employees", record["EmployeeId"])
    _check_project(state, record)
    return record


def _salary(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = SALARY_TRANSACTION.merge(old or SALARY_TRANSACTION.blank(), changes)
    _referenced(state, "employees", record["EmployeeId"])
    _check_project(state, record)
    if "Total" not in changes:
        record["Total"] = _text(_cents(_dec(record["Number"] or 0) * _dec(record["Amount"] or 0)))
    return record


# Customer documents (invoices, offers): the customer's details, priced rows, totals.

ARTICLE_DEFAULTS = {  # row field -> the article field it defaults to
    "Description": "Description", "Price": "SalesPrice", "Unit": "Unit", "VAT": "VAT", "AccountNumber": "SalesAccount",
}
CUSTOMER_COPY = {  # document field -> the customer field it defaults to
    "CustomerName": "Name", "Address1": "Address1", "Address2": "Address2", "ZipCode": "ZipCode", "City": "City",
    "Country": "Country", "OrganisationNumber": "OrganisationNumber", "Phone1": "Phone1", "Phone2": "Phone2",
    "YourReference": "YourReference", "OurReference": "OurReference", "TermsOfPayment": "TermsOfPayment",
    "PriceList": "PriceList", "Currency": "Currency",
}


def _priced_row(state: SandboxState, row_shape: Shape, given: Record, quantity_field: str) -> Record:
    row = row_shape.merge(row_shape.blank(), given)
    if row["ArticleNumber"]:
        article = _referenced(state, "articles", row["ArticleNumber"], ARTICLE_MISSING, "Kunde inte hitta artikel")
        for name, source in ARTICLE_DEFAULTS.items():
            if name not in given and article[source] is not None:
                row[name] = article[source]
    _check_project(state, row)
    gross = _dec(row[quantity_field]) * _dec(row["Price"])
    discount = _dec(row["Discount"])
    total = _cents(gross * (1 - discount / 100) if row["DiscountType"] == "PERCENT" else gross - discount)
    row.update(Total=json_number(total), RowId=row["RowId"] or state.next_counter("RowId"))
    if "TotalExcludingVAT" in row:  # invoice rows have these, offer rows not
        row.update(PriceExcludingVAT=row["Price"], TotalExcludingVAT=row["Total"])
    return row


def _customer_document(
    state: SandboxState, entity: Shape, old: Record | None, changes: Record, rows: str, quantity: str, date: str
) -> Record:
    _refuse(bool(old and old.get("Booked")), DOCUMENT_BOOKED, "Dokumentet är bokfört och kan inte ändras.")
    _refuse(bool(old and old.get("Cancelled")), DOCUMENT_CANCELLED, "Dokumentet är makulerat och kan inte ändras.")
    record = entity.merge(old or entity.blank(), changes)
    customer = _referenced(
        state, "customers", record["CustomerNumber"], CUSTOMER_MISSING, "Kunde inte hämta/hitta kund (kundnummer)"
    )
    if old is None or "CustomerNumber" in changes:
        for name, source in CUSTOMER_COPY.items():
            if name not in changes and customer[source]:
                record[name] = customer[source]
    _check_project(state, record)
    record[date] = record[date] or state.today().isoformat()
    if old is None or rows in changes:
        record[rows] = [_priced_row(state, entity.nested[rows], row, quantity) for row in record[rows]]
    net = sum((_dec(row["Total"]) for row in record[rows]), Decimal(0))
    fees = _dec(record["Freight"]) + _dec(record["AdministrationFee"])
    vat = sum((_cents(_dec(row["Total"]) * _dec(row["VAT"]) / 100) for row in record[rows]), _cents(fees / 4))
    exact = net + fees + vat
    total = exact.quantize(Decimal(1), ROUND_HALF_UP)  # Fortnox rounds documents to whole kronor by default
    record.update(
        Net=json_number(net),
        Gross=json_number(net + fees),
        TotalVAT=json_number(vat),
        FreightVAT=json_number(_cents(_dec(record["Freight"]) / 4)),
        AdministrationFeeVAT=json_number(_cents(_dec(record["AdministrationFee"]) / 4)),
        RoundOff=json_number(total - exact),
        Total=json_number(total),
        TotalToPay=json_number(total),
    )
    return record


def _days_after(date: str, days: str) -> str:
    return (dt.date.fromisoformat(date) + dt.timedelta(days=int(days) if days.isdigit() else 30)).isoformat()


def ocr_number(base: str) -> str:
    """Fortnox's invoice OCR: the number, a length digit and a Luhn check digit (captured: 115 -> 11551)."""
    with_length = f"{base}{(len(base) + 2) % 10}"
    return with_length + luhn_digit(with_length)


def luhn_digit(payload: str) -> str:
    """The 10-modul check digit (domain.md §1.1): weights 2,1,2,... from the right of the payload."""
    total = 0
    for i, char in enumerate(reversed(payload)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def _invoice(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = _customer_document(state, INVOICE, old, changes, "InvoiceRows", "DeliveredQuantity", "InvoiceDate")
    if "DueDate" not in changes and (old is None or {"InvoiceDate", "TermsOfPayment"} & changes.keys()):
        record["DueDate"] = _days_after(record["InvoiceDate"], record["TermsOfPayment"] or "30")
    if old is None:
        customer = state.get("customers", record["CustomerNumber"]) or {}
        record["OCR"] = record["OCR"] or ocr_number(record["DocumentNumber"])
        record["OutboundDate"] = record["OutboundDate"] or record["InvoiceDate"]
        email = record["EmailInformation"]
        if not email["EmailAddressTo"]:
            address = customer.get("EmailInvoice") or customer.get("Email") or ""
            record["EmailInformation"] = {**email, "EmailAddressTo": address}
    record["Balance"] = record["Total"]
    return record


def _offer(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = _customer_document(state, OFFER, old, changes, "OfferRows", "Quantity", "OfferDate")
    record["ExpireDate"] = record["ExpireDate"] or _days_after(record["OfferDate"], "30")
    return record


# Supplier invoices: ledger rows that must balance, amounts as strings, a small state machine.

BOOKED_EDITABLE = frozenset({"Comments", "OurReference", "YourReference"})  # header text only (guess, apis.md §1.6)


def _ledger_row(given: Record) -> Record:
    row = SUPPLIER_INVOICE_ROW.merge(SUPPLIER_INVOICE_ROW.blank(), given)
    _refuse(not 1000 <= row["Account"] <= 9999, ACCOUNT_MISSING, f"Kunde inte hitta konto ({row['Account']})")
    debit, credit = _dec(row["Debit"]), _dec(row["Credit"])
    if not debit and not credit:  # only Total given: its sign says the side
        total = _dec(row["Total"])
        debit, credit = max(total, Decimal(0)), max(-total, Decimal(0))
    row.update(
        Debit=json_number(debit),
        Credit=json_number(credit),
        DebitCurrency=json_number(debit),
        CreditCurrency=json_number(credit),
        Total=json_number(debit - credit),
        AccountDescription=row["AccountDescription"] or ACCOUNTS.get(row["Account"], ""),
        # the spec's Code has no empty value; a row sent without one is coded as Fortnox's own rows are (guess)
        Code=row["Code"] or {2440: "TOT", 2641: "VAT"}.get(row["Account"], "PRE"),
    )
    return row


def _default_rows(total: Decimal, vat: Decimal, account: int) -> list[Record]:
    """The rows Fortnox makes when a supplier invoice comes with a total but no rows (guess)."""
    rows = [
        {"Account": 2440, "Code": "TOT", "Credit": json_number(total)},
        {"Account": account, "Code": "PRE", "Debit": json_number(total - vat)},
    ]
    if vat:
        rows.insert(1, {"Account": 2641, "Code": "VAT", "Debit": json_number(vat)})
    return rows


def _balance(rows: list[Record], code: str) -> Decimal:
    """Debit minus credit over the rows with `code`."""
    return sum((_dec(row["Debit"]) - _dec(row["Credit"]) for row in rows if row["Code"] == code), Decimal(0))


def _supplier_invoice(state: SandboxState, old: Record | None, changes: Record) -> Record:
    if old is not None:
        _refuse(old["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte ändras.")
        editable = BOOKED_EDITABLE | ({"Project"} if state.project_editable_after_booking else set())
        changed = {name for name, value in changes.items() if value != old.get(name)}
        locked = sorted(changed - editable) if old["Booked"] else []
        _refuse(bool(locked), DOCUMENT_BOOKED, f"Leverantörsfakturan är bokförd, {', '.join(locked)} kan inte ändras.")
    record = SUPPLIER_INVOICE.merge(old or SUPPLIER_INVOICE.blank(), changes)
    supplier = _referenced(state, "suppliers", record["SupplierNumber"])
    if old is None or "SupplierNumber" in changes:
        record["SupplierName"] = changes.get("SupplierName") or supplier["Name"]
    _check_project(state, record)
    record["InvoiceDate"] = record["InvoiceDate"] or state.today().isoformat()
    record["DueDate"] = record["DueDate"] or _days_after(record["InvoiceDate"], supplier["TermsOfPayment"] or "30")
    if old is None or "SupplierInvoiceRows" in changes:
        given = record["SupplierInvoiceRows"]
        if not given and "Total" in changes:
            predefined = supplier["PreDefinedAccount"] or ""
            account = int(predefined) if predefined.isdigit() else 4010
            given = _default_rows(_dec(record["Total"]), _dec(record["VAT"]), account)
        record["SupplierInvoiceRows"] = [_ledger_row(row) for row in given]
    rows = record["SupplierInvoiceRows"]
    if "Total" not in changes and (old is None or "SupplierInvoiceRows" in changes):
        record["Total"] = _text(-_balance(rows, "TOT"))
    if "VAT" not in changes and (old is None or "SupplierInvoiceRows" in changes):
        record["VAT"] = _text(_balance(rows, "VAT"))
    for name in ("Total", "VAT", "AdministrationFee", "Freight", "RoundOffValue", "CurrencyRate"):
        record[name] = _text(_dec(record[name]))
    if old is None or not old["Booked"]:
        record["Balance"] = record["Total"]
    return record


def _bookkeep(state: SandboxState, invoice: Record) -> Record:
    _refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte bokföras.")
    _refuse(invoice["Booked"], DOCUMENT_BOOKED, "Leverantörsfakturan är redan bokförd.")
    rows = invoice["SupplierInvoiceRows"]
    debit = sum((_dec(row["Debit"]) for row in rows), Decimal(0))
    credit = sum((_dec(row["Credit"]) for row in rows), Decimal(0))
    _refuse(not rows or _cents(debit) != _cents(credit), NOT_BALANCED, "Leverantörsfakturan balanserar inte")
    return {**invoice, **booked_supplier_invoice(state, invoice["InvoiceDate"])}


def voucher(state: SandboxState, date: str, series: str) -> Record:
    """The next voucher in `series` of the financial year of `date`."""
    year = int(date[:4]) - FIRST_FINANCIAL_YEAR + 1
    return {"Number": state.next_counter(f"voucher:{series}:{year}"), "Series": series, "Year": year}


def booked_supplier_invoice(state: SandboxState, date: str) -> Record:
    """What booking sets on a supplier invoice: its voucher in series D (bookkeep and the seed share this)."""
    entry = voucher(state, date, SUPPLIER_INVOICE_SERIES)
    return {
        "Booked": True, "Vouchers": [{**entry, "ReferenceType": "SUPPLIERINVOICE"}],
        "VoucherNumber": entry["Number"], "VoucherSeries": entry["Series"], "VoucherYear": entry["Year"],
    }


def _cancel(state: SandboxState, invoice: Record) -> Record:
    _refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är redan makulerad.")
    _refuse(
        invoice["Booked"], DOCUMENT_BOOKED, "En bokförd leverantörsfaktura kan inte makuleras, den måste krediteras."
    )
    return {**invoice, "Cancelled": True, "Balance": "0"}


CREDIT_COPIES = _names("SupplierNumber Project CostCenter OurReference YourReference Currency OCR VATType SalesType")


def _credit(state: SandboxState, invoice: Record) -> Record:
    """Books a credit invoice against a booked one; the original's CreditReference names it."""
    _refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte krediteras.")
    _refuse(not invoice["Booked"], NOT_BOOKED, "Endast bokförda leverantörsfakturor kan krediteras.")
    credited = invoice["Credit"] or bool(invoice["CreditReference"])
    _refuse(credited, ALREADY_CREDITED, "Leverantörsfakturan är redan krediterad.")
    today = state.today().isoformat()
    swapped = [
        {**{k: v for k, v in row.items() if k != "Total"}, "Debit": row["Credit"], "Credit": row["Debit"]}
        for row in invoice["SupplierInvoiceRows"]
    ]
    fields = {name: invoice[name] for name in CREDIT_COPIES}
    resource = RESOURCES["supplierinvoices"]
    credit = create(state, resource, {
        **fields, "InvoiceNumber": f"{invoice['InvoiceNumber']}-K", "InvoiceDate": today, "DueDate": today,
        "Total": _text(-_dec(invoice["Total"])), "VAT": _text(-_dec(invoice["VAT"])),
        "SupplierInvoiceRows": swapped,
    })
    credit = {**credit, "Credit": True, "CreditReference": int(invoice["GivenNumber"])}
    state.store(resource.path, credit["GivenNumber"], credit)
    return {**invoice, "CreditReference": int(credit["GivenNumber"])}


# ---------------------------------------------------------------------------------------------
# List filters: (record, today) -> whether the record belongs.

Filter = Callable[[Record, dt.date], bool]


def _unpaid(record: Record) -> bool:
    return record["Booked"] and not record["Cancelled"] and _dec(record["Balance"]) != 0


PAYMENT_FILTERS: dict[str, Filter] = {  # "unpaid" means booked and not fully paid (guess)
    "cancelled": lambda r, today: r["Cancelled"],
    "fullypaid": lambda r, today: r["Booked"] and not r["Cancelled"] and _dec(r["Balance"]) == 0,
    "unpaid": lambda r, today: _unpaid(r),
    "unpaidoverdue": lambda r, today: _unpaid(r) and (r["DueDate"] or "9999") < today.isoformat(),
    "unbooked": lambda r, today: not r["Booked"] and not r["Cancelled"],
}
SUPPLIER_INVOICE_FILTERS: dict[str, Filter] = {
    **PAYMENT_FILTERS,
    "pendingpayment": lambda r, today: r["PaymentPending"] and not r["Cancelled"],
    # not yet approved (attested) by anyone: unbooked with no AuthorizerName (guess)
    "authorizepending": lambda r, today: not r["Booked"] and not r["Cancelled"] and not r.get("AuthorizerName"),
}
ACTIVE_FILTERS: dict[str, Filter] = {
    "active": lambda r, today: r["Active"],
    "inactive": lambda r, today: not r["Active"],
}


def _ordered(record: Record) -> bool:
    return record["OrderReference"] not in ("", "0")


# What completes an offer is not documented: here an order or an invoice made from it (guess).
OFFER_FILTERS: dict[str, Filter] = {
    "cancelled": lambda r, today: r["Cancelled"],
    "expired": lambda r, today: (
        not r["Cancelled"] and not _ordered(r) and (r["ExpireDate"] or "9999") < today.isoformat()
    ),
    "completed": lambda r, today: _ordered(r) or r["InvoiceReference"] not in ("", "0"),
    "notcompleted": lambda r, today: not r["Cancelled"] and not _ordered(r) and r["InvoiceReference"] in ("", "0"),
    "ordercreated": lambda r, today: _ordered(r),
    "ordernotcreated": lambda r, today: not _ordered(r),
}

# ---------------------------------------------------------------------------------------------
# The resources

Action = Callable[[SandboxState, Record], Record]
CRUD = frozenset({"list", "get", "create", "update", "delete"})


def _as_text(name: str) -> Callable[[Record], Any]:
    """A list-item field the spec types as a string although the entity has a number (articles)."""
    return lambda record: None if record[name] is None else _text(_dec(record[name]))


@dataclass(frozen=True)
class Resource:
    """One Fortnox resource under /3/: how it is named, listed, found, written and acted on."""

    path: str
    singular: str
    plural: str
    id_field: str
    entity: Shape
    list_fields: tuple[str, ...]
    not_found: tuple[int, str]
    scope: str
    methods: frozenset[str] = frozenset({"list", "get", "create", "update"})
    prepare: Prepare | None = None
    required: tuple[str, ...] = ()
    read_only: frozenset[str] = frozenset()
    derived: Mapping[str, Callable[[Record], Any]] = field(default_factory=dict)
    filters: Mapping[str, Filter] = field(default_factory=dict)
    search: Mapping[str, str] = field(default_factory=dict)  # parameter -> field, case-insensitive "contains"
    exact: Mapping[str, str] = field(default_factory=dict)  # parameter -> field, equal
    date_field: str | None = None  # what fromdate/todate select on
    sort: Mapping[str, str] = field(default_factory=dict)  # sortby value -> field
    default_sort: tuple[str, ...] = ()
    actions: Mapping[str, Action] = field(default_factory=dict)
    duplicate: tuple[int, str] = (NUMBER_USED, "Numret {} används redan.")
    reserves_deleted_ids: bool = False  # customer numbers stay taken after a delete (documented for 2000637)
    new_id: Callable[[SandboxState, str], str] = lambda state, path: state.table(path).next_number()
    tax_reduction_filter: str | None = None  # invoices and offers link their tax reductions

    def write(self, state: SandboxState, old: Record | None, changes: Record) -> Record:
        return (self.prepare or _plain(self.entity))(state, old, changes)

    def url(self, base: str, record: Record) -> str:
        return f"{base}/3/{self.path}/{record[self.id_field]}"

    def full(self, base: str, record: Record) -> Record:
        extra = {}
        if self.tax_reduction_filter:
            extra["@urlTaxReductionList"] = (
                f"{base}/3/taxreductions?filter={self.tax_reduction_filter}&referencenumber={record[self.id_field]}"
            )
        return {"@url": self.url(base, record), **extra, **self.entity.view(record)}

    def item(self, base: str, record: Record) -> Record:
        item = {"@url": self.url(base, record)}
        for name in sorted((*self.list_fields, *self.derived)):
            item[name] = self.derived[name](record) if name in self.derived else record[name]
        return item


def _search(fields: str, **renamed: str) -> dict[str, str]:
    """Search parameters: Fortnox names most after the field, in lower case."""
    return {name.lower(): name for name in fields.split()} | renamed


def _phone(record: Record) -> Any:
    return record["Phone1"]


# What Fortnox sets itself on a customer invoice: the spec's InvoicePayload lacks these fields.
INVOICE_READ_ONLY = frozenset(INVOICE.kinds.keys() - set(_names(
    "Address1 Address2 AdministrationFee City Comments CostCenter Country CreditInvoiceReference Currency CurrencyRate "
    "CurrencyUnit CustomerName CustomerNumber DeliveryAddress1 DeliveryAddress2 DeliveryCity DeliveryCountry "
    "DeliveryDate DeliveryName DeliveryZipCode DocumentNumber DueDate EDIInformation EUQuarterlyReport "
    "EmailInformation "
    "ExternalInvoiceReference1 ExternalInvoiceReference2 Freight InvoiceDate InvoiceRows InvoiceType Labels Language "
    "NotCompleted OCR OurReference OutboundDate PaymentWay Phone1 Phone2 PriceList PrintTemplate Project Remarks "
    "TaxReductionType TermsOfDelivery TermsOfPayment VATIncluded WayOfDelivery YourOrderNumber YourReference ZipCode"
)))

RESOURCES: dict[str, Resource] = {
    resource.path: resource
    for resource in (
        Resource(
            "supplierinvoices", "SupplierInvoice", "SupplierInvoices", "GivenNumber", SUPPLIER_INVOICE,
            _names(
                "Balance Booked CostCenter Credit Currency CurrencyRate CurrencyUnit DueDate ExternalInvoiceNumber "
                "ExternalInvoiceSeries FinalPayDate GivenNumber InvoiceDate InvoiceNumber Project SupplierName "
                "SupplierNumber Total Vouchers"
            ),
            (SUPPLIER_INVOICE_NOT_FOUND, "Kan inte hitta leverantörsfakturan."), "supplierinvoice",
            prepare=_supplier_invoice,
            required=("SupplierNumber",),
            read_only=frozenset(_names(
                "GivenNumber Balance Booked Cancelled Credit CreditReference FinalPayDate PaymentPending Vouchers "
                "VoucherNumber VoucherSeries VoucherYear"
            )),
            derived={"AuthorizerName": lambda r: r.get("AuthorizerName", ""), "Cancel": lambda r: r["Cancelled"]},
            filters=SUPPLIER_INVOICE_FILTERS,
            search=_search("Project SupplierNumber OCR CostCenter"),
            date_field="InvoiceDate",
            # the spec lists no sortby for supplier invoices; these are a guess
            sort=_search("GivenNumber InvoiceDate DueDate InvoiceNumber SupplierName SupplierNumber Total"),
            actions={"bookkeep": _bookkeep, "cancel": _cancel, "credit": _credit},
        ),
        Resource(
            "supplierinvoicefileconnections", "SupplierInvoiceFileConnection", "SupplierInvoiceFileConnections",
            "FileId", SUPPLIER_INVOICE_FILE_CONNECTION, _names("FileId Name SupplierInvoiceNumber SupplierName"),
            (FILE_CONNECTION_NOT_FOUND, "Kan inte hitta filkopplingen."), "connectfile",
            methods=frozenset({"list", "get", "create", "delete"}),
            prepare=_file_connection,
            required=("FileId", "SupplierInvoiceNumber"),
            read_only=frozenset({"Name", "SupplierName"}),
            exact=_search("SupplierInvoiceNumber"),
            default_sort=("SupplierInvoiceNumber", "FileId"),
            duplicate=(FILE_CONNECTED, "Filen {} är redan kopplad till en leverantörsfaktura."),
        ),
        Resource(
            "projects", "Project", "Projects", "ProjectNumber", PROJECT,
            _names("Description EndDate ProjectLeader ProjectNumber StartDate Status"),
            (2001161, "Kan inte hitta projektet."), "project",
            methods=CRUD,
            required=("Description",),
        ),
        Resource(
            "suppliers", "Supplier", "Suppliers", "SupplierNumber", SUPPLIER,
            _names(
                "Active Address1 Address2 BG BIC BankAccountNumber City CostCenter CountryCode Currency "
                "DisablePaymentFile Email IBAN Name OrganisationNumber PG PreDefinedAccount Project SupplierNumber "
                "TermsOfPayment ZipCode"
            ),
            (SUPPLIER_NOT_FOUND, "Kan inte hitta leverantören."), "supplier",
            required=("Name",),
            derived={"Phone": _phone},
            filters=ACTIVE_FILTERS,  # the spec lists no parameters for suppliers; as for customers (guess)
            search=_search("Name SupplierNumber OrganisationNumber City Email ZipCode", phone="Phone1"),
            sort=_search("Name SupplierNumber"),
        ),
        Resource(
            "customers", "Customer", "Customers", "CustomerNumber", CUSTOMER,
            _names("Address1 Address2 City CustomerNumber Email Name OrganisationNumber ZipCode"),
            (2000433, "Kan inte hitta kunden."), "customer",
            methods=CRUD,
            required=("Name",),
            derived={"Phone": _phone},
            filters=ACTIVE_FILTERS,
            search=_search("CustomerNumber Name ZipCode City Email OrganisationNumber GLN GLNDelivery", phone="Phone1"),
            sort=_search("CustomerNumber Name"),
            duplicate=(
                CUSTOMER_NUMBER_USED, "Kundnummer {} används redan. Kundnumret har redan använts men blivit raderat."
            ),
            reserves_deleted_ids=True,
        ),
        Resource(
            "invoices", "Invoice", "Invoices", "DocumentNumber", INVOICE,
            _names(
                "Balance Booked Cancelled CostCenter Currency CurrencyRate CurrencyUnit CustomerName CustomerNumber "
                "DocumentNumber DueDate ExternalInvoiceReference1 ExternalInvoiceReference2 FinalPayDate InvoiceDate "
                "InvoiceType NoxFinans OCR Project Sent TermsOfPayment Total VoucherNumber VoucherSeries VoucherYear "
                "WayOfDelivery"
            ),
            (2000434, "Kan inte hitta fakturan."), "invoice",
            prepare=_invoice,
            required=("CustomerNumber",),
            read_only=INVOICE_READ_ONLY,
            filters=PAYMENT_FILTERS,
            search=_search(
                "CostCenter CustomerName CustomerNumber DocumentNumber OCR OurReference Project YourReference "
                "ExternalInvoiceReference1 ExternalInvoiceReference2 YourOrderNumber InvoiceType Currency"
            ),
            date_field="InvoiceDate",
            sort=_search("CustomerName CustomerNumber DocumentNumber InvoiceDate OCR Total"),
            tax_reduction_filter="invoices",
        ),
        Resource(
            "articles", "Article", "Articles", "ArticleNumber", ARTICLE,
            _names("ArticleNumber Description EAN Housework QuantityInStock StockPlace Unit WebshopArticle"),
            (2000428, "Kan inte hitta artikeln."), "article",
            methods=CRUD,
            required=("Description",),
            derived={name: _as_text(name) for name in _names(
                "DisposableQuantity PurchasePrice ReservedQuantity SalesPrice StockValue VAT"
            )},
            filters=ACTIVE_FILTERS,
            search=_search("ArticleNumber Description EAN SupplierNumber Manufacturer ManufacturerArticleNumber"),
            sort=_search("ArticleNumber QuantityInStock ReservedQuantity StockValue"),
        ),
        Resource(
            "employees", "Employee", "Employees", "EmployeeId", EMPLOYEE,
            _names(
                "CostCenter Email EmployeeId EmploymentDate EmploymentForm FirstName FullName Inactive JobTitle "
                "LastName PersonalIdentityNumber PersonelType Phone1 Project SalaryForm"
            ),
            (EMPLOYEE_NOT_FOUND, "Kan inte hitta den anställda."), "salary",
            prepare=_employee,
            required=("Email", "FirstName", "LastName"),  # as the spec says; a missing EmployeeId is numbered (guess)
            read_only=frozenset({"FullName"}),
        ),
        Resource(
            "offers", "Offer", "Offers", "DocumentNumber", OFFER,
            _names("Cancelled Currency CustomerName CustomerNumber DocumentNumber OfferDate Project Sent Total"),
            (OFFER_NOT_FOUND, "Kan inte hitta offerten."), "offer",
            prepare=_offer,
            required=("CustomerNumber",),
            read_only=frozenset(_names(
                "AdministrationFeeVAT BasisTaxReduction Cancelled ContributionPercent ContributionValue FreightVAT "
                "Gross InvoiceReference Net OrderReference RoundOff Sent TaxReduction Total TotalToPay TotalVAT"
            )),
            filters=OFFER_FILTERS,
            search=_search("CustomerName CustomerNumber DocumentNumber CostCenter Project OurReference YourReference"),
            date_field="OfferDate",
            sort={"customerName": "CustomerName", "id": "DocumentNumber", "transactionDate": "OfferDate",
                  "total": "Total"},
            tax_reduction_filter="offers",
        ),
        Resource(
            "attendancetransactions", "AttendanceTransaction", "AttendanceTransactions", "id", ATTENDANCE_TRANSACTION,
            _names("CauseCode CostCenter Date EmployeeId Hours Project id"),
            (ATTENDANCE_NOT_FOUND, "Kan inte hitta närvarotransaktionen."), "salary",
            methods=frozenset({"list", "create"}),
            prepare=_attendance,
            required=("CauseCode", "Date", "EmployeeId"),
            read_only=frozenset({"id"}),
            exact=_search("EmployeeId Date"),
            default_sort=("Date", "EmployeeId", "id"),
            new_id=lambda state, path: str(uuid.uuid4()),
        ),
        Resource(
            "salarytransactions", "SalaryTransaction", "SalaryTransactions", "SalaryRow", SALARY_TRANSACTION,
            _names("Amount CostCenter Date EmployeeId Expense Number Project SalaryCode SalaryRow TextRow Total VAT"),
            (SALARY_TRANSACTION_NOT_FOUND, "Kan inte hitta lönetransaktionen."), "salary",
            methods=frozenset({"list", "create"}),
            prepare=_salary,
            required=("Date", "EmployeeId", "SalaryCode"),
            read_only=frozenset({"SalaryRow"}),
            exact={"employeeId": "EmployeeId", "date": "Date"},  # the spec spells this one employeeId
        ),
    )
}


def create(state: SandboxState, resource: Resource, fields: Record) -> Record:
    """Number, complete and store a new record from checked `fields` (POST, credit and the seed share this)."""
    table = state.table(resource.path)
    given = fields.get(resource.id_field)
    if given not in (None, ""):
        ident = str(given)
        code, message = resource.duplicate
        _refuse(ident in (table.used if resource.reserves_deleted_ids else table.records), code, message.format(ident))
    else:
        ident = resource.new_id(state, resource.path)
    typed_id: Any = int(ident) if resource.entity.kinds[resource.id_field] == "int" else ident
    record = resource.write(state, None, {**fields, resource.id_field: typed_id})
    state.store(resource.path, ident, record)
    return record


# ---------------------------------------------------------------------------------------------
# Listing: filters, search, dates, sorting, paging

PAGE_LIMIT, MAX_LIMIT = 100, 500
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def _bad_parameter() -> ApiError:
    return ApiError(400, INVALID_PARAMETER, "Ogiltig parameter i anropet.")


def _int_parameter(request: Request, name: str, default: int, minimum: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) < minimum:
        raise _bad_parameter()
    return int(text)


def _since(text: str) -> float:
    """`lastmodified` in Swedish local time: ``YYYY-MM-DD``, ``... HH:MM`` or ``... HH:MM:SS``."""
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).replace(tzinfo=STOCKHOLM).timestamp()
        except ValueError:
            continue
    raise _bad_parameter()


def _date_parameter(request: Request, name: str) -> str | None:
    text = request.query_params.get(name)
    if text is not None and not (_DATE.match(text) and _is_date(text)):
        raise _bad_parameter()
    return text


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers, and numeric strings such as ids and supplier-invoice amounts, sort as numbers."""
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, int | float):
        return (0, value)
    text = str(value)
    return (0, float(text)) if _NUMERIC.match(text) else (1, text.casefold())


def _selection(resource: Resource, request: Request, state: SandboxState) -> list[Record]:
    query = request.query_params
    checks: list[Callable[[Record, float], bool]] = []
    if "filter" in query:
        chosen = resource.filters.get(query["filter"])
        if chosen is None:
            raise ApiError(400, INVALID_FILTER, "Ett ogiltigt filter har använts.")
        today = state.today()
        checks.append(lambda record, modified: chosen(record, today))
    if "lastmodified" in query:
        since = _since(query["lastmodified"])
        checks.append(lambda record, modified: modified >= since)
    if resource.date_field:
        name = resource.date_field
        start, end = _date_parameter(request, "fromdate"), _date_parameter(request, "todate")
        if start:
            checks.append(lambda record, modified: (record[name] or "") >= start)
        if end:
            checks.append(lambda record, modified: (record[name] or "9999") <= end)
    for parameter, name in resource.search.items():
        if parameter in query:
            needle = query[parameter].casefold()
            checks.append(
                lambda record, modified, name=name, needle=needle: needle in str(record[name] or "").casefold()
            )
    for parameter, name in resource.exact.items():
        if parameter in query:
            checks.append(lambda record, modified, name=name, value=query[parameter]: str(record[name]) == value)
    selected = [
        record for record, modified in state.snapshot(resource.path) if all(check(record, modified) for check in checks)
    ]
    order = resource.default_sort or (resource.id_field,)
    if "sortby" in query:
        if query["sortby"] not in resource.sort:
            raise _bad_parameter()
        order = (resource.sort[query["sortby"]], resource.id_field)
    direction = query.get("sortorder", "ascending")
    if direction not in ("ascending", "descending"):
        raise _bad_parameter()
    selected.sort(key=lambda record: [_sort_key(record[name]) for name in order], reverse=direction == "descending")
    return selected


def _list(resource: Resource, request: Request, state: SandboxState, base: str) -> Response:
    limit = min(_int_parameter(request, "limit", PAGE_LIMIT, 1), MAX_LIMIT)  # above 500: clamped (guess)
    page = _int_parameter(request, "page", 1, 1)
    offset = _int_parameter(request, "offset", 0, 0)
    selected = _selection(resource, request, state)
    start = (page - 1) * limit + offset
    meta = {"@TotalResources": len(selected), "@TotalPages": math.ceil(len(selected) / limit), "@CurrentPage": page}
    items = [resource.item(base, record) for record in selected[start : start + limit]]
    return fortnox_json({"MetaInformation": meta, resource.plural: items})


# ---------------------------------------------------------------------------------------------
# HTTP: the /3/ endpoints


def _sandbox(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _authorise(request: Request, scope: str) -> None:
    if scope not in request.scope.get("fortnox.scopes", ()):
        raise ApiError(403, NO_SCOPE, "Har inte behörighet för scope.")


def _apply_rules(request: Request, state: SandboxState, singular: str | None, raw: bytes) -> None:
    fields: Any = {}
    if singular and raw:
        try:
            fields = json.loads(raw).get(singular, {})
        except (ValueError, AttributeError):
            fields = {}
    route = request.scope.get("route")
    paths = (request.url.path, getattr(route, "path", request.url.path))
    rule = state.rule_for(request.method, paths, fields if isinstance(fields, dict) else {})
    if rule is not None:
        raise ApiError(rule.status, rule.code, rule.message)


def _body(resource: Resource, raw: bytes, creating: bool) -> Record:
    if not raw.strip():
        raise ApiError(400, NO_DATA, "Ingen eller felaktig typ av data.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, INVALID_JSON, "Error deserializing JSON: JSON_ERROR_SYNTAX") from None
    if not isinstance(body, dict) or resource.singular not in body:
        raise ApiError(400, NO_DATA, "Ingen eller felaktig typ av data.")
    fields = resource.entity.check(body[resource.singular])
    ignored = resource.read_only if creating else resource.read_only | {resource.id_field}
    fields = {name: value for name, value in fields.items() if name not in ignored}
    missing = [name for name in resource.required if fields.get(name) in (None, "")] if creating else []
    _refuse(bool(missing), MISSING_FIELD, f"{', '.join(missing)} måste anges.")
    return fields


def _stored(resource: Resource, state: SandboxState, ident: str) -> Record:
    record = state.get(resource.path, ident)
    if record is None:
        raise ApiError(404, *resource.not_found)
    return record


def _not_allowed() -> ApiError:
    return ApiError(405, METHOD_NOT_ALLOWED, "Metoden stöds inte för denna resurs.")  # status and code: guess


def _dispatch(resource: Resource, action: str | None, request: Request, state: SandboxState, raw: bytes) -> Response:
    method, ident, base = request.method, request.path_params.get("id"), _base(request)
    wrap = resource.singular
    if action is not None:
        if method != "PUT":
            raise _not_allowed()
        record = resource.actions[action](state, _stored(resource, state, ident))
        state.store(resource.path, ident, record)
        return fortnox_json({wrap: resource.full(base, record)})
    if ident is None and method == "GET" and "list" in resource.methods:
        return _list(resource, request, state, base)
    if ident is None and method == "POST" and "create" in resource.methods:
        record = create(state, resource, _body(resource, raw, creating=True))
        return fortnox_json({wrap: resource.full(base, record)}, 201)
    if ident is not None and method == "GET" and "get" in resource.methods:
        return fortnox_json({wrap: resource.full(base, _stored(resource, state, ident))})
    if ident is not None and method == "PUT" and "update" in resource.methods:
        old = _stored(resource, state, ident)
        record = resource.write(state, old, _body(resource, raw, creating=False))
        state.store(resource.path, ident, record)
        return fortnox_json({wrap: resource.full(base, record)})
    if ident is not None and method == "DELETE" and "delete" in resource.methods:
        _stored(resource, state, ident)
        state.delete(resource.path, ident)
        return Response(status_code=204)
    raise _not_allowed()


async def resource_endpoint(resource: Resource, action: str | None, request: Request) -> Response:
    state = _sandbox(request)
    try:
        _authorise(request, resource.scope)
        raw = await request.body()
        _apply_rules(request, state, resource.singular, raw)
        with state.lock:
            return _dispatch(resource, action, request, state, raw)
    except ApiError as error:
        return error.response()


async def archive_endpoint(request: Request) -> Response:
    """GET /3/archive/{id}: the raw bytes of a file, rendered on first download."""
    state = _sandbox(request)
    try:
        _authorise(request, "archive")
        _apply_rules(request, state, None, b"")
        content = await run_in_threadpool(state.archive_content, request.path_params["id"], pdf.render)
        if content is None:
            raise ApiError(404, ARCHIVE_FILE_NOT_FOUND, "Kan inte hitta filen.")
        return Response(content, media_type="application/pdf")
    except ApiError as error:
        return error.response()


async def unknown_endpoint(request: Request) -> Response:
    return error_response(404, UNKNOWN_PATH, "Kan inte hitta resursen.")


# ---------------------------------------------------------------------------------------------
# OAuth (apps.fortnox.se/oauth-v1): authorization code and refresh-token grants


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _oauth_error(status: int, error: str, description: str, content_type: str) -> Response:
    body = json.dumps({"error": error, "error_description": description}, separators=(",", ":"))
    return Response(body, status, {"Cache-Control": "no-store"}, content_type)


async def authorize_endpoint(request: Request) -> Response:
    """The consent page, approved at once: redirects back with a code (or with an error)."""
    state = _sandbox(request)
    query = request.query_params
    redirect_uri = query.get("redirect_uri", "")
    if query.get("client_id") != state.client_id or not redirect_uri:
        return Response("Okänd klient eller saknad redirect_uri.", 400, media_type="text/plain")
    if query.get("response_type") != "code" or not query.get("state") or not query.get("scope"):
        return RedirectResponse(_with_query(redirect_uri, error="invalid_request", state=query.get("state", "")), 302)
    code = state.issue_code(redirect_uri, query["scope"])
    return RedirectResponse(_with_query(redirect_uri, code=code, state=query["state"]), 302)


def _client_authenticated(state: SandboxState, header: str | None) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        client_id, _, secret = b64decode(header[6:].strip()).decode().partition(":")
    except ValueError:
        return False
    return client_id == state.client_id and secret == state.client_secret


async def token_endpoint(request: Request) -> Response:
    state = _sandbox(request)
    if not _client_authenticated(state, request.headers.get("authorization")):
        return _oauth_error(401, "invalid_client", "The client credentials are invalid", "text/plain;charset=UTF-8")
    form = dict(parse_qsl((await request.body()).decode()))
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = state.redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
        description = "Invalid authorization code"  # the wording is a guess; refresh's is captured
    elif grant_type == "refresh_token":
        grant = state.refresh(form.get("refresh_token", ""))
        description = "Invalid refresh token"
    else:
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type", "text/html; charset=UTF-8")
    if grant is None:
        return _oauth_error(400, "invalid_grant", description, "text/html; charset=UTF-8")
    return fortnox_json(grant.body(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# ---------------------------------------------------------------------------------------------
# /_sandbox: administration for tests, benchmarks and scripts (no auth)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _admin(handler: Callable[[Request, SandboxState], Any]) -> Callable[[Request], Any]:
    """An admin endpoint: JSON in, JSON out, a 400 {"error"} for a bad body."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request, _sandbox(request)))
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"error": str(error)}, 400)

    return endpoint


async def _stats(request: Request, state: SandboxState) -> dict[str, Any]:
    return state.stats()


async def _reset_stats(request: Request, state: SandboxState) -> dict[str, Any]:
    state.reset_stats()
    return state.stats()


async def _faults(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await _json_object(request)
    unknown = body.keys() - {f.name for f in dataclass_fields(Faults)}
    if unknown:
        raise ValueError(f"unknown fault settings: {sorted(unknown)}")
    state.set_faults(Faults(**body))
    return state.faults_config()


async def _add_rule(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await _json_object(request)
    rule = Rule(
        method=str(body["method"]).upper(),
        path=str(body["path"]).rstrip("/"),
        match=dict(body.get("match") or {}),
        status=int(body.get("status", 400)),
        code=int(body.get("code", SANDBOX_RULE)),
        message=str(body.get("message", "Regel i sandlådan.")),
    )
    state.add_rule(rule)
    return {"rules": len(state.rules)}


async def _clear_rules(request: Request, state: SandboxState) -> dict[str, Any]:
    state.clear_rules()
    return {"rules": 0}


async def _clock(request: Request, state: SandboxState) -> dict[str, Any]:
    state.advance(float((await _json_object(request))["advance_seconds"]))
    return {"now": dt.datetime.fromtimestamp(state.now(), STOCKHOLM).isoformat(timespec="seconds")}


async def _authorize(request: Request, state: SandboxState) -> dict[str, Any]:
    body = await _json_object(request)
    return {"code": state.issue_code(str(body["redirect_uri"]), str(body.get("scope") or ALL_SCOPES))}


async def _info(request: Request, state: SandboxState) -> dict[str, Any]:
    base = _base(request)
    return {
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "url": base,
        "api_url": f"{base}/3",
        "token_url": f"{base}/oauth-v1/token",
        "authorize_url": f"{base}/oauth-v1/auth",
        "scopes": ALL_SCOPES,
        "seed": state.seed,
        "today": state.today().isoformat(),
        "counts": {**state.counts(), "archive": len(state.archive)},
    }


# ---------------------------------------------------------------------------------------------
# The gateway in front of /3/ and /oauth-v1


class _Dropped:
    """The gateway's answer when a request is to be left without one."""


DROPPED = _Dropped()


def _bearer(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else ""
    return ""


def _fault_response(kind: str, retry_after: int | None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if kind == "429":
        return fortnox_json({"message": "Too Many Requests"}, 429, headers)
    if kind == "503":
        return fortnox_json({"message": "Service Unavailable"}, 503, headers)  # body: guess
    return error_response(500, SYSTEM_EXCEPTION, "System exception")


async def _drop(send: Send) -> None:
    """Close the connection without a response. ASGI has no message for that, so this reaches the
    server's per-request object behind `send` (uvicorn's RequestResponseCycle) and aborts its transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's transport")
    transport.abort()
    for _ in range(100):  # let the loop run connection_lost, so uvicorn does not answer 500 after us
        if cycle.disconnected:
            break
        await asyncio.sleep(0)


class Gateway:
    """What stands in front of Fortnox's API: it counts every request (but /_sandbox ones), accepts
    trailing slashes, and for /3/ injects the configured faults, checks the bearer token and the
    rate limit before the application sees the request."""

    def __init__(self, app: Starlette, state: SandboxState) -> None:
        self.app = app
        self.state = state

    def _route(self, scope: Scope) -> str:
        for route in self.app.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route.path
        return scope["path"]

    async def _gate(self, scope: Scope) -> Response | _Dropped | None:
        state, token = self.state, _bearer(scope)
        if token:
            state.arrive(token)
        fault = state.draw_fault()
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        if fault == "drop":
            return DROPPED
        if fault is not None:
            return _fault_response(fault, state.faults.retry_after)
        scopes = state.scope_of(token) if token else None
        if scopes is None:
            return fortnox_json({"message": "unauthorized"}, 401)
        if not state.admit(token):
            return _fault_response("429", state.retry_after)
        scope["fortnox.scopes"] = tuple(scopes.split())
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        if len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope["path"] = scope["path"].rstrip("/")
        status = "dropped"

        async def respond(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"server", b"Fortnox")]}
            await send(message)

        try:
            answer = await self._gate(scope) if scope["path"].startswith("/3/") else None
            if answer is DROPPED:
                await _drop(send)
            elif isinstance(answer, Response):
                await answer(scope, receive, respond)
            else:
                await self.app(scope, receive, respond)
        finally:
            self.state.record(scope["method"], self._route(scope), status)


def _routes() -> list[Route]:
    every = ["GET", "POST", "PUT", "DELETE"]
    routes = []
    for resource in RESOURCES.values():
        routes.append(Route(f"/3/{resource.path}", partial(resource_endpoint, resource, None), methods=every))
        routes.append(Route(f"/3/{resource.path}/{{id}}", partial(resource_endpoint, resource, None), methods=every))
        for action in resource.actions:
            endpoint = partial(resource_endpoint, resource, action)
            routes.append(Route(f"/3/{resource.path}/{{id}}/{action}", endpoint, methods=every))
    return [
        *routes,
        Route("/3/archive/{id}", archive_endpoint, methods=["GET"]),
        Route("/3/{rest:path}", unknown_endpoint, methods=every),
        Route("/oauth-v1/auth", authorize_endpoint, methods=["GET"]),
        Route("/oauth-v1/token", token_endpoint, methods=["POST"]),
        Route("/_sandbox/stats", _admin(_stats), methods=["GET"]),
        Route("/_sandbox/stats/reset", _admin(_reset_stats), methods=["POST"]),
        Route("/_sandbox/faults", _admin(_faults), methods=["POST"]),
        Route("/_sandbox/rules", _admin(_add_rule), methods=["POST"]),
        Route("/_sandbox/rules", _admin(_clear_rules), methods=["DELETE"]),
        Route("/_sandbox/clock", _admin(_clock), methods=["POST"]),
        Route("/_sandbox/authorize", _admin(_authorize), methods=["POST"]),
        Route("/_sandbox/info", _admin(_info), methods=["GET"]),
    ]


def create_app(state: SandboxState) -> ASGIApp:
    app = Starlette(routes=_routes())
    app.state.sandbox = state
    return Gateway(app, state)
