"""German, French, Dutch and Spanish invoices: labels, dates and number formats, on generated invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from docintel.invoices import extract_invoice, parse
from docintel.invoices.fields import LabelIndex
from docintel.invoices.layout import Span, Word
from docintel.invoices.models import CheckStatus, InvoiceField
from docintel.invoices.validate import check_vat_rate
from docintel.samples.invoices import LANGUAGES, LAYOUTS, generate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3. März 2025", dt.date(2025, 3, 3)),
        ("17. Dezember 2024", dt.date(2024, 12, 17)),
        ("1er juillet 2015", dt.date(2015, 7, 1)),
        ("14 févr. 2025", dt.date(2025, 2, 14)),
        ("3 maart 2025", dt.date(2025, 3, 3)),
        ("12 mrt 2025", dt.date(2025, 3, 12)),
        ("12 de marzo de 2024", dt.date(2024, 3, 12)),
        ("1 de enero del 2025", dt.date(2025, 1, 1)),
        ("05-11-2025", dt.date(2025, 11, 5)),
        ("05.11.2025", dt.date(2025, 11, 5)),
    ],
)
def test_dates_in_other_languages(text: str, expected: dt.date) -> None:
    parsed = parse.parse_date(text)
    assert parsed is not None
    assert parsed.value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56 €", Decimal("1234.56")),
        ("1 234,56 €", Decimal("1234.56")),
        ("1\u00a0234,56 €", Decimal("1234.56")),
        ("12\u202f345,00 EUR", Decimal("12345.00")),
        ("€ 12.345,67", Decimal("12345.67")),
        ("CHF 1'234.50", Decimal("1234.50")),
        ("2 100.00", Decimal("100.00")),  # a quantity beside a price with a decimal point stays apart
    ],
)
def test_amounts_in_other_formats(text: str, expected: Decimal) -> None:
    assert parse.parse_amount(text) == expected


def _span(*texts: str) -> Span:
    return Span([Word(text, 1, 0.1 * n, 0.1, 0.1 * n + 0.08, 0.12) for n, text in enumerate(texts)])


@pytest.mark.parametrize(
    ("words", "field"),
    [
        (("Rechnungsnummer:",), "InvoiceId"),
        (("Rechnungsdatum:",), "InvoiceDate"),
        (("Fällig", "am:"), "DueDate"),
        (("USt-IdNr.:",), "VendorTaxId"),
        (("Nettobetrag",), "SubTotal"),
        (("MwSt.", "19%"), "TotalTax"),
        (("Gesamtbetrag",), "InvoiceTotal"),
        (("Rechnungsempfänger:",), "CustomerName"),
        (("Facture", "n°"), "InvoiceId"),
        (("Date", "d'échéance", ":"), "DueDate"),
        (("N°", "TVA", "intracommunautaire", ":"), "VendorTaxId"),
        (("Total", "HT"), "SubTotal"),
        (("Total", "TTC"), "InvoiceTotal"),
        (("Net", "à", "payer"), "AmountDue"),
        (("Facturé", "à", ":"), "CustomerName"),
        (("Factuurnummer:",), "InvoiceId"),
        (("Vervaldatum:",), "DueDate"),
        (("BTW-nummer:",), "VendorTaxId"),
        (("Totaal", "excl.", "BTW"), "SubTotal"),
        (("Totaal", "incl.", "BTW"), "InvoiceTotal"),
        (("Uw", "BTW", "nummer:"), "CustomerTaxId"),  # the customer's VAT number is never the supplier's
        (("Número", "de", "factura:"), "InvoiceId"),
        (("Fecha", "de", "factura:"), "InvoiceDate"),
        (("Fecha", "de", "vencimiento:"), "DueDate"),
        (("NIF:",), "VendorTaxId"),
        (("Base", "imponible"), "SubTotal"),
        (("IVA", "21%"), "TotalTax"),
        (("Total", "factura"), "InvoiceTotal"),
        (("Facturar", "a:"), "CustomerName"),
        (("Lieferadresse:",), "ShipTo"),
        (("Datum",), None),  # weak alone: a column header as often as a label
    ],
)
def test_labels_in_other_languages(words: tuple[str, ...], field: str | None) -> None:
    matched = LabelIndex.build().match(_span(*words))
    assert (matched[0] if matched else None) == field


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_invoice_every_field(language: str, layout: str, seed: int) -> None:
    invoice = generate(language, layout, seed)
    result = extract_invoice(invoice.pdf, "invoice.pdf", profiles=[])
    got = {name: result.value(name) for name in invoice.truth}
    assert got == invoice.truth
    assert result.valid


@pytest.mark.parametrize(
    ("country", "status"),
    [("NL", CheckStatus.PASS), ("ES", CheckStatus.PASS), ("GB", CheckStatus.FAIL), ("DE", CheckStatus.FAIL)],
)
def test_vat_rate_checked_against_the_suppliers_country(country: str, status: CheckStatus) -> None:
    subtotal, tax = InvoiceField(value="100.00"), InvoiceField(value="21.00")
    assert check_vat_rate([], subtotal, tax, country).status == status


@pytest.mark.parametrize("language", LANGUAGES)
def test_generated_bank_details_have_valid_check_digits_and_are_read(language: str) -> None:
    result = extract_invoice(generate(language, "letterhead", 0).pdf, "invoice.pdf", profiles=[])
    details = result.value("PaymentDetails")
    assert isinstance(details, dict)
    assert parse.iban_is_valid(details["IBAN"])
    assert details["IBAN"][:2] == ("GB" if language == "en" else language.upper())
