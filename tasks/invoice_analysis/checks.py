"""Step 6: the checks of a supplier invoice besides its project (seed 002 BC11).

What Matilda checks by eye before she attests: the VAT (Swedish rates, the sum, reverse charge
for construction services), that the invoice is addressed to us, that the rows and the
totals add up, a sane due date and the currency. Each check says in Swedish what it found,
so a failed one can go straight into a complaint (reklamation). An *error* is an invoice
that is wrong as printed (wrong VAT, totals that do not add up, someone else's invoice) and
keeps it from being auto-approved; a *warning* is worth a look or a complaint but does not
make the booking wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from rapidfuzz import fuzz

from models.invoice_review import Buyer, Check, ExtractedFields, VatLine
from models.types import swedish_amount
from tasks.invoice_analysis.registry import process_text

VALID_RATES = (Decimal(25), Decimal(12), Decimal(6), Decimal(0))  # ML 9 kap: the Swedish VAT rates
ORE = Decimal("0.01")
KRONA = Decimal("1")  # öresavrundning: a total may be rounded to whole kronor
MAX_TERMS = 90  # days from invoice date to due date beyond which terms are suspicious
LONG_PAST = 30  # days after the due date when paying on time is out of reach
NAME_SIMILARITY = 85
# Labour and installation: construction services, which between builders are reverse charged (ML 16 kap 13 §).
SERVICE_WORDS = re.compile(
    r"arbete|arbetstid|montage|montering|installation|rivning|snickeri|målning|plattsättning|murning|"
    r"byggtjänst|entreprenad|plåtslagare|snickare|elektriker|rörmokare|målare",
    re.IGNORECASE,
)
HOUR_UNITS = frozenset({"tim", "timmar", "h", "t", "tim."})
# What the reduced rates are for (ML 9 kap): the rows they may apply to, and how a complaint names them.
REDUCED_RATES = {
    Decimal(12): (re.compile(r"fika|lunch|middag|frukost|måltid|\bmat\b|livsmedel|catering|restaurang|hotell|logi",
                             re.IGNORECASE), "livsmedel, måltider eller logi"),
    Decimal(6): (re.compile(r"\bbok\b|böcker|handbok|tidning|tidskrift|\bresa\b|biljett|persontransport|konsert|entré",
                            re.IGNORECASE), "böcker, tidningar, resor eller kultur"),
}


def kronor(amount: Decimal) -> str:
    """An amount the Swedish way: ``1 234,56 kr``."""
    return swedish_amount(amount, "kr")


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %".replace(".", ",")


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def vat_of(net: Decimal, rate: Decimal) -> Decimal:
    """The VAT of a net amount, rounded half up to whole öre as Swedish invoices do."""
    return (net * rate / 100).quantize(ORE, ROUND_HALF_UP)


def named_in(buyer: Buyer, lines: list[str]) -> bool:
    """Whether any printed line is our name (AB or Aktiebolag alike)."""
    ours = _company(buyer.name)
    return any(fuzz.ratio(ours, _company(line)) >= NAME_SIMILARITY for line in lines)


def numbered_in(buyer: Buyer, fields: ExtractedFields) -> bool:
    """Whether our org.nr or VAT number is printed as the buyer's."""
    org = _digits(buyer.org_nr)
    printed = [_digits(fields.buyer_org_nr), *(_digits(line) for line in fields.invoice_address)]
    return any(org and org in digits for digits in printed)


def _company(name: str) -> str:
    return re.sub(r"\baktiebolag(et)?\b", "ab", process_text(name))


def _net_of(line: VatLine, fields: ExtractedFields) -> Decimal | None:
    """The net a VAT line applies to: as printed, or the invoice's net when it has one rate only."""
    if line.net is not None:
        return line.net
    return fields.net if len(fields.vat_lines) == 1 else None


def _reduced_rate_misused(fields: ExtractedFields) -> str | None:
    """A reduced rate on more than the rows it may apply to: building goods at 12 % are the
    classic. Rows carry no rate when read, so what the rate's kind of rows add up to is the bound."""
    if not fields.lines:
        return None
    for line in fields.vat_lines:
        net = _net_of(line, fields)
        if line.rate not in REDUCED_RATES or net is None:
            continue
        words, what = REDUCED_RATES[line.rate]
        entitled = sum((row.amount for row in fields.lines if words.search(row.description)), Decimal(0))
        if net - entitled > ORE:
            return f"{_percent(line.rate)} moms på {kronor(net - entitled)} som inte är {what}"
    return None


