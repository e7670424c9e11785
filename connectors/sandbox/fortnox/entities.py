"""The resource table: every Fortnox resource the sandbox serves, with its entity's fields (from
the Fortnox OpenAPI spec), its list-item subset, wrapper keys, id field, not-found error, list
filters and what happens to a record when it is written.

Captured quirks kept on purpose (apis.md §1): amounts that are strings on supplier invoices and
numbers elsewhere, nulls for unset values as captured responses show them. Where Fortnox's
behaviour is not documented, the choice made here is marked "guess".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from stdnum import luhn

from connectors.sandbox.fortnox.errors import (
    ACCOUNT_MISSING, ALREADY_CREDITED, ARCHIVE_FILE_NOT_FOUND, ARTICLE_MISSING, ATTENDANCE_NOT_FOUND,
    CUSTOMER_MISSING, CUSTOMER_NUMBER_USED, DOCUMENT_BOOKED, DOCUMENT_CANCELLED, EMPLOYEE_NOT_FOUND, FILE_CONNECTED,
    FILE_CONNECTION_NOT_FOUND, NOT_BALANCED, NOT_BOOKED, NUMBER_USED, OFFER_NOT_FOUND, SALARY_TRANSACTION_NOT_FOUND,
    SUPPLIER_INVOICE_NOT_FOUND, SUPPLIER_NOT_FOUND, ApiError, refuse,
)
from connectors.sandbox.fortnox.shapes import Shape, amount_text, cents, dec, json_number, shape
from connectors.sandbox.fortnox.state import Record, SandboxState

# ---------------------------------------------------------------------------------------------
# Entities: the fields of each, from the OpenAPI spec.


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


SALES_ROW_DEFAULTS = {
    "AccountNumber": 3001, "ContributionPercent": "0", "ContributionValue": "0", "DiscountType": "PERCENT", "VAT": 25,
    **_nulls("HouseWorkHoursToReport HouseWorkType"),
}
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
    {**SALES_ROW_DEFAULTS, "DeliveredQuantity": "0", "StockPointCode": None},
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
    {**SALES_ROW_DEFAULTS, "Quantity": "0"},
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


def _employee(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = EMPLOYEE.merge(old, changes)
    record["FullName"] = f"{record['FirstName'] or ''} {record['LastName'] or ''}".strip()
    return record


def _file_connection(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = SUPPLIER_INVOICE_FILE_CONNECTION.merge(old, changes)
    file = state.archive.get(record["FileId"])
    refuse(file is None, ARCHIVE_FILE_NOT_FOUND, "Kan inte hitta filen.")
    invoice = _referenced(state, "supplierinvoices", record["SupplierInvoiceNumber"])
    return {**record, "Name": file.name, "SupplierName": invoice["SupplierName"]}


def _transaction(entity: Shape, state: SandboxState, old: Record | None, changes: Record) -> Record:
    """An attendance or salary transaction: for an employee that exists, and a project if it names one."""
    record = entity.merge(old, changes)
    _referenced(state, "employees", record["EmployeeId"])
    _check_project(state, record)
    return record


def _salary(state: SandboxState, old: Record | None, changes: Record) -> Record:
    record = _transaction(SALARY_TRANSACTION, state, old, changes)
    if "Total" not in changes:
        record["Total"] = amount_text(cents(dec(record["Number"] or 0) * dec(record["Amount"] or 0)))
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
    row = row_shape.merge(None, given)
    if row["ArticleNumber"]:
        article = _referenced(state, "articles", row["ArticleNumber"], ARTICLE_MISSING, "Kunde inte hitta artikel")
        for name, source in ARTICLE_DEFAULTS.items():
            if name not in given and article[source] is not None:
                row[name] = article[source]
    _check_project(state, row)
    gross = dec(row[quantity_field]) * dec(row["Price"])
    discount = dec(row["Discount"])
    total = cents(gross * (1 - discount / 100) if row["DiscountType"] == "PERCENT" else gross - discount)
    row.update(Total=json_number(total), RowId=row["RowId"] or state.next_counter("RowId"))
    if "TotalExcludingVAT" in row:  # invoice rows have these, offer rows not
        row.update(PriceExcludingVAT=row["Price"], TotalExcludingVAT=row["Total"])
    return row


def _customer_document(
    state: SandboxState, entity: Shape, old: Record | None, changes: Record, rows: str, quantity: str, date: str
) -> Record:
    refuse(bool(old and old.get("Booked")), DOCUMENT_BOOKED, "Dokumentet är bokfört och kan inte ändras.")
    refuse(bool(old and old.get("Cancelled")), DOCUMENT_CANCELLED, "Dokumentet är makulerat och kan inte ändras.")
    record = entity.merge(old, changes)
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
    net = sum((dec(row["Total"]) for row in record[rows]), Decimal(0))
    fees = dec(record["Freight"]) + dec(record["AdministrationFee"])
    vat = sum((cents(dec(row["Total"]) * dec(row["VAT"]) / 100) for row in record[rows]), cents(fees / 4))
    exact = net + fees + vat
    total = exact.quantize(Decimal(1), ROUND_HALF_UP)  # Fortnox rounds documents to whole kronor by default
    record.update(
        Net=json_number(net),
        Gross=json_number(net + fees),
        TotalVAT=json_number(vat),
        FreightVAT=json_number(cents(dec(record["Freight"]) / 4)),
        AdministrationFeeVAT=json_number(cents(dec(record["AdministrationFee"]) / 4)),
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
    return luhn.calc_check_digit(payload)


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

FIRST_FINANCIAL_YEAR = 2016  # the sandbox company's financial year 1; VoucherYear is a year id (guess)
SUPPLIER_INVOICE_SERIES = "D"  # Fortnox's default voucher series for supplier invoices

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

BOOKED_EDITABLE = frozenset({"Comments", "OurReference", "YourReference"})  # header text only (guess, apis.md §1.6)


def _ledger_row(given: Record) -> Record:
    row = SUPPLIER_INVOICE_ROW.merge(None, given)
    refuse(not 1000 <= row["Account"] <= 9999, ACCOUNT_MISSING, f"Kunde inte hitta konto ({row['Account']})")
    debit, credit = dec(row["Debit"]), dec(row["Credit"])
    if not debit and not credit:  # only Total given: its sign says the side
        total = dec(row["Total"])
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
    return sum((dec(row["Debit"]) - dec(row["Credit"]) for row in rows if row["Code"] == code), Decimal(0))


def _supplier_invoice(state: SandboxState, old: Record | None, changes: Record) -> Record:
    if old is not None:
        refuse(old["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte ändras.")
        editable = BOOKED_EDITABLE | ({"Project"} if state.project_editable_after_booking else set())
        changed = {name for name, value in changes.items() if value != old.get(name)}
        locked = sorted(changed - editable) if old["Booked"] else []
        refuse(bool(locked), DOCUMENT_BOOKED, f"Leverantörsfakturan är bokförd, {', '.join(locked)} kan inte ändras.")
    record = SUPPLIER_INVOICE.merge(old, changes)
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
            given = _default_rows(dec(record["Total"]), dec(record["VAT"]), account)
        record["SupplierInvoiceRows"] = [_ledger_row(row) for row in given]
    rows = record["SupplierInvoiceRows"]
    if "Total" not in changes and (old is None or "SupplierInvoiceRows" in changes):
        record["Total"] = amount_text(-_balance(rows, "TOT"))
    if "VAT" not in changes and (old is None or "SupplierInvoiceRows" in changes):
        record["VAT"] = amount_text(_balance(rows, "VAT"))
    for name in ("Total", "VAT", "AdministrationFee", "Freight", "RoundOffValue", "CurrencyRate"):
        record[name] = amount_text(dec(record[name]))
    if old is None or not old["Booked"]:
        record["Balance"] = record["Total"]
    return record


def _bookkeep(state: SandboxState, invoice: Record) -> Record:
    refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte bokföras.")
    refuse(invoice["Booked"], DOCUMENT_BOOKED, "Leverantörsfakturan är redan bokförd.")
    rows = invoice["SupplierInvoiceRows"]
    debit = sum((dec(row["Debit"]) for row in rows), Decimal(0))
    credit = sum((dec(row["Credit"]) for row in rows), Decimal(0))
    refuse(not rows or cents(debit) != cents(credit), NOT_BALANCED, "Leverantörsfakturan balanserar inte")
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
    refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är redan makulerad.")
    refuse(
        invoice["Booked"], DOCUMENT_BOOKED, "En bokförd leverantörsfaktura kan inte makuleras, den måste krediteras."
    )
    return {**invoice, "Cancelled": True, "Balance": "0"}


CREDIT_COPIES = _names("SupplierNumber Project CostCenter OurReference YourReference Currency OCR VATType SalesType")


def _credit(state: SandboxState, invoice: Record) -> Record:
    """Books a credit invoice against a booked one; the original's CreditReference names it."""
    refuse(invoice["Cancelled"], DOCUMENT_CANCELLED, "Leverantörsfakturan är makulerad och kan inte krediteras.")
    refuse(not invoice["Booked"], NOT_BOOKED, "Endast bokförda leverantörsfakturor kan krediteras.")
    credited = invoice["Credit"] or bool(invoice["CreditReference"])
    refuse(credited, ALREADY_CREDITED, "Leverantörsfakturan är redan krediterad.")
    today = state.today().isoformat()
    swapped = [
        {**{k: v for k, v in row.items() if k != "Total"}, "Debit": row["Credit"], "Credit": row["Debit"]}
        for row in invoice["SupplierInvoiceRows"]
    ]
    fields = {name: invoice[name] for name in CREDIT_COPIES}
    resource = RESOURCES["supplierinvoices"]
    credit = create(state, resource, {
        **fields, "InvoiceNumber": f"{invoice['InvoiceNumber']}-K", "InvoiceDate": today, "DueDate": today,
        "Total": amount_text(-dec(invoice["Total"])), "VAT": amount_text(-dec(invoice["VAT"])),
        "SupplierInvoiceRows": swapped,
    })
    credit = {**credit, "Credit": True, "CreditReference": int(invoice["GivenNumber"])}
    state.store(resource.path, credit["GivenNumber"], credit)
    return {**invoice, "CreditReference": int(credit["GivenNumber"])}


