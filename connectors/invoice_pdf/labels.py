"""The printed labels each field hides behind, Swedish first, then English, German, French, Dutch.

Each field has tiers, most specific first: "Fakturanummer" is surer than the bare title
"Faktura" with a number beside it, and "Summa exkl. moms" than "Subtotal". A label matches
at the start of a cell and must end at a word boundary, so "Total" does not match "Totalt"
and "Netto" does not match "Nettopreis". The vocabulary covers Swedish supplier invoices
and the reference corpus (shared/reference/invoices); a new supplier's wording is one line here.
"""

from __future__ import annotations

import re

# An amount label may carry its currency: "Total EUR", "Att betala (SEK)".
_CURRENCY_SUFFIX = r"(?:\s*\(?(?:SEK|EUR|USD|GBP|NOK|DKK|kr)\)?)?"


def _tier(*alternatives: str, currency: bool = False) -> re.Pattern[str]:
    suffix = _CURRENCY_SUFFIX if currency else ""
    return re.compile(rf"(?:{'|'.join(alternatives)}){suffix}(?!\w)", re.IGNORECASE)


INVOICE_NUMBER = (
    _tier(
        r"fakturanummer", r"faktura ?nr\.?", r"fakturanum\.?", r"invoice (?:number|no\.?|nr\.?|n°|#)", r"invoice#",
        r"rechnungs-?nummer", r"rechnungs-?nr\.?", r"rechnung (?:nr\.?|#)", r"(?:facture|avoir) n[°o]\.?",
        r"n[°o] de facture", r"numéro de facture", r"factuur ?nummer", r"factuurnr\.?", r"factuur nr\.?",
    ),
    _tier(r"faktura", r"kreditfaktura", r"invoice", r"credit note", r"rechnung", r"gutschrift", r"facture", r"avoir",
          r"factuur", r"creditnota"),
)
# "Handelsrechnung (380)  Nr. 471102 vom 05.06.2018": title, type code, number and date on one line.
TITLE_LINE = re.compile(
    r"(?i)\b(?:\w*rechnung|gutschrift|rechnungskorrektur|faktura|invoice|facture)(?:\s*\([^)]*\))*\s+"
    r"(?:nr|no|n°|#)\.?\s*(?P<number>\S+)"
)

INVOICE_DATE = (
    _tier(
        r"fakturadatum", r"fakturadag", r"invoice date", r"date of invoice", r"issue date", r"rechnungsdatum",
        r"belegdatum", r"date de (?:la )?facture", r"date de facturation", r"factuur ?datum",
    ),
    _tier(r"datum", r"date", r"dated"),
)
DUE_DATE = (
    _tier(
        r"förfallodatum", r"förfallodag", r"förfaller", r"sista betalningsdag", r"(?:att )?betala[s]? senast",
        r"due date",
        r"payment due", r"fällig(?:keit|keitsdatum)?(?: am)?", r"zahlungsziel", r"zahlbar bis", r"date d'échéance",
        r"échéance", r"vervaldatum", r"vervaldag", r"uiterste betaaldatum",
    ),
)
# Due dates written into a sentence: "Betalas senast 2026-09-09.", "Please remit until 2020-12-12."
DUE_SENTENCE = re.compile(
    r"(?i)\b(?:betalas senast|betala senast|förfaller|remit until|payable by|due by|pay by|bis zum|zahlbar bis"
    r"|à régler avant le|te betalen voor)\s+"
)