def vat_rate(fields: ExtractedFields) -> Check | None:
    if fields.vat_lines:
        wrong = sorted({line.rate for line in fields.vat_lines if line.rate not in VALID_RATES})
        if wrong:
            return Check(code="vat_rate", ok=False, severity="error",
                         message=f"Momssatsen {', '.join(map(_percent, wrong))} finns inte i Sverige "
                                 "(25, 12, 6 eller 0 %)")
        misused = _reduced_rate_misused(fields)
        if misused:
            return Check(code="vat_rate", ok=False, severity="error", message=misused)
        rates = sorted({line.rate for line in fields.vat_lines}, reverse=True)
        return Check(code="vat_rate", ok=True, severity="info", message=f"Momssats {', '.join(map(_percent, rates))}")
    if fields.net is None or fields.vat_amount is None:
        return None
    for rate in VALID_RATES:
        if abs(vat_of(fields.net, rate) - fields.vat_amount) <= ORE:
            return Check(code="vat_rate", ok=True, severity="info",
                         message=f"Momsen {kronor(fields.vat_amount)} är {_percent(rate)} av {kronor(fields.net)}")
    return Check(code="vat_rate", ok=False, severity="error",
                 message=f"Momsen {kronor(fields.vat_amount)} motsvarar ingen svensk momssats av "
                         f"{kronor(fields.net)} och är inte uppdelad per momssats")


def vat_sum(fields: ExtractedFields) -> Check | None:
    """The VAT is rate × net per VAT line (± 1 öre a line), and the lines add up to the VAT."""
    if not fields.vat_lines or fields.vat_amount is None:
        return None
    expected = Decimal(0)
    for line in fields.vat_lines:
        net = _net_of(line, fields)
        expected += vat_of(net, line.rate) if net is not None else line.vat
    printed = sum((line.vat for line in fields.vat_lines), Decimal(0))
    tolerance = ORE * len(fields.vat_lines)
    if abs(printed - fields.vat_amount) > tolerance:
        return Check(code="vat_sum", ok=False, severity="error",
                     message=f"Momsraderna summerar till {kronor(printed)} men momsen är {kronor(fields.vat_amount)}")
    if abs(expected - fields.vat_amount) > tolerance:
        return Check(code="vat_sum", ok=False, severity="error",
                     message=f"Momsen {kronor(fields.vat_amount)} stämmer inte: den ska vara {kronor(expected)}")
    return Check(code="vat_sum", ok=True, severity="info", message=f"Momsen {kronor(fields.vat_amount)} stämmer")


def _construction_service(fields: ExtractedFields) -> bool:
    return any(SERVICE_WORDS.search(line.description) or (line.unit or "").lower() in HOUR_UNITS
               for line in fields.lines)


def reverse_charge(fields: ExtractedFields, buyer: Buyer) -> Check | None:
    """Omvänd betalningsskyldighet: no VAT, and our VAT number on the invoice (ML 17 kap 24 §).
    Construction services without VAT and without the text are reverse charge done wrong."""
    zero_vat = fields.vat_amount == 0 or (bool(fields.vat_lines) and all(v.rate == 0 for v in fields.vat_lines))
    if not fields.reverse_charge:
        if zero_vat and _construction_service(fields):
            return Check(code="reverse_charge", ok=False, severity="warning",
                         message="Byggtjänst utan moms men utan texten \"Omvänd betalningsskyldighet\"")
        return None
    if fields.vat_amount:
        return Check(code="reverse_charge", ok=False, severity="error",
                     message=f"Omvänd betalningsskyldighet men fakturan tar ut moms {kronor(fields.vat_amount)}")
    if not numbered_in(buyer, fields):
        return Check(code="reverse_charge", ok=False, severity="warning",
                     message=f"Omvänd betalningsskyldighet men vårt momsregistreringsnummer {buyer.vat} saknas")
    return Check(code="reverse_charge", ok=True, severity="info",
                 message="Omvänd betalningsskyldighet: ingen moms, vårt momsregistreringsnummer finns")


