"""Generated bank exports of the sandbox company: Swedbank and ICA-banken.

No public sample of either exists (reference/bank/README.md), so these follow the byte-level
facts of bank_formats.md: Swedbank's preamble, comma separation, point decimals and
Windows-1252; ICA-banken's account preamble, semicolons, "kr" amounts with spaced thousands.
`write_ica` and `write_swedbank_company` are the demo's and the benchmark's files;
`write_bank_exports` (``ledgerflow sandbox bank-export``) writes the two exports a person
downloads from the banks, as bank_formats.md §1.1 and §2.1 describe them byte by byte.
The tests keep their own hand-written files.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.sandbox.workcloud import CUSTOMERS

SUPPLIERS = ["Byggmaterial i Uppsala AB", "Ahlström Plåt AB", "Färg & Tapet i Enköping AB", "Elgrossisten Märsta AB",
             "Ställningsbolaget Öst AB", "Skanska Maskin AB", "Bergs Trävaror AB"]


def _rows(count: int, seed: int, start: dt.date) -> list[tuple[dt.date, str, str, Decimal]]:
    """(date, reference, text, signed amount): supplier payments out, customer payments in."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        day = start + dt.timedelta(days=n * 90 // max(count, 1))
        if rng.random() < 0.3:
            rows.append((day, f"Faktura {1000 + n}", rng.choice(CUSTOMERS), Decimal(rng.randrange(5_000, 400_000)) / 1))
        else:
            amount = -Decimal(rng.randrange(100_00, 9_000_000)) / 100
            rows.append((day, f"{rng.randrange(100, 9999)}-{rng.randrange(1000, 9999)}", rng.choice(SUPPLIERS), amount))
    return rows


def write_swedbank_company(path: Path, count: int, seed: int = 7, start: dt.date = dt.date(2026, 8, 1)) -> Path:
    """A Swedbank company-account transaction report (Windows-1252, newest row first)."""
    rows = _rows(count, seed, start)
    balance = Decimal("250000.00") + sum(amount for *_, amount in rows)
    end = rows[-1][0] if rows else start
    lines = [f"* Transaktionsrapport Period {start}\u2013{end} Skapad {end} 08:12 CEST",
             "Radnr,Clnr,Kontonr,Produkt,Valuta,Bokfdag,Transdag,Valutadag,Referens,Text,Belopp,Saldo"]
    for number, (day, reference, text, amount) in enumerate(reversed(rows), start=1):
        lines.append(f'{number},8327-9,9034567890,"Företagskonto",SEK,{day},{day},{day},"{reference}","{text}",'
                     f"{amount:.2f},{balance:.2f}")
        balance -= amount
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def _kronor(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "\u00a0").replace(".", ",") + " kr"


def write_ica(path: Path, count: int, seed: int = 8, start: dt.date = dt.date(2026, 10, 1)) -> Path:
    """An ICA-banken export of the site manager's company card (UTF-8 with BOM)."""
    rng = random.Random(seed)
    shops = ["Byggmax Uppsala", "Biltema Märsta", "ICA Kvantum Gränby", "Circle K Arlanda", "Jula Enköping"]
    balance = Decimal("8000.00")
    lines = ["9274-123 456 7", f"{start}", f"{start + dt.timedelta(days=30)}", "Datum;Text;Typ;Budgetgrupp;Belopp;Saldo"]
    for n in range(count):
        amount = -Decimal(rng.randrange(50_00, 2_500_00)) / 100
        balance += amount
        lines.append(f"{start + dt.timedelta(days=n % 30)};{rng.choice(shops)};Korttransaktion;Övrigt;"
                     f"{_kronor(amount)};{_kronor(balance)}")
    path.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    return path


# --------------------------------------------------------------------------- the banks' own exports

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EXPORT_DAYS = 90  # the period a generated export covers, ending on the day it is made
SWEDBANK_HEADER = ("Radnummer,Clearingnummer,Kontonummer,Produkt,Valuta,Bokföringsdag,Transaktionsdag,Valutadag,"
                   "Referens,Beskrivning,Belopp,Bokfört saldo")
