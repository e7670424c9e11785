"""The codes a bank-statement import reports, with the Swedish texts users read (seed 004 §6).

The code is stable English for programs to act on; the message is the seed's Swedish wording
where the seed gives one (§6.1, §6.2), so the import log reads as the specification promises.
Row messages start with ``Rad X:`` like the seed's, X being the file's line number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RowMessage:
    row: int  # the file's line number as an editor shows it; 0 for the file as a whole
    code: str
    message: str


FILE_MESSAGES: Mapping[str, str] = {
    "FILE_TYPE": "Filtypen stöds inte. Endast .csv- och .txt-filer accepteras.",
    "NOT_A_FILE": "Det här är ingen vanlig fil (utan t.ex. en enhet eller en namngiven pipe) och kan inte importeras.",
    "FILE_TOO_LARGE": "Filen är för stor. Max storlek är {limit}.",
    "FILE_EMPTY": "Filen är tom.",
    "ENCODING": "Filen kunde inte läsas. Kontrollera att filen är en giltig CSV-fil.",
    "FILE_CORRUPT": "Filen kunde inte läsas. Kontrollera att filen är en giltig CSV-fil.",
    "NO_HEADER": "CSV-filen saknar kolumnnamn. Kontrollera filformatet.",
    "TOO_FEW_COLUMNS": "CSV-filen har för få kolumner. Minst 3 kolumner krävs (datum, belopp, beskrivning).",
    "UNKNOWN_FORMAT": "Filformatet känns inte igen. Förväntat ett av: {expected}.",
    "BANK_MISMATCH": (
        "Filen ser inte ut att komma från {bank} utan från {found} ({format}). Förväntat ett av: {expected}."
    ),
    "NO_DATA_ROWS": "Inga giltiga transaktioner hittades i filen.",
}

ROW_MESSAGES: Mapping[str, str] = {
    "ROW_FIELDS": "Raden har {value} fält, förväntat {expected}",
    "ROW_TYPE_UNKNOWN": "Radtypen {value!r} är okänd (förväntat 10, 20, 82 eller 86)",
    "DATE_INVALID": "Datumet kunde inte parsas",
    "DATE_IN_FUTURE": "Datumet {value} ligger mer än 7 dagar fram i tiden",
    "DATE_OLD": "Datumet {value} är äldre än 10 år",
    "AMOUNT_INVALID": "Beloppet kunde inte parsas",
    "AMOUNT_ZERO": "Beloppet är 0",
    "AMOUNT_TOO_LARGE": "Beloppet {value} är större än 10 000 000",
    "AMOUNT_DECIMALS": "Beloppet {value} har fler än 2 decimaler",
    "DIRECTION_INVALID": "Debet/kredit ska vara D eller K, inte {value!r}",
    "DESCRIPTION_MISSING": "Beskrivning saknas",
    "DESCRIPTION_TOO_LONG": "Beskrivningen är längre än 500 tecken ({value})",
    "CURRENCY_INVALID": "Valutan {value!r} är ingen valutakod",
    "CURRENCY_NOT_SEK": "Valutan är {value}, inte SEK",
    "BALANCE_INVALID": "Saldot {value!r} kunde inte parsas och utelämnas",
    "PENDING": "Reserverat belopp, ännu inte bokfört: importeras inte som bokförd transaktion",
}


def file_message(code: str, **values: object) -> RowMessage:
    return RowMessage(0, code, FILE_MESSAGES[code].format(**values))


def row_message(row: int, code: str, **values: object) -> RowMessage:
    return RowMessage(row, code, f"Rad {row}: " + ROW_MESSAGES[code].format(**values))