TOTAL = (
    _tier(r"att betala(?: totalt)?", r"summa att betala", r"totalt att betala", r"belopp att betala", currency=True),
    _tier(
        r"totalbelopp", r"fakturabelopp", r"summa inkl\.? moms", r"totalt inkl\.? moms", r"total for this invoice",
        r"invoice total", r"grand total", r"total (?:incl\.?|including) (?:vat|tax)", r"total amount",
        r"rechnungsbetrag", r"gesamtbetrag", r"bruttosumme", r"endbetrag", r"summe brutto", r"total ttc",
        r"montant ttc", r"net à payer", r"factuur ?totaal", r"totaalbedrag", r"totaal incl\.? btw", r"te betalen",
        currency=True,
    ),
    _tier(r"totalt", r"total", r"totaal", r"summa", r"gesamt", currency=True),
    _tier(r"amount due", r"balance due", r"due payable", r"amount payable", r"zahlbetrag",
          r"solde à payer", r"montant dû", currency=True),
)
NET = (
    _tier(
        r"summa exkl\.? moms", r"totalt exkl\.? moms", r"belopp exkl\.? moms", r"exkl\.? moms", r"nettobelopp",
        r"summa netto", r"net total", r"net amount", r"total net", r"total excl\.? (?:vat|tax)", r"amount excl\.? vat",
        r"rechnungssumme ohne ust\.?", r"summe netto", r"nettobetrag", r"nettosumme", r"gesamtnetto", r"netto",
        r"total ht", r"montant ht", r"exclusief btw", r"totaal excl\.? btw", currency=True,
    ),
    _tier(r"subtotal", r"sub-total", r"subtotaal", r"delsumma", r"zwischensumme", currency=True),
)
NET_COLUMN = (_tier(r"grondslag", r"underlag", r"momsunderlag"),)
VAT_TOTAL = (
    _tier(
        r"summa moms", r"momsbelopp", r"moms totalt", r"totalt moms", r"total moms", r"total taxes", r"tax total",
        r"total tax", r"vat total", r"total vat", r"ust\.? gesamt", r"steuerbetrag", r"mwst\.? gesamt",
        r"summe mwst\.?", r"umsatzsteuer gesamt", r"total tva", r"montant tva", r"totaal btw", r"btw totaal",
        currency=True,
    ),
)
VAT_COLUMN = (_tier(r"btw bedrag", r"momsbelopp"),)
# A VAT line: the tax's name, anything but a number, then the rate ("Moms 25 %", "Tax 15% on $ 112.90").
VAT_LINE = re.compile(
    r"(?i)(?:moms|mervärdesskatt|vat|tax|mwst\.?|ust\.?|umsatzsteuer|tva|btw)(?!\w)[^%\d]{0,30}?"
    r"(?P<rate>\d{1,2}(?:[.,]\d{1,2})?)\s*%"
)
OCR = (_tier(r"ocr(?:[- ]?(?:nummer|nr|referens))?", r"betalningsreferens", r"referensnummer"),)
CURRENCY = (_tier(r"valuta", r"currency", r"währung", r"devise", r"munteenheid"),)

BUYER_BLOCK = (
    _tier(
        r"fakturaadress", r"faktureringsadress", r"fakturamottagare", r"köpare", r"invoice address",
        r"billing address", r"bill to(?: address)?", r"sold to", r"rechnungsadresse", r"rechnungsempfänger",
        r"käufer(?:/leistungsempfänger)?", r"adresse de facturation", r"factuuradres",
    ),
)
SELLER_BLOCK = (
    _tier(r"leverantör", r"säljare", r"verkäufer", r"seller", r"supplier", r"service provider", r"fournisseur",
          r"vendeur", r"leverancier", r"rechnungssteller"),
)
NAME = _tier(r"namn", r"name", r"nom", r"naam")
DELIVERY = (
    _tier(
        r"leveransadress", r"leveransplats", r"arbetsplats", r"arbetsadress", r"levererat till", r"leverans till",
        r"byggarbetsplats", r"objektsadress", r"delivery address", r"ship to", r"shipping address", r"deliver to",
        r"lieferadresse", r"lieferanschrift", r"leistungsort", r"adresse de livraison", r"afleveradres",
        r"leveringsadres",
    ),
)
REFERENCE = (
    _tier(r"er referens", r"er ref\.?", r"ert ref\.?", r"kundreferens", r"beställare", r"your reference",
          r"your ref\.?", r"votre référence", r"ihr zeichen", r"ihre referenz", r"uw referentie", r"uw kenmerk"),
    _tier(r"referens", r"reference", r"referenz", r"référence", r"referentie"),
)
OUR_REFERENCE = (
    _tier(r"vår referens", r"vår ref\.?", r"our reference", r"our ref\.?", r"unser zeichen", r"notre référence",
          r"onze referentie"),
)
PROJECT = (
    _tier(r"projektnummer", r"projektnr\.?", r"projekt nr\.?", r"proj\.? ?nr\.?", r"ert projekt", r"projekt",
          r"er märkning", r"märkning", r"ert märke", r"objektsnummer", r"objektnr\.?", r"project number",
          r"project no\.?", r"project"),
)
PROJECT_NAME = (_tier(r"projektnamn", r"project name", r"objekt"),)
WORK_ORDER = (
    _tier(r"arbetsordernummer", r"arbetsordernr\.?", r"arbetsorder", r"ao-?nr\.?", r"ao", r"ert ordernr\.?",
          r"ert ordernummer", r"er order(?:nummer|nr\.?)?", r"work order(?: no\.?| number)?"),
)
FREE_TEXT = (
    _tier(r"avser", r"gäller", r"angående", r"meddelande", r"kommentar", r"notering", r"anteckning", r"övrigt",
          r"notes?", r"comments?", r"remarks?", r"betreff", r"bemerkung", r"hinweis", r"remarques?", r"opmerking"),
)
REVERSE_CHARGE = re.compile(
    r"(?i)omvänd (?:betalnings|skatt)skyldighet|reverse charge|steuerschuldnerschaft des leistungsempfängers"
    r"|autoliquidation|btw verlegd"
)
