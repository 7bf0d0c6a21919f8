"""Generated supplier invoices in English, German, French, Dutch and Spanish, with the truth they print.

Each language prints its own labels, date and number formats; three layouts put the parties where real
invoices do, including the ones that mislead a reader: ``letterhead`` (the supplier's name large at the top,
a labelled customer block under it), ``window`` (a labelled customer block in the envelope window, its name in
larger type than the supplier's small letterhead at the right) and ``unlabelled`` (the customer's address alone
in the window, the supplier named only in the footer's registered-office line and as the bank account's
holder). Every business, address and number is invented; VAT numbers and IBANs have valid check digits.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from docintel import synthetic

LANGUAGES = ("en", "de", "fr", "nl", "es")
LAYOUTS = ("letterhead", "window", "unlabelled")


@dataclass(frozen=True)
class Wording:
    """What one language prints: labels, the VAT rate, currency and how dates and amounts are written."""

    invoice: str
    invoice_no: str
    invoice_date: str
    due_date: str
    vat_no: str
    bill_to: str
    description: str
    amount: str
    subtotal: str
    vat: str
    total: str
    payee: str
    footer: str  # the registered-office line, {name} and {city} filled in
    vat_rate: int
    currency: str
    country: str  # ISO code for the VAT number and the IBAN
    months: tuple[str, ...] = ()  # month names, when dates are written out


WORDINGS = {
    "en": Wording(
        "INVOICE", "Invoice No:", "Invoice Date:", "Due Date:", "VAT Reg No:", "Bill To:", "Description", "Amount",
        "Subtotal", "VAT 20%", "Total", "Account name:", "{name} · Registered office: 4 Quay Street, {city} · "
        "Registered in England No. 08123456", 20, "GBP", "GB",
    ),
    "de": Wording(
        "RECHNUNG", "Rechnungsnummer:", "Rechnungsdatum:", "Fällig am:", "USt-IdNr.:", "Rechnungsempfänger:",
        "Beschreibung", "Betrag", "Nettobetrag", "MwSt. 19%", "Gesamtbetrag", "Kontoinhaber:",
        "{name} · Sitz der Gesellschaft: {city} · Amtsgericht {city} HRB 45123", 19, "EUR", "DE",
        ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
         "Dezember"),
    ),
    "fr": Wording(
        "FACTURE", "Facture n°", "Date de facture :", "Date d'échéance :", "N° TVA intracommunautaire :",
        "Facturé à :", "Désignation", "Montant", "Total HT", "TVA 20 %", "Total TTC", "Titulaire du compte :",
        "{name} au capital de 10 000 € · Siège social : 8 rue des Tanneurs, {city} · RCS {city} B 512 345 678", 20,
        "EUR", "FR",
        ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre"),
    ),
    "nl": Wording(
        "FACTUUR", "Factuurnummer:", "Factuurdatum:", "Vervaldatum:", "BTW-nummer:", "Factuuradres:",
        "Omschrijving", "Bedrag", "Totaal excl. BTW", "BTW 21%", "Totaal incl. BTW", "Ten name van:",
        "{name} · Statutair gevestigd te {city} · KvK 61234567", 21, "EUR", "NL",
        ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
         "november", "december"),
    ),
    "es": Wording(
        "FACTURA", "Número de factura:", "Fecha de factura:", "Fecha de vencimiento:", "NIF:", "Facturar a:",
        "Concepto", "Importe", "Base imponible", "IVA 21%", "Total factura", "Titular de la cuenta:",
        "{name} · Inscrita en el Registro Mercantil de {city}, tomo 1234, folio 56", 21, "EUR", "ES",
        ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"),
    ),
}  # fmt: skip

# Invented suppliers per language: (name, street, postcode and city, city for the footer).
SUPPLIERS = {
    "en": [("Brackenfold Print Services Ltd", "17 Tanners Row", "Leeds LS2 7QX", "Leeds"),
           ("Harrowgate Fleet Hire Limited", "2 Depot Road", "Bristol BS3 9ZZ", "Bristol")],
    "de": [("Lindenhof Bürotechnik GmbH", "Ahornweg 12", "50667 Köln", "Köln"),
           ("Westfalia Kabelwerk AG", "Hafenstraße 3", "44147 Dortmund", "Dortmund")],
    "fr": [("Atelier Vermeil SARL", "14 rue du Marché", "69002 Lyon", "Lyon"),
           ("Solvia Informatique SAS", "3 avenue des Pins", "33000 Bordeaux", "Bordeaux")],
    "nl": [("Duinzicht Installaties B.V.", "Kanaalweg 44", "3526 KL Utrecht", "Utrecht"),
           ("Polderlicht Techniek B.V.", "Havenkade 7", "1013 BR Amsterdam", "Amsterdam")],
    "es": [("Talleres Brisamar S.L.", "Calle del Olivo 9", "28012 Madrid", "Madrid"),
           ("Suministros Cerrogordo S.A.", "Avenida del Puerto 21", "46024 Valencia", "Valencia")],
}  # fmt: skip
# Invented customers (the council and its partners) with their address lines.
CUSTOMERS = [
    ("Northshire County Council", ("County Hall", "Market Street", "Northtown NT1 2CD")),
    ("Eastmere Borough Council", ("Civic Centre", "Station Road", "Eastmere EM4 8QP")),
    ("Riverside Community Trust Ltd", ("The Old School", "Mill Lane", "Riverside RV2 3AB")),
]
ITEMS = ("Maintenance visit", "Replacement parts", "Software licence", "Consultancy (day rate)", "Delivery")


@dataclass
class GeneratedInvoice:
    """A generated invoice's PDF and the values a reader should find (dates ISO, amounts as Decimals)."""

    language: str
    layout: str
    pdf: bytes
    truth: dict[str, str] = field(default_factory=dict)