# ---------------------------------------------------------------------------------------------
# List filters: (record, today) -> whether the record belongs.

Filter = Callable[[Record, dt.date], bool]


def _unpaid(record: Record) -> bool:
    return record["Booked"] and not record["Cancelled"] and dec(record["Balance"]) != 0


PAYMENT_FILTERS: dict[str, Filter] = {  # "unpaid" means booked and not fully paid (guess)
    "cancelled": lambda r, today: r["Cancelled"],
    "fullypaid": lambda r, today: r["Booked"] and not r["Cancelled"] and dec(r["Balance"]) == 0,
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


def _invoiced(record: Record) -> bool:
    return record["InvoiceReference"] not in ("", "0")


# What completes an offer is not documented: here an order or an invoice made from it (guess).
OFFER_FILTERS: dict[str, Filter] = {
    "cancelled": lambda r, today: r["Cancelled"],
    "expired": lambda r, today: (
        not r["Cancelled"] and not _ordered(r) and (r["ExpireDate"] or "9999") < today.isoformat()
    ),
    "completed": lambda r, today: _ordered(r) or _invoiced(r),
    "notcompleted": lambda r, today: not r["Cancelled"] and not _ordered(r) and not _invoiced(r),
    "ordercreated": lambda r, today: _ordered(r),
    "ordernotcreated": lambda r, today: not _ordered(r),
}

# ---------------------------------------------------------------------------------------------
# The resources

Action = Callable[[SandboxState, Record], Record]
CRUD = frozenset({"list", "get", "create", "update", "delete"})


def _as_text(name: str) -> Callable[[Record], Any]:
    """A list-item field the spec types as a string although the entity has a number (articles)."""
    return lambda record: None if record[name] is None else amount_text(dec(record[name]))


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
    prepare: Prepare | None = None  # None: the changes are merged in as they are
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
        if self.prepare is None:
            return self.entity.merge(old, changes)
        return self.prepare(state, old, changes)

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
    """Query parameters (search, exact match, sortby values): Fortnox names most after the field, in
    lower case."""
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
            prepare=partial(_transaction, ATTENDANCE_TRANSACTION),
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
        refuse(ident in (table.used if resource.reserves_deleted_ids else table.records), code, message.format(ident))
    else:
        ident = resource.new_id(state, resource.path)
    typed_id: Any = int(ident) if resource.entity.kinds[resource.id_field] == "int" else ident
    record = resource.write(state, None, {**fields, resource.id_field: typed_id})
    state.store(resource.path, ident, record)
    return record
