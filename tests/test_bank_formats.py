"""ICA-banken and Swedbank statements (seed 004): variants, detection, encodings, file and row rules.

The Baltic samples are real public files (tests/data/bank/README.md). No public sample exists
for Swedbank's Swedish exports or ICA-banken, so those files are written here from the byte-level
facts in shared/reference/notes/bank_formats.md: preamble lines, header, quoting, encoding, line
ends, ``kr`` suffix, space and NBSP grouping, ``Reserverat belopp`` rows.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.banks import RowMessage, Statement, Transaction, read_statement

DATA = Path(__file__).parent / "data" / "bank"
TODAY = date(2025, 10, 16)  # the seed's date

SWEDBANK_SE = (
    "* Transaktioner Period 2025-09-01\u20132025-10-03 Skapad 2025-10-04 10:15 CEST\r\n"
    "Radnummer,Clearingnummer,Kontonummer,Produkt,Valuta,Bokföringsdag,Transaktionsdag,Valutadag,Referens,"
    "Beskrivning,Belopp,Bokfört saldo\r\n"
    '1,83519,0036110559,"Privatkonto",SEK,2025-10-06,2025-10-04,2025-10-04,"THE RED LION","Kortköp/uttag",'
    "-120.00,21834.16\r\n"
    '2,83519,0036110559,"Privatkonto",SEK,2025-10-03,2025-10-03,2025-10-03,"+46701234567","Swish skickad",'
    "-250.00,21954.16\r\n"
    '3,83519,0036110559,"Privatkonto",SEK,2025-10-01,2025-09-30,2025-10-01,"skatt","Preliminär skatt",'
    "-5120.00,22204.16\r\n"
    '4,83519,0036110559,"Privatkonto",SEK,2025-09-25,2025-09-25,2025-09-25,"PAYPAL *NAMECHEA","PAYPAL *NAMECHEA",'
    "-149.50,27324.16\r\n"
    '5,83519,0036110559,"Privatkonto",SEK,2025-09-25,2025-09-24,2025-09-25,"HÅRFIX, SÖDER","Café ""Öst""",'
    "1407,27473.66\r\n"
)

SWEDBANK_COMPANY = (
    "* Transaktionsrapport Period 2025-09-01\u20132025-09-30 Skapad 2025-10-01 08:12 CEST\r\n"
    "Radnr,Clnr,Kontonr,Produkt,Valuta,Bokfdag,Transdag,Valutadag,Referens,Text,Belopp,Saldo\r\n"
    '1,8327-9,9034567890,"Företagskonto",SEK,2025-09-30,2025-09-30,2025-09-30,"5050-1055","Bg-betalning",'
    "-12500.00,48210.40\r\n"
    '2,8327-9,9034567890,"Företagskonto",SEK,2025-09-29,2025-09-29,2025-09-29,"Faktura 1042","Insättning",'
    "60710.40,60710.40\r\n"
)

ICA_6COL = (
    "\ufeff9274-123 456 7\n"
    "2025-09-01\n"
    "2025-09-30\n"
    "Datum;Text;Typ;Budgetgrupp;Belopp;Saldo\n"
    "2025-09-30;St1 Kalmar                    ;Korttransaktion;Övrigt;-1 079,40 kr;424,69 kr\n"
    "2025-09-29;Willys Mariestad Hag   Mariestad      Se ;Reserverat belopp;Övrigt;-256,70 kr;\n"
    "2025-09-26;Apple.Com/Bill                ;Insättning;Övrigt;7,55 kr;1\u00a0504,09 kr\n"
    "2025-09-26;Avgift Bankkort               ;Övrigt;Övrigt;-25,00 kr;1 496,54 kr\n"
    "2025-09-26;Avgift Bankkort               ;Övrigt;Övrigt;-25,00 kr;1\u202f521,54 kr\n"
    "2025-09-25;Lön                           ;Insättning;Övrigt;25 000,00 kr;-23 453,46 kr\n"
)

ICA_5COL = (
    "Datum;Text;Typ;Belopp;Saldo\n"
    "2025-10-14;Willys Mariestad Hag   Mariestad      Se ;Reserverat Belopp;-256,70 kr;\n"
    "2025-10-13;Kumla Biltvatt                ;Korttransaktion;-189,00 kr;3 120,55 kr\n"
    "2025-10-10;Telia Sverige AB              ;PG/BG-betalning;-1 249,00 kr;3 309,55 kr\n"
    "2025-10-09;Autogiro Folksam              ;Autogiro;-412,00 kr;4 558,55 kr\n"
)

# Seed 004 §3.1.3 and §3.2.3, verbatim.
SEED_ICA = (
    "Datum;Belopp;Beskrivning;Saldo\n"
    "2025-01-15;-125,50;ICA Maxi Stockholm;8742,30\n"
    "2025-01-16;3500,00;Lön;12242,30\n"
    "2025-01-17;-45,00;Netflix AB;12197,30\n"
)
SEED_SWEDBANK = (
    '"Client account";"Row type";"Date";"Beneficiary/Payer";"Details";"Amount";"Currency";"Debit/Credit";'
    '"Transfer reference";"Transaction type";"Reference number";"Document number";\n'
    '"SE0000000000000000000000";"10";"01.01.2025";"";"Opening balance";"10000,00";"SEK";"K";"";"AS";"";"";\n'
    '"SE0000000000000000000000";"20";"08.01.2025";"ICA MAXI STOCKHOLM";"Kortköp 123456789";"125,50";"SEK";"D";"";"MK";"";"5";\n'  # noqa: E501 (verbatim)
    '"SE0000000000000000000000";"20";"15.01.2025";"ARBETSGIVARE AB";"Lön januari 2025";"35000,00";"SEK";"K";"";"LB";"";"12";\n'  # noqa: E501 (verbatim)
    '"SE0000000000000000000000";"20";"16.01.2025";"NETFLIX AB";"Månadsprenumeration";"149,00";"SEK";"D";"";"AG";"";"";\n'  # noqa: E501 (verbatim)
)

