"""Generated bank exports of the sandbox company: the Swedbank company-account report and ICA-banken.

No public sample of either exists (reference/bank/README.md), so these follow the byte-level
facts of bank_formats.md: Swedbank's preamble, comma separation, point decimals and
Windows-1252; ICA-banken's account preamble, semicolons, "kr" amounts with spaced thousands.
Used by the demo and the benchmark; the tests keep their own hand-written files.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

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