def iban(country: str, bban: str) -> str:
    """An IBAN with valid ISO 13616 check digits for a country and its domestic account number."""
    digits = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _vat_number(country: str, rng: random.Random) -> str:
    """A VAT number shaped as the country prints it (a UK one with valid check digits)."""
    if country == "GB":
        return synthetic.vat_number(rng)
    if country == "NL":
        return f"NL{rng.randint(100_000_000, 999_999_999)}B01"
    if country == "ES":
        return f"ESB{rng.randint(10_000_000, 99_999_999)}"
    if country == "FR":
        return f"FR{rng.randint(10, 99)}{rng.randint(100_000_000, 999_999_999)}"
    return f"{country}{rng.randint(100_000_000, 999_999_999)}"


def format_amount(value: Decimal, language: str) -> str:
    """An amount as the language writes it: 1,234.56 (en), 1.234,56 (de, nl, es), 1 234,56 (fr)."""
    text = f"{value:,.2f}"
    if language == "en":
        return "£" + text
    if language == "fr":
        return text.replace(",", " ").replace(".", ",") + " €"
    grouped = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ {grouped}" if language == "nl" else f"{grouped} €"


def format_date(value: dt.date, language: str, written_out: bool) -> str:
    """A date as the language writes it, numerically or with the month's name."""
    wording = WORDINGS[language]
    if written_out and wording.months:
        month = wording.months[value.month - 1]
        if language == "de":
            return f"{value.day}. {month} {value.year}"
        if language == "es":
            return f"{value.day} de {month} de {value.year}"
        return f"{value.day} {month} {value.year}"
    if language == "de":
        return value.strftime("%d.%m.%Y")
    if language == "nl":
        return value.strftime("%d-%m-%Y")
    return value.strftime("%d/%m/%Y")