BALTIC_HEADER = (
    '"Client account";"Row type";"Date";"Beneficiary/Payer";"Details";"Amount";"Currency";"Debit/Credit";'
    '"Transfer reference";"Transaction type";"Reference number";"Document number";\n'
)


def read(text: str, name: str = "statement.csv", encoding: str = "utf-8", **options: object) -> Statement:
    options.setdefault("today", TODAY)
    return read_statement(Path(name), data=text.encode(encoding), **options)  # type: ignore[arg-type]


def codes(messages: list[RowMessage]) -> list[tuple[int, str]]:
    return [(m.row, m.code) for m in messages]


def summary(t: Transaction) -> tuple[object, ...]:
    balance = None if t.balance is None else str(t.balance)
    return t.row, t.booking_date.isoformat(), str(t.amount), t.currency, t.description, balance


# --- the seed's examples ---------------------------------------------------------------------------


def test_the_seed_ica_example() -> None:
    statement = read(SEED_ICA)
    assert (statement.bank, statement.format, statement.delimiter, statement.rows) == ("ica", "ica-seed", ";", 3)
    assert [summary(t) for t in statement.transactions] == [
        (2, "2025-01-15", "-125.50", "SEK", "ICA Maxi Stockholm", "8742.30"),
        (3, "2025-01-16", "3500.00", "SEK", "Lön", "12242.30"),
        (4, "2025-01-17", "-45.00", "SEK", "Netflix AB", "12197.30"),
    ]
    assert (statement.errors, statement.warnings, statement.file_error) == ([], [], None)


def test_the_seed_swedbank_example_imports_only_row_type_20_with_d_as_money_out() -> None:
    statement = read(SEED_SWEDBANK)
    assert (statement.bank, statement.format, statement.account, statement.rows) == (
        "swedbank", "swedbank-baltic", "SE0000000000000000000000", 3)
    assert [summary(t) for t in statement.transactions] == [
        (3, "2025-01-08", "-125.50", "SEK", "ICA MAXI STOCKHOLM - Kortköp 123456789", None),
        (4, "2025-01-15", "35000.00", "SEK", "ARBETSGIVARE AB - Lön januari 2025", None),
        (5, "2025-01-16", "-149.00", "SEK", "NETFLIX AB - Månadsprenumeration", None),
    ]
    assert [t.counterparty for t in statement.transactions] == ["ICA MAXI STOCKHOLM", "ARBETSGIVARE AB", "NETFLIX AB"]
    assert (statement.errors, statement.warnings) == ([], [])


# --- the saved samples -------------------------------------------------------------------------------


def test_every_sample_is_copied_with_a_readme() -> None:
    samples = sorted(p.name for p in DATA.glob("*.csv"))
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert len(samples) == 4 and all(name in readme for name in samples)


def test_baltic_ee_swed2beancount() -> None:
    statement = read_statement(DATA / "swedbank_baltic_ee_swed2beancount.csv", today=TODAY)
    raw = (DATA / "swedbank_baltic_ee_swed2beancount.csv").read_bytes()
    assert (statement.file_name, statement.size, statement.sha256) == (
        "swedbank_baltic_ee_swed2beancount.csv", len(raw), hashlib.sha256(raw).hexdigest())
    assert (statement.format, statement.encoding, statement.delimiter, statement.account, statement.rows) == (
        "swedbank-baltic", "utf-8", ";", "EE000000000000000000", 3)
    assert [summary(t) for t in statement.transactions] == [
        (3, "2021-01-08", "-75.78", "EUR", "RIMI EESTI FOOD AS - Order 1000000000", None),
        (4, "2021-02-05", "-43.58", "EUR", "MAXIMA - MAXIMA Tallinn", None),
        (5, "2021-02-27", "-0.40", "EUR", "Kaardi kuutasu 02.2021", None),
    ]
    assert [(t.counterparty, t.reference, t.status) for t in statement.transactions] == [
        ("RIMI EESTI FOOD AS", None, "booked"), ("MAXIMA", None, "booked"), (None, None, "booked")]
    assert statement.errors == []
    assert codes(statement.warnings) == [(3, "CURRENCY_NOT_SEK"), (4, "CURRENCY_NOT_SEK"), (5, "CURRENCY_NOT_SEK")]


def test_baltic_ee_ynab_import_with_one_credit() -> None:
    statement = read_statement(DATA / "swedbank_baltic_ee_ynab-import.csv", today=TODAY)
    assert (statement.format, statement.rows, statement.errors) == ("swedbank-baltic", 4, [])
    assert [(t.row, t.booking_date, t.amount, t.counterparty, t.reference) for t in statement.transactions] == [
        (3, date(2018, 9, 4), Decimal("-20.00"), "EESTI ENERGIA AS", "000000000000000"),
        (4, date(2018, 9, 5), Decimal("-50.00"), "MY FITNESS AS", "000000000000000"),
        (5, date(2018, 9, 5), Decimal("-30.00"), "TELIA EESTI AS", "000000000000000"),
        (6, date(2018, 9, 5), Decimal("50.00"), "John Doe", "000000000000000"),
    ]
    # The 82 turnover rows agree: 100,00 out (D) and 50,00 in (K).
    assert sum(t.amount for t in statement.transactions if t.amount < 0) == Decimal("-100.00")