def invoice_address(fields: ExtractedFields, buyer: Buyer) -> Check:
    printed = [line for line in (fields.buyer_name, *fields.invoice_address) if line]
    if not printed:
        return Check(code="invoice_address", ok=False, severity="warning", message="Fakturaadress saknas på fakturan")
    if not (named_in(buyer, printed) or numbered_in(buyer, fields)):
        return Check(code="invoice_address", ok=False, severity="error",
                     message=f"Fakturan är ställd till {printed[0]}, inte till {buyer.name}")
    missing = [line for line in buyer.invoice_address
               if max(fuzz.ratio(process_text(line), process_text(p)) for p in printed) < NAME_SIMILARITY]
    if missing:
        return Check(code="invoice_address", ok=False, severity="warning",
                     message=f"Fakturaadressen avviker från vår: {', '.join(missing)} saknas")
    return Check(code="invoice_address", ok=True, severity="info", message=f"Fakturan är ställd till {buyer.name}")


def rows_sum(fields: ExtractedFields) -> Check | None:
    if not fields.lines or fields.net is None:
        return None
    rows = sum((line.amount for line in fields.lines), Decimal(0))
    if abs(rows - fields.net) > ORE:
        return Check(code="rows_sum", ok=False, severity="error",
                     message=f"Raderna summerar till {kronor(rows)} men summa exkl. moms är {kronor(fields.net)}")
    return Check(code="rows_sum", ok=True, severity="info", message=f"Raderna summerar till {kronor(rows)}")


def total_sum(fields: ExtractedFields) -> Check | None:
    if fields.total is None:
        return Check(code="total", ok=False, severity="warning", message="Att betala saknas på fakturan")
    if fields.net is None or fields.vat_amount is None:
        return None
    expected = fields.net + fields.vat_amount
    if abs(expected - fields.total) > KRONA:
        return Check(code="total", ok=False, severity="error",
                     message=f"Att betala {kronor(fields.total)} är inte {kronor(fields.net)} + moms "
                             f"{kronor(fields.vat_amount)} = {kronor(expected)}")
    return Check(code="total", ok=True, severity="info",
                 message=f"Att betala {kronor(fields.total)} = summa exkl. moms + moms")


def due_date(fields: ExtractedFields, today: dt.date) -> Check:
    due, issued = fields.due_date, fields.invoice_date
    if due is None:
        return Check(code="due_date", ok=False, severity="warning", message="Förfallodatum saknas på fakturan")
    problems = []
    if issued is not None and due < issued:
        problems.append(f"förfallodatum {due} ligger före fakturadatum {issued}")
    elif issued is not None and (due - issued).days > MAX_TERMS:
        problems.append(f"betalningsvillkoret är {(due - issued).days} dagar (mer än {MAX_TERMS})")
    if (today - due).days > LONG_PAST:
        problems.append(f"förfallodatum {due} passerades för {(today - due).days} dagar sedan")
    if problems:
        message = "; ".join(problems)
        return Check(code="due_date", ok=False, severity="warning", message=message[0].upper() + message[1:])
    return Check(code="due_date", ok=True, severity="info", message=f"Förfallodatum {due}")


def currency(fields: ExtractedFields) -> Check:
    if fields.currency is None:
        return Check(code="currency", ok=True, severity="info", message="Ingen valuta angiven: SEK antas")
    if fields.currency == "SEK":
        return Check(code="currency", ok=True, severity="info", message="Valuta SEK")
    return Check(code="currency", ok=False, severity="warning",
                 message=f"Fakturan är i {fields.currency}, inte i SEK")


def run_checks(fields: ExtractedFields, buyer: Buyer, today: dt.date) -> list[Check]:
    """Every check that the printed fields allow, in the order a reviewer reads them."""
    found = [
        vat_rate(fields),
        vat_sum(fields),
        reverse_charge(fields, buyer),
        invoice_address(fields, buyer),
        rows_sum(fields),
        total_sum(fields),
        due_date(fields, today),
        currency(fields),
    ]
    return [check for check in found if check is not None]