def generate(language: str, layout: str, seed: int = 0) -> GeneratedInvoice:
    """One invoice in ``language`` laid out as ``layout``, reproducible from ``seed``."""
    if language not in WORDINGS or layout not in LAYOUTS:
        raise ValueError(f"language must be one of {LANGUAGES} and layout one of {LAYOUTS}")
    rng = random.Random(f"{language}-{layout}-{seed}")
    wording = WORDINGS[language]
    supplier, street, town, city = rng.choice(SUPPLIERS[language])
    customer, customer_address = rng.choice(CUSTOMERS)
    vat_number = _vat_number(wording.country, rng)
    invoice_id = f"{rng.choice(('INV', 'RE', 'F', 'FV'))}-{rng.randint(2024, 2026)}-{rng.randint(1000, 99999)}"
    issued = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 360))
    due = issued + dt.timedelta(days=30)
    written_out = rng.random() < 0.5
    items = [(rng.choice(ITEMS), Decimal(rng.randint(1500, 250000)) / 100) for _ in range(rng.randint(1, 4))]
    subtotal = sum((amount for _, amount in items), Decimal(0))
    tax = (subtotal * wording.vat_rate / 100).quantize(Decimal("0.01"))
    total = subtotal + tax
    account = iban(wording.country, _bban(wording.country, rng))

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    width, height = A4
    if layout == "letterhead":
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(40, height - 50, supplier)
        pdf.setFont("Helvetica", 9)
        pdf.drawString(40, height - 66, street)
        pdf.drawString(40, height - 78, town)
        customer_top = height - 170
    else:
        # The supplier's small letterhead at the right, the customer in the envelope window at the left.
        pdf.setFont("Helvetica-Bold", 10)
        if layout == "window":
            pdf.drawString(360, height - 45, supplier)
        pdf.setFont("Helvetica", 8)
        pdf.drawString(360, height - 57, street)
        pdf.drawString(360, height - 67, town)
        customer_top = height - 120
    pdf.setFont("Helvetica", 9)
    pdf.drawString(360, height - 90 if layout == "letterhead" else height - 80, f"{wording.vat_no} {vat_number}")
    if layout != "unlabelled":
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(40, customer_top, wording.bill_to)
        customer_top -= 15
    pdf.setFont("Helvetica-Bold", 14 if layout == "window" else 10)
    pdf.drawString(40, customer_top, customer)
    pdf.setFont("Helvetica", 9)
    y = customer_top - 13
    for line in customer_address:
        pdf.drawString(40, y, line)
        y -= 12
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(40, height - 270, wording.invoice)
    pdf.setFont("Helvetica", 9)
    y = height - 290
    for label, value in (
        (wording.invoice_no, invoice_id),
        (wording.invoice_date, format_date(issued, language, written_out)),
        (wording.due_date, format_date(due, language, written_out)),
    ):
        pdf.drawString(40, y, label)
        pdf.drawString(170, y, value)
        y -= 13
    y -= 20
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(40, y, wording.description)
    pdf.drawRightString(530, y, wording.amount)
    pdf.setFont("Helvetica", 9)
    for description, amount in items:
        y -= 15
        pdf.drawString(40, y, description)
        pdf.drawRightString(530, y, format_amount(amount, language))
    y -= 30
    for label, figure in ((wording.subtotal, subtotal), (wording.vat, tax), (wording.total, total)):
        pdf.drawString(360, y, label)
        pdf.drawRightString(530, y, format_amount(figure, language))
        y -= 14
    y -= 20
    pdf.drawString(40, y, f"{wording.payee} {supplier}")
    pdf.drawString(40, y - 13, f"IBAN: {' '.join(account[i : i + 4] for i in range(0, len(account), 4))}")
    pdf.setFont("Helvetica", 7)
    pdf.drawCentredString(width / 2, 40, wording.footer.format(name=supplier, city=city))
    pdf.showPage()
    pdf.save()
    truth = {
        "VendorName": supplier,
        "CustomerName": customer if layout != "unlabelled" else "",
        "InvoiceId": invoice_id,
        "InvoiceDate": issued.isoformat(),
        "DueDate": due.isoformat(),
        "VendorTaxId": vat_number,
        "SubTotal": f"{subtotal:.2f}",
        "TotalTax": f"{tax:.2f}",
        "InvoiceTotal": f"{total:.2f}",
        "Currency": wording.currency,
    }
    return GeneratedInvoice(language, layout, buffer.getvalue(), {k: v for k, v in truth.items() if v})


def _bban(country: str, rng: random.Random) -> str:
    """A domestic account number shaped as the country's IBAN expects."""
    if country == "GB":
        return f"NWBK{rng.randint(100000, 999999)}{rng.randint(10_000_000, 99_999_999)}"
    if country == "DE":
        return f"{rng.randint(10**17, 10**18 - 1)}"
    if country == "FR":
        return f"{rng.randint(10**22, 10**23 - 1)}"
    if country == "NL":
        return f"INGB{rng.randint(10**9, 10**10 - 1)}"
    return f"{rng.randint(10**19, 10**20 - 1)}"


def generate_set(per_cell: int = 2) -> list[GeneratedInvoice]:
    """``per_cell`` invoices for every language and layout."""
    return [
        generate(language, layout, seed) for language in LANGUAGES for layout in LAYOUTS for seed in range(per_cell)
    ]