def test_baltic_without_header_keeps_four_identical_rows() -> None:
    statement = read_statement(DATA / "swedbank_baltic_ee_noheader_ofxstatement.csv", today=TODAY)
    assert (statement.format, statement.account, statement.rows, statement.errors) == (
        "swedbank-baltic", "EE18748917198247", 4, [])
    assert [t.row for t in statement.transactions] == [1, 2, 3, 4]
    assert {(t.booking_date, t.amount, t.currency, t.counterparty, t.reference, t.description)
            for t in statement.transactions} == {
        (date(2022, 11, 24), Decimal("-7.50"), "EUR", "WallMAAART", "2022112401247914",
         "WallMAAART - '919191******69696 22.11.22  WallMAAART")}


def test_baltic_lt_older_variant_with_ragged_rows_iso_dates_and_decimal_points() -> None:
    statement = read_statement(DATA / "swedbank_baltic_lt_bank2ynab.csv", today=TODAY)
    assert (statement.format, statement.delimiter, statement.account, statement.rows, statement.errors) == (
        "swedbank-baltic-lt", ",", "LT357300000000000000", 13, [])
    transactions = statement.transactions
    assert [t.row for t in transactions] == list(range(3, 16))
    assert [str(t.amount) for t in transactions] == [
        "-15.31", "-9.40", "-73.70", "-14.86", "-9.87", "-15.39", "-12.00", "-20.00", "-40.00", "-10.20", "-52.07",
        "-11.90", "2863.63",
    ]
    assert (transactions[0].booking_date, transactions[-1].booking_date) == (date(2014, 10, 1), date(2014, 10, 6))
    assert transactions[-1].description == "UAB IMONE - Darbo užmokestis"
    assert transactions[6].counterparty is None  # an empty Beneficiary: the details alone
    assert transactions[6].description.startswith("PIRKINYS 2014.09.29 12 LTL (903005) STATOIL")
    # Turnover rows: 284.70 out, 2863.63 in.
    assert sum(t.amount for t in transactions if t.amount < 0) == Decimal("-284.70")
    assert {t.currency for t in transactions} == {"LTL"}
    # More than 10 years before the seed's date: a warning, the rows are still imported.
    assert codes(statement.warnings)[:2] == [(3, "DATE_OLD"), (3, "CURRENCY_NOT_SEK")]


# --- Swedbank's Swedish exports and ICA-banken, synthetic ---------------------------------------------


def test_swedbank_swedish_export_in_windows_1252() -> None:
    data = SWEDBANK_SE.encode("cp1252")
    assert b"\x96" in data and b"Bokf\xf6ringsdag" in data  # the en dash and the ö as Swedbank writes them
    statement = read_statement(Path("Transaktioner_2025-10-04_10-15-00.csv"), data=data, today=TODAY)
    assert (statement.bank, statement.format, statement.encoding, statement.delimiter, statement.account) == (
        "swedbank", "swedbank-se", "cp1252", ",", "83519-0036110559")
    assert [summary(t) for t in statement.transactions] == [
        (3, "2025-10-06", "-120.00", "SEK", "THE RED LION - Kortköp/uttag", "21834.16"),
        (4, "2025-10-03", "-250.00", "SEK", "+46701234567 - Swish skickad", "21954.16"),
        (5, "2025-10-01", "-5120.00", "SEK", "skatt - Preliminär skatt", "22204.16"),
        (6, "2025-09-25", "-149.50", "SEK", "PAYPAL *NAMECHEA", "27324.16"),
        (7, "2025-09-25", "1407", "SEK", 'HÅRFIX, SÖDER - Café "Öst"', "27473.66"),
    ]
    first = statement.transactions[0]
    assert (first.transaction_date, first.value_date, first.reference, first.counterparty) == (
        date(2025, 10, 4), date(2025, 10, 4), "THE RED LION", None)
    assert (statement.errors, statement.warnings) == ([], [])


def test_swedbank_company_export() -> None:
    statement = read(SWEDBANK_COMPANY, encoding="cp1252")
    assert (statement.format, statement.account, statement.rows) == ("swedbank-company", "8327-9-9034567890", 2)
    assert [summary(t) for t in statement.transactions] == [
        (3, "2025-09-30", "-12500.00", "SEK", "5050-1055 - Bg-betalning", "48210.40"),
        (4, "2025-09-29", "60710.40", "SEK", "Faktura 1042 - Insättning", "60710.40"),
    ]


def test_swedbank_export_resaved_by_excel_with_semicolons_and_decimal_commas() -> None:
    text = SWEDBANK_SE.replace(",", ";").replace("-120.00;21834.16", "-120,00;21834,16")
    statement = read(text, encoding="utf-8-sig")
    assert (statement.format, statement.encoding, statement.delimiter) == ("swedbank-se", "utf-8-sig", ";")
    assert (statement.transactions[0].amount, statement.transactions[0].balance) == (
        Decimal("-120.00"), Decimal("21834.16"))
    assert statement.transactions[4].description == 'HÅRFIX; SÖDER - Café "Öst"'  # a quoted separator