ICA_HEADER = "Datum;Text;Typ;Budgetgrupp;Belopp;Saldo"
ICA_TEXT_WIDTH = 30  # ICA pads the text with spaces to a fixed width, and cuts what is longer
SWEDBANK_REFERENCE_WIDTH = 16  # Swedbank cuts Referens at 16 characters ("PAYPAL *NAMECHEA")
CARD_SHOPS = ["Byggmax Uppsala", "Biltema Märsta", "ICA Kvantum Gränby", "Circle K Arlanda", "Jula Enköping",
              "OKQ8 Bålsta", "Beijer Byggmaterial Sigtuna", "Ahlsell Uppsala Boländerna", "Clas Ohlson Stockholm City",
              "Mekonomen Kungsängen"]
# Fictional mobile numbers: 070-1740605 to 070-1740699 are reserved for films and books.
SWISH_NUMBERS = [f"+46701740{n}" for n in range(605, 700)]


@dataclass(frozen=True)
class _Row:
    booked: dt.date
    transacted: dt.date
    reference: str  # Swedbank's Referens, ICA's Typ
    text: str  # Swedbank's Beskrivning, ICA's Text
    amount: Decimal


def _next_weekday(day: dt.date) -> dt.date:
    """A weekend's card purchase is booked on the Monday after (bank_formats.md §1.1)."""
    return day + dt.timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _period(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=EXPORT_DAYS - 1), today


def _months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return sorted({(day.year, day.month) for day in days})


def _days(rng: random.Random, count: int, start: dt.date, end: dt.date) -> list[dt.date]:
    span = (end - start).days
    return sorted(start + dt.timedelta(days=rng.randint(0, span)) for _ in range(count))


def _swedbank_rows(rng: random.Random, count: int, start: dt.date, end: dt.date) -> list[_Row]:
    """The builder's company account: customers pay in by bankgiro, suppliers, cards and taxes go out.

    Referens and Beskrivning are used as the bank uses them, inconsistently: an OCR number and the
    payer, a counterparty cut at 16 characters and a kind of payment, a phone number and "Swish"."""
    rows = []
    for year, month in _months(start, end):
        day = dt.date(year, month, 12)  # VAT and employer's contributions, to the tax account on the 12th
        if start <= day <= end and len(rows) < count:
            rows.append(_Row(day, day, "Skatteverket", "Skattekonto",
                             -Decimal(rng.randrange(40_000_00, 180_000_00)) / 100))
    for n, day in enumerate(_days(rng, count - len(rows), start, end)):
        draw = rng.random()
        if draw < 0.25:
            ocr = f"{rng.randrange(10_000_000, 99_999_999)}{n % 10}"
            amount = Decimal(rng.randrange(5_000_00, 450_000_00)) / 100
            rows.append(_Row(day, day, ocr, rng.choice(CUSTOMERS), amount))
        elif draw < 0.65:
            supplier = rng.choice(SUPPLIERS)
            amount = -Decimal(rng.randrange(1_000_00, 250_000_00)) / 100
            rows.append(_Row(day, day, supplier[:SWEDBANK_REFERENCE_WIDTH], "Bankgirobetalning", amount))
        elif draw < 0.85:
            shop = rng.choice(CARD_SHOPS).upper()
            amount = -Decimal(rng.randrange(49_00, 12_000_00)) / 100
            rows.append(_Row(_next_weekday(day), day, shop[:SWEDBANK_REFERENCE_WIDTH], "Kortköp/uttag", amount))
        elif draw < 0.95:
            amount = Decimal(rng.randrange(200_00, 15_000_00)) / 100
            rows.append(_Row(day, day, rng.choice(SWISH_NUMBERS), "Swish", amount))
        else:  # a text with a comma and quotes: the CSV quoting must hold
            amount = -Decimal(rng.randrange(500_00, 9_000_00)) / 100
            rows.append(_Row(_next_weekday(day), day, "FÄRG TAPET GOLV", 'Färg, Tapet & "Golv" Enköping', amount))
    return sorted(rows, key=lambda r: (r.booked, r.transacted))


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def swedbank_export(seed: int, count: int, today: dt.date, created: dt.time = dt.time(8, 12)) -> tuple[str, bytes]:
    """The Swedish internet bank's export of a company account (bank_formats.md §1.1): its file name,
    ``Transaktioner_<created>.csv``, and its bytes. Windows-1252 (the period's dash is 0x96), CRLF,
    a ``* Transaktioner Period`` preamble, the 12-column header, the text columns quoted and nothing
    else, newest row first, amounts signed with a decimal point, the booked balance after each row."""
    rng = random.Random(f"swedbank-{seed}")
    start, end = _period(today)
    clearing, account = "83279", f"{rng.randrange(10**9):010d}"  # the account number keeps its leading zeros
    rows = _swedbank_rows(rng, count, start, end)
    balance = Decimal(rng.randrange(150_000_00, 900_000_00)) / 100 + sum(r.amount for r in rows)
    stamp = dt.datetime.combine(today, created, STOCKHOLM)
    lines = [f"* Transaktioner Period {start}\u2013{end} Skapad {today} {created:%H:%M} {stamp.tzname()}",
             SWEDBANK_HEADER]
    for number, row in enumerate(reversed(rows), start=1):
        lines.append(f"{number},{clearing},{account},{_quoted('Företagskonto')},SEK,{row.booked},{row.transacted},"
                     f"{row.booked},{_quoted(row.reference)},{_quoted(row.text)},{row.amount:.2f},{balance:.2f}")
        balance -= row.amount
    return f"Transaktioner_{stamp:%Y-%m-%d_%H-%M-%S}.csv", "".join(f"{line}\r\n" for line in lines).encode("cp1252")