def test_swedbank_export_without_preamble_or_balance_column() -> None:
    lines = SWEDBANK_SE.split("\r\n")[1:]
    text = "\r\n".join(line.rsplit(",", 1)[0] for line in lines if line)
    statement = read(text)
    assert (statement.format, len(statement.transactions), statement.errors) == ("swedbank-se", 5, [])
    assert statement.transactions[0].row == 2 and statement.transactions[0].balance is None


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers_of_the_file() -> None:
    text = SWEDBANK_SE.replace('"Kortköp/uttag"', '"Kortköp\r\nuttag"')
    statement = read(text)
    assert [t.row for t in statement.transactions] == [3, 5, 6, 7, 8]


def test_ica_six_columns_with_preamble_bom_nbsp_and_a_reserved_row() -> None:
    statement = read(ICA_6COL)
    assert (statement.bank, statement.format, statement.encoding, statement.account, statement.rows) == (
        "ica", "ica-6col", "utf-8-sig", "9274-123 456 7", 6)
    assert [summary(t) + (t.status,) for t in statement.transactions] == [
        (5, "2025-09-30", "-1079.40", "SEK", "St1 Kalmar", "424.69", "booked"),
        (6, "2025-09-29", "-256.70", "SEK", "Willys Mariestad Hag   Mariestad      Se", None, "pending"),
        (7, "2025-09-26", "7.55", "SEK", "Apple.Com/Bill", "1504.09", "booked"),
        (8, "2025-09-26", "-25.00", "SEK", "Avgift Bankkort", "1496.54", "booked"),
        (9, "2025-09-26", "-25.00", "SEK", "Avgift Bankkort", "1521.54", "booked"),
        (10, "2025-09-25", "25000.00", "SEK", "Lön", "-23453.46", "booked"),
    ]
    assert {t.account for t in statement.transactions} == {"9274-123 456 7"}
    assert statement.errors == []
    assert statement.warnings == [
        RowMessage(6, "PENDING",
                   "Rad 6: Reserverat belopp, ännu inte bokfört: importeras inte som bokförd transaktion")]


def test_ica_five_columns_reserved_row_in_any_case() -> None:
    statement = read(ICA_5COL)
    assert (statement.format, statement.account, statement.rows) == ("ica-5col", None, 4)
    assert [(t.row, t.amount, t.status) for t in statement.transactions] == [
        (2, Decimal("-256.70"), "pending"), (3, Decimal("-189.00"), "booked"),
        (4, Decimal("-1249.00"), "booked"), (5, Decimal("-412.00"), "booked"),
    ]
    assert codes(statement.warnings) == [(2, "PENDING")]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("-1 234,50 kr", "-1234.50"),
        ("-1\u00a0234,50 kr", "-1234.50"),
        ("-1\u202f234,50\u00a0kr", "-1234.50"),
        ("1 000 000,00 kr", "1000000.00"),
        ("7,55 kr", "7.55"),
        ("-125,50", "-125.50"),
        ("\u22121 234,50 kr", "-1234.50"),
        ("12 KR", "12"),
    ],
)
def test_ica_amounts(text: str, amount: str) -> None:
    statement = read(f"Datum;Text;Typ;Belopp;Saldo\n2025-10-01;Köp;Korttransaktion;{text};\n")
    assert statement.errors == []
    assert statement.transactions[0].amount == Decimal(amount)


# --- detection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bank", "variant"),
    [
        (SWEDBANK_SE, "swedbank", "swedbank-se"),
        (SWEDBANK_COMPANY, "swedbank", "swedbank-company"),
        (SEED_SWEDBANK, "swedbank", "swedbank-baltic"),
        (SEED_SWEDBANK.split("\n", 1)[1], "swedbank", "swedbank-baltic"),
        ('"Klienta konts";"Ieraksta tips";"Datums";"Saņēmējs/Maksātājs";"Informācija";"Summa";"Valūta";"D/K";\n'
         + SEED_SWEDBANK.split("\n", 2)[2], "swedbank", "swedbank-baltic"),
        ((DATA / "swedbank_baltic_lt_bank2ynab.csv").read_text(encoding="utf-8"), "swedbank", "swedbank-baltic-lt"),
        ((DATA / "swedbank_baltic_lt_bank2ynab.csv").read_text(encoding="utf-8").split("\n", 1)[1], "swedbank",
         "swedbank-baltic-lt"),
        (ICA_6COL, "ica", "ica-6col"),
        (ICA_6COL.split("\n", 3)[3], "ica", "ica-6col"),
        (ICA_5COL, "ica", "ica-5col"),
        (SEED_ICA, "ica", "ica-seed"),
        (SEED_ICA.replace(";", ",").replace(",50", ".50"), "ica", "ica-seed"),
        ("Datum;Belopp;Text;Motpart\n2025-10-01;-10,00;;Kiosken\n", "ica", "ica-seed"),
    ],
)
def test_every_variant_is_detected_from_its_content(text: str, bank: str, variant: str) -> None:
    statement = read(text, name="export.txt")
    assert (statement.bank, statement.format, statement.file_error) == (bank, variant, None)


def test_the_seed_counterparty_stands_in_for_a_missing_description() -> None:
    statement = read("Datum;Belopp;Beskrivning;Motpart\n2025-10-01;-10,00;;Kiosken\n2025-10-02;-5,00;Glass;Kiosken\n")
    assert [(t.description, t.counterparty) for t in statement.transactions] == [
        ("Kiosken", "Kiosken"), ("Glass", "Kiosken")]


@pytest.mark.parametrize(("text", "bank"), [(SEED_ICA, "ica"), (SWEDBANK_SE, "swedbank"), (SEED_SWEDBANK, "swedbank")])
def test_a_forced_bank_reads_its_own_files(text: str, bank: str) -> None:
    assert read(text, bank=bank).bank == bank


def test_a_forced_bank_that_does_not_match_is_a_file_error() -> None:
    statement = read(ICA_6COL, bank="swedbank")
    assert (statement.bank, statement.transactions, statement.file_error.code) == (None, [], "BANK_MISMATCH")
    assert statement.file_error.message.startswith("Filen ser inte ut att komma från Swedbank utan från ICA-banken")
    assert "Radnummer,Clearingnummer" in statement.file_error.message
    assert read(SWEDBANK_SE, bank="ica").file_error.code == "BANK_MISMATCH"


def test_a_forced_bank_with_an_unknown_file_names_only_its_own_formats() -> None:
    error = read("Bokföringsdag;Belopp;Avsändare;Mottagare;Namn;Rubrik;Saldo;Valuta\n", bank="ica").file_error
    assert error.code == "UNKNOWN_FORMAT"
    assert "Datum;Text;Typ;Budgetgrupp;Belopp;Saldo" in error.message and "Radnummer" not in error.message


# --- encodings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("latin-1", "cp1252"), ("cp1252", "cp1252")],
)
def test_encodings_round_trip_swedish_letters(encoding: str, reported: str) -> None:
    text = "Datum;Text;Typ;Belopp;Saldo\r\n2025-10-01;Räksmörgås Åre ÖÄÅ;Korttransaktion;-89,00 kr;1 000,00 kr\r\n"
    statement = read(text, encoding=encoding)
    assert (statement.format, statement.encoding) == ("ica-5col", reported)
    assert statement.transactions[0].description == "Räksmörgås Åre ÖÄÅ"


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_read_as_iso_8859_1() -> None:
    data = "Datum;Text;Typ;Belopp;Saldo\n2025-10-01;Åre;Övrigt;-1,00 kr;\n".encode("latin-1").replace(b"re", b"re\x81")
    statement = read_statement(Path("x.csv"), data=data, today=TODAY)
    assert (statement.encoding, statement.transactions[0].description) == ("latin-1", "Åre\x81")


# --- file errors (seed 004 §6.1) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "options", "code", "message"),
    [
        ("statement.xlsx", SEED_ICA.encode(), {}, "FILE_TYPE",
         "Filtypen stöds inte. Endast .csv- och .txt-filer accepteras."),
        ("statement.csv", SEED_ICA.encode(), {"max_bytes": 100}, "FILE_TOO_LARGE",
         "Filen är för stor. Max storlek är 100 byte."),
        ("statement.csv", b"", {}, "FILE_EMPTY", "Filen är tom."),
        ("statement.csv", b"\xef\xbb\xbf\r\n\r\n", {}, "FILE_EMPTY", "Filen är tom."),
        ("statement.csv", SEED_ICA.encode("utf-16"), {}, "ENCODING",
         "Filen kunde inte läsas. Kontrollera att filen är en giltig CSV-fil."),
        ("statement.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), {}, "ENCODING",
         "Filen kunde inte läsas. Kontrollera att filen är en giltig CSV-fil."),
        ("statement.csv", ("Datum;Text;Typ;Belopp;Saldo\n2025-10-01;\"" + "x" * 140_000 + "\n").encode(), {},
         "FILE_CORRUPT", "Filen kunde inte läsas. Kontrollera att filen är en giltig CSV-fil."),
        ("statement.csv", b"2025-09-30;St1 Kalmar;Korttransaktion;-1 079,40 kr;424,69 kr\n", {}, "NO_HEADER",
         "CSV-filen saknar kolumnnamn. Kontrollera filformatet."),
        ("statement.csv", b";;;;\n2025-09-30;St1;Korttransaktion;-1,00 kr;1,00 kr\n", {}, "NO_HEADER",
         "CSV-filen saknar kolumnnamn. Kontrollera filformatet."),
        ("statement.csv", b"Datum;Belopp\n2025-10-01;-10,00\n", {}, "TOO_FEW_COLUMNS",
         "CSV-filen har för få kolumner. Minst 3 kolumner krävs (datum, belopp, beskrivning)."),
        ("statement.csv", b"Datum\n2025-10-01\n", {}, "TOO_FEW_COLUMNS",
         "CSV-filen har för få kolumner. Minst 3 kolumner krävs (datum, belopp, beskrivning)."),
        ("statement.csv", b"Datum;Text;Typ;Budgetgrupp;Belopp;Saldo\n", {}, "NO_DATA_ROWS",
         "Inga giltiga transaktioner hittades i filen."),
        ("statement.csv", (BALTIC_HEADER + SEED_SWEDBANK.split("\n")[1] + "\n").encode(), {}, "NO_DATA_ROWS",
         "Inga giltiga transaktioner hittades i filen."),
    ],
)
def test_file_errors(name: str, data: bytes, options: dict[str, object], code: str, message: str) -> None:
    statement = read_statement(Path(name), data=data, today=TODAY, **options)  # type: ignore[arg-type]
    assert statement.file_error == RowMessage(0, code, message)
    assert (statement.transactions, statement.size) == ([], len(data))
    assert statement.sha256 == hashlib.sha256(data).hexdigest()