def _ica_rows(rng: random.Random, count: int, start: dt.date, end: dt.date) -> tuple[Decimal, list[_Row]]:
    """The site manager's company card, oldest first, and the balance before it: purchases, the
    card's monthly fee, and a top-up from the company account whenever the balance runs low."""
    opening = balance = Decimal(rng.randrange(3_000_00, 12_000_00)) / 100
    rows = []
    fees = set(_months(start, end))
    for day in _days(rng, count, start, end):
        if balance < 2_500:
            row = _Row(day, day, "Insättning", "Överföring från företagskonto", Decimal(rng.randrange(10, 25) * 1000))
        elif (day.year, day.month) in fees:
            fees.discard((day.year, day.month))
            row = _Row(day, day, "Övrigt", "Avgift Bankkort", Decimal("-25.00"))
        else:
            amount = -Decimal(rng.randrange(35_00, 2_500_00)) / 100
            row = _Row(day, day, "Korttransaktion", rng.choice(CARD_SHOPS), amount)
        balance += row.amount
        rows.append(row)
    if count >= 3:  # the "two coffees" (bank_formats.md §4.6): one fee twice a day, told apart only by the balance
        middle = count // 2
        fee = _Row(rows[middle].booked, rows[middle].booked, "Övrigt", "Avgift Bankkort", Decimal("-25.00"))
        rows[middle: middle + 1] = [fee, fee]
        rows.pop()
    return opening, rows


def _ica_kronor(amount: Decimal) -> str:
    """``-1 079,40 kr``: ASCII spaces between thousands, a decimal comma, `` kr``."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " kr"


def ica_export(seed: int, count: int, today: dt.date) -> tuple[str, bytes]:
    """ICA-banken's export of a card account with budget groups (bank_formats.md §2.1): its file name
    and its bytes. UTF-8 with a BOM, LF, the account number and the period's first and last day above
    the header, ``;`` and no quoting, text padded with spaces to 30 characters, newest row first."""
    rng = random.Random(f"ica-{seed}")
    start, end = _period(today)
    account = f"92{rng.randrange(70, 80)}-{rng.randrange(100, 1000)} {rng.randrange(100, 1000)} {rng.randrange(10)}"
    opening, rows = _ica_rows(rng, count, start, end)
    balance = opening + sum(r.amount for r in rows)
    lines = [account, str(start), str(end), ICA_HEADER]
    for row in reversed(rows):
        text = row.text[:ICA_TEXT_WIDTH].ljust(ICA_TEXT_WIDTH)
        lines.append(f"{row.booked};{text};{row.reference};Övrigt;{_ica_kronor(row.amount)};{_ica_kronor(balance)}")
        balance -= row.amount
    return f"ICA-banken_{account[:4]}_{start}_{end}.csv", ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def write_bank_exports(out: Path, seed: int = 7, rows: int = 200, today: dt.date | None = None) -> list[Path]:
    """A Swedbank and an ICA-banken export of `rows` rows each, for the 90 days up to `today`
    (default: today in Stockholm), written to `out`. The same seed and day give the same bytes."""
    today = today or dt.datetime.now(STOCKHOLM).date()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (swedbank_export(seed, rows, today), ica_export(seed, rows, today)):
        (out / name).write_bytes(data)
        written.append(out / name)
    return written