def test_the_size_limit_defaults_to_the_seeds_10_mb(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    path.write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    assert read_statement(path, today=TODAY).file_error == RowMessage(
        0, "FILE_TOO_LARGE", "Filen är för stor. Max storlek är 10 MB.")
    path.write_bytes(b"x\n" * (5 * 1024 * 1024))
    assert read_statement(path, today=TODAY).file_error.code == "TOO_FEW_COLUMNS"  # past the size check


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_what_is_not_a_regular_file_is_refused_without_reading_it(tmp_path: Path, kind: str) -> None:
    """Before, a FIFO waited for a writer and /dev/zero was hashed until the end that never comes."""
    import os
    import threading

    if kind == "fifo":
        path = tmp_path / "export.csv"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    found: list[Statement] = []
    reader = threading.Thread(target=lambda: found.append(read_statement(path, today=TODAY)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive() and kind == "fifo":
        with path.open("wb"):  # let the stuck reader go
            pass
    assert found, "read_statement did not return within 10 s"
    assert found[0].file_error == RowMessage(
        0, "NOT_A_FILE", "Det här är ingen vanlig fil (utan t.ex. en enhet eller en namngiven pipe) och kan inte importeras.")


def test_an_unknown_header_names_what_was_expected() -> None:
    error = read("Datum,Transaktion,Kategori,Belopp,Saldo\n2020-05-05,Kortköp,,\"-99,00\",\n").file_error
    assert error.code == "UNKNOWN_FORMAT"
    assert error.message.startswith("Filformatet känns inte igen. Förväntat ett av: ")
    for expected in ("Datum;Text;Typ;Budgetgrupp;Belopp;Saldo", "Datum;Text;Typ;Belopp;Saldo",
                     "Datum;Belopp;Beskrivning;Saldo", "Radnummer,Clearingnummer,Kontonummer",
                     "Radnr,Clnr,Kontonr", '"Client account";"Row type"', '"Account No",""'):
        assert expected in error.message


def test_a_swedbank_preamble_over_an_unknown_header_names_only_swedbanks_header() -> None:
    text = SWEDBANK_SE.replace("Radnummer,", "Rad,")
    error = read(text).file_error
    assert error.code == "UNKNOWN_FORMAT"
    assert "Radnummer,Clearingnummer" in error.message and "Budgetgrupp" not in error.message


def test_a_file_is_read_from_disk_when_no_bytes_are_given(tmp_path: Path) -> None:
    path = tmp_path / "kontoutdrag.TXT"
    path.write_bytes(SEED_ICA.encode("utf-8-sig"))
    statement = read_statement(path, today=TODAY)
    assert (statement.file_name, statement.format, len(statement.transactions)) == ("kontoutdrag.TXT", "ica-seed", 3)


# --- row errors and warnings (seed 004 §5.2, §6.2) ---------------------------------------------------


def ica_rows(*rows: str) -> Statement:
    return read("Datum;Belopp;Beskrivning;Saldo\n" + "".join(row + "\n" for row in rows))


@pytest.mark.parametrize(
    ("row", "code", "message"),
    [
        ("2025-02-30;-1,00;Köp;1,00", "DATE_INVALID", "Rad 2: Datumet kunde inte parsas"),
        ("30/09/2025;-1,00;Köp;1,00", "DATE_INVALID", "Rad 2: Datumet kunde inte parsas"),
        (";-1,00;Köp;1,00", "DATE_INVALID", "Rad 2: Datumet kunde inte parsas"),
        ("2025-10-24;-1,00;Köp;1,00", "DATE_IN_FUTURE", "Rad 2: Datumet 2025-10-24 ligger mer än 7 dagar fram i tiden"),
        ("2025-10-01;-1.00;Köp;1,00", "AMOUNT_INVALID", "Rad 2: Beloppet kunde inte parsas"),
        ("2025-10-01;;Köp;1,00", "AMOUNT_INVALID", "Rad 2: Beloppet kunde inte parsas"),
        ("2025-10-01;-12 34,00;Köp;1,00", "AMOUNT_INVALID", "Rad 2: Beloppet kunde inte parsas"),
        ("2025-10-01;10 000 000,01;Köp;1,00", "AMOUNT_TOO_LARGE",
         "Rad 2: Beloppet 10000000.01 är större än 10 000 000"),
        ("2025-10-01;-1,505;Köp;1,00", "AMOUNT_DECIMALS", "Rad 2: Beloppet -1.505 har fler än 2 decimaler"),
        ("2025-10-01;-1,00;   ;1,00", "DESCRIPTION_MISSING", "Rad 2: Beskrivning saknas"),
        ("2025-10-01;-1,00;" + "x" * 501 + ";1,00", "DESCRIPTION_TOO_LONG",
         "Rad 2: Beskrivningen är längre än 500 tecken (501)"),
        ("2025-10-01;-1,00;Köp", "ROW_FIELDS", "Rad 2: Raden har 3 fält, förväntat 4"),
        ("2025-10-01;-1,00;Köp;1,00;extra", "ROW_FIELDS", "Rad 2: Raden har 5 fält, förväntat 4"),
    ],
)
def test_row_errors_keep_the_row_out_and_the_rest_in(row: str, code: str, message: str) -> None:
    statement = ica_rows(row, "2025-10-02;-6,00;Efter;4,00")
    assert statement.errors == [RowMessage(2, code, message)]
    assert [t.row for t in statement.transactions] == [3]
    assert (statement.rows, statement.file_error) == (2, None)


@pytest.mark.parametrize(
    ("row", "code", "message"),
    [
        ("2015-10-15;-1,00;Köp;1,00", "DATE_OLD", "Rad 2: Datumet 2015-10-15 är äldre än 10 år"),
        ("2025-10-01;0,00;Köp;1,00", "AMOUNT_ZERO", "Rad 2: Beloppet är 0"),
        ("2025-10-01;-1,00;Köp;1 0,00", "BALANCE_INVALID", "Rad 2: Saldot '1 0,00' kunde inte parsas och utelämnas"),
    ],
)
def test_row_warnings_keep_the_row(row: str, code: str, message: str) -> None:
    statement = ica_rows(row)
    assert (statement.errors, statement.warnings) == ([], [RowMessage(2, code, message)])
    assert [t.row for t in statement.transactions] == [2]


def test_the_date_limits_are_inclusive_and_every_date_form_is_read() -> None:
    statement = ica_rows("2025-10-23;-1,00;a;", "2015-10-16;-1,00;b;", "16.10.2025;-1,00;c;", "16-10-2025;-1,00;d;",
                         "2025/10/16;-1,00;e;", "1.2.2025;-1,00;f;")
    assert (statement.errors, statement.warnings) == ([], [])
    assert [t.booking_date for t in statement.transactions] == [
        date(2025, 10, 23), date(2015, 10, 16), TODAY, TODAY, TODAY, date(2025, 2, 1)]


def test_amounts_with_trailing_zeros_beyond_two_decimals_are_exact() -> None:
    statement = ica_rows("2025-10-01;-1,500;Köp;", "2025-10-01;10 000 000,00;Lön;")
    assert statement.errors == []
    assert [t.amount for t in statement.transactions] == [Decimal("-1.5"), Decimal("10000000.00")]


def test_several_errors_on_one_row_are_all_reported() -> None:
    statement = ica_rows("igår;abc;;")
    assert codes(statement.errors) == [(2, "DATE_INVALID"), (2, "AMOUNT_INVALID"), (2, "DESCRIPTION_MISSING")]
    assert (statement.rows, statement.transactions) == (1, [])


def baltic_rows(*rows: str) -> Statement:
    return read(BALTIC_HEADER + "".join(row + "\n" for row in rows))


def baltic(row_type: str = "20", day: str = "08.01.2025", payer: str = "ICA", details: str = "Kortköp",
           amount: str = "125,50", currency: str = "SEK", direction: str = "D") -> str:
    return (f'"SE00";"{row_type}";"{day}";"{payer}";"{details}";"{amount}";"{currency}";"{direction}";'
            '"2025010800001";"MK";"";"";')


@pytest.mark.parametrize(
    ("row", "code", "message"),
    [
        (baltic(direction="X"), "DIRECTION_INVALID", "Rad 2: Debet/kredit ska vara D eller K, inte 'X'"),
        (baltic(direction=""), "DIRECTION_INVALID", "Rad 2: Debet/kredit ska vara D eller K, inte ''"),
        (baltic(row_type="30"), "ROW_TYPE_UNKNOWN", "Rad 2: Radtypen '30' är okänd (förväntat 10, 20, 82 eller 86)"),
        (baltic(currency="kronor"), "CURRENCY_INVALID", "Rad 2: Valutan 'kronor' är ingen valutakod"),
        (baltic(amount="-125,50"), "AMOUNT_INVALID", "Rad 2: Beloppet kunde inte parsas"),
        (baltic(day="2025-13-01"), "DATE_INVALID", "Rad 2: Datumet kunde inte parsas"),
        (baltic(payer="", details=""), "DESCRIPTION_MISSING", "Rad 2: Beskrivning saknas"),
        ('"SE00";"20";"08.01.2025";"ICA";"Kortköp";"1,00";"SEK"', "ROW_FIELDS",
         "Rad 2: Raden har 7 fält, förväntat minst 8"),
    ],
)
def test_baltic_row_errors(row: str, code: str, message: str) -> None:
    statement = baltic_rows(row, baltic())
    assert statement.errors == [RowMessage(2, code, message)]
    assert [t.row for t in statement.transactions] == [3]


def test_a_foreign_currency_is_kept_with_a_warning() -> None:
    statement = baltic_rows(baltic(currency="eur", direction="K"))
    assert (statement.transactions[0].amount, statement.transactions[0].currency) == (Decimal("125.50"), "EUR")
    assert statement.warnings == [RowMessage(2, "CURRENCY_NOT_SEK", "Rad 2: Valutan är EUR, inte SEK")]


def test_balance_and_turnover_rows_are_neither_counted_nor_validated() -> None:
    statement = baltic_rows(baltic(row_type="10", day="ogiltigt", amount="x"), baltic(), baltic(row_type="82"),
                            baltic(row_type="86", currency=""))
    assert (statement.rows, [t.row for t in statement.transactions], statement.errors) == (1, [3], [])


@pytest.mark.parametrize(
    ("payer", "details", "description"),
    [
        ("ICA MAXI", "Kortköp 123", "ICA MAXI - Kortköp 123"),  # §4.4
        ("", "Kortköp 123", "Kortköp 123"),
        ("  ICA MAXI ", "", "ICA MAXI"),  # §4.3: the payer when Details is empty
        ("MAXIMA", "maxima", "maxima"),  # not repeated
        ("P" * 300, "D" * 300, ("P" * 300 + " - " + "D" * 300)[:500]),  # §4.4: cut to 500
    ],
)
def test_the_swedbank_description_rule(payer: str, details: str, description: str) -> None:
    statement = baltic_rows(baltic(payer=payer, details=details))
    assert statement.transactions[0].description == description
    assert statement.transactions[0].counterparty == (payer.strip() or None)


def test_a_swedbank_part_over_500_characters_is_an_error() -> None:
    statement = baltic_rows(baltic(payer="P" * 501, details="Kortköp"))
    assert codes(statement.errors) == [(2, "DESCRIPTION_TOO_LONG")]


def test_swedbank_swedish_row_errors_cover_every_date_column() -> None:
    header = SWEDBANK_SE.split("\r\n", 2)
    row = '9,83519,0036110559,"Privatkonto",{currency},2025-10-01,{transacted},2025-10-01,"X","Y",{amount},1.00'
    statement = read("\r\n".join(header[:2]) + "\r\n" + "\r\n".join([
        row.format(currency="SEK", transacted="", amount="-1.00"),
        row.format(currency="SEK", transacted="2025-13-01", amount="-1.00"),
        row.format(currency="SEK", transacted="2025-10-01", amount="-1 000.00"),
        row.format(currency="NOK", transacted="2025-10-01", amount="-1.00"),
    ]) + "\r\n")
    assert codes(statement.errors) == [(4, "DATE_INVALID"), (5, "AMOUNT_INVALID")]
    assert codes(statement.warnings) == [(6, "CURRENCY_NOT_SEK")]
    assert [(t.row, t.transaction_date) for t in statement.transactions] == [(3, None), (6, date(2025, 10, 1))]


# --------------------------------------------------------------------------- the sandbox's bank exports


def test_the_sandbox_bank_exports_are_read_by_our_reader_without_one_error(tmp_path: Path) -> None:
    """`ledgerflow sandbox bank-export` writes what bank_formats.md §1.1 and §2.1 describe, byte by byte,
    and connectors.banks reads every row of it: no error, no warning, balances that chain."""
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["sandbox", "bank-export", "--out", str(tmp_path), "--seed", "3", "--rows", "250"])
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.iterdir())
    assert [p.name.split("_")[0] for p in files] == ["ICA-banken", "Transaktioner"]
    statements = {s.format: s for s in map(read_statement, files)}
    assert set(statements) == {"ica-6col", "swedbank-se"}
    for statement in statements.values():
        assert (statement.file_error, statement.errors, statement.warnings) == (None, [], []), statement.file_name
        assert statement.rows == len(statement.transactions) == 250
        assert {t.status for t in statement.transactions} == {"booked"}
        assert statement.account is not None
        # newest first, and each row's balance is the next (older) one's plus its amount
        rows = statement.transactions
        assert [t.booking_date for t in rows] == sorted((t.booking_date for t in rows), reverse=True)
        assert all(newer.balance - newer.amount == older.balance for newer, older in zip(rows, rows[1:]))
        assert {t.amount > 0 for t in rows} == {True, False}
    ica, swedbank = statements["ica-6col"], statements["swedbank-se"]
    assert (ica.encoding, ica.delimiter, swedbank.encoding, swedbank.delimiter) == ("utf-8-sig", ";", "cp1252", ",")
    fees = [t for t in ica.transactions if t.description == "Avgift Bankkort"]
    assert any(a.booking_date == b.booking_date for a, b in zip(fees, fees[1:]))  # two identical rows in a day
    assert any("," in t.description and '"' in t.description for t in swedbank.transactions)  # CSV quoting

    raw = {p.name.split("_")[0]: p.read_bytes() for p in files}
    first_line = raw["Transaktioner"].split(b"\r\n", 1)[0]
    assert first_line.startswith(b"* Transaktioner Period ") and b"\x96" in first_line  # cp1252's en dash
    assert raw["Transaktioner"].endswith(b"\r\n") and raw["Transaktioner"].count(b"\n") == raw["Transaktioner"].count(b"\r\n")
    assert raw["ICA-banken"].startswith(b"\xef\xbb\xbf92") and b"\r" not in raw["ICA-banken"]
    assert b" kr;" in raw["ICA-banken"] and b"\xc2\xa0" not in raw["ICA-banken"]  # ASCII space grouping, as ICA writes


def test_the_same_seed_and_day_give_the_same_bank_exports(tmp_path: Path) -> None:
    from connectors.sandbox.bank import write_bank_exports

    day = date(2026, 6, 30)  # summer: Swedbank's preamble says CEST
    first = write_bank_exports(tmp_path / "a", seed=5, rows=40, today=day)
    again = write_bank_exports(tmp_path / "b", seed=5, rows=40, today=day)
    other = write_bank_exports(tmp_path / "c", seed=6, rows=40, today=day)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again] != [p.read_bytes() for p in other]
    assert first[0].name == "Transaktioner_2026-06-30_08-12-00.csv"
    assert first[0].read_bytes().split(b"\r\n", 1)[0].endswith(b"Skapad 2026-06-30 08:12 CEST")
    assert all(not s.errors for s in (read_statement(p, today=day) for p in first))
