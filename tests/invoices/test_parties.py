"""Supplier versus customer: signs in the document decide the roles; labels, dates and amounts are never names."""

from __future__ import annotations

import pytest

from docintel.invoices import extract_invoice
from docintel.invoices.fields import LabelIndex
from docintel.invoices.parties import not_a_name
from docintel.samples.invoices import LANGUAGES, LAYOUTS, generate


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Buyer", "label"),
        ("Bill To:", "label"),
        ("Rechnungsempfänger:", "label"),
        ("Facturé à", "label"),
        ("April 13", "date"),
        ("13 avril", "date"),
        ("3. März 2025", "date"),
        ("03/04/2025", "date"),
        ("£1,234.50", "amount"),
        ("EUR 99,00", "amount"),
        ("# invoice_number_1", "code"),
        ("SCONL0303006280999", "code"),
        ("Nederland", "place"),
        ("SELANGOR DARUL EHSAN", "place"),
        ("(M) SDN BHD", "generic"),
        ("COMPANY", "generic"),
        ("Electrical", "generic"),
        ("MR D.I.Y. (M) SDN BHD", None),
        ("regarding your bill, individual service charge details and your account history are available", "sentence"),
        ("Brackenfold Print Services Ltd", None),
        ("Triple Six Point Enterprise 666", None),
        ("Amazon Web Services, Inc.", None),
        ("7 Star Mart", None),
        ("Lindenhof Bürotechnik GmbH", None),
    ],
)
def test_not_a_name(text: str, reason: str | None) -> None:
    assert not_a_name(text, LabelIndex.build()) == reason


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_supplier_and_customer_in_every_language_and_layout(language: str, layout: str) -> None:
    invoice = generate(language, layout, seed=3)
    result = extract_invoice(invoice.pdf, "invoice.pdf", profiles=[])
    assert result.value("VendorName") == invoice.truth["VendorName"]
    # The customer's name is never answered as the supplier's, even in larger type at the top of the page.
    assert result.value("CustomerName") == invoice.truth.get("CustomerName")


def test_customer_in_the_window_without_a_label_lowers_the_suppliers_confidence() -> None:
    labelled = extract_invoice(generate("de", "window", seed=1).pdf, "a.pdf", profiles=[])
    unlabelled = extract_invoice(generate("de", "unlabelled", seed=1).pdf, "b.pdf", profiles=[])
    assert unlabelled.value("VendorName") == generate("de", "unlabelled", seed=1).truth["VendorName"]
    assert unlabelled.fields["VendorName"].confidence < labelled.fields["VendorName"].confidence


@pytest.mark.parametrize(
    "text",
    [
        "Buyer\nApril 13\nInvoice No: 4471\nInvoice Date: 03/04/2025\nTotal: 120.00\n",
        "April 13\nBill To:\nNorthshire County Council\nInvoice No: 4471\nTotal: 120.00\n",
        "£120.00\nInvoice No: 4471\nInvoice Date: 03/04/2025\nTotal: 120.00\n",
    ],
)
def test_labels_dates_and_amounts_are_never_the_supplier(text: str) -> None:
    result = extract_invoice(text.encode(), "invoice.txt", profiles=[])
    assert result.value("VendorName") is None
    assert result.fields["VendorName"].confidence == 0.0
    assert result.value("InvoiceId") == "4471"


def test_footer_and_payee_agreeing_beat_a_letterhead_that_is_the_customer() -> None:
    text = (
        "Pinewood Parish Council\n12 Church Lane\nPinewood PW1 2AB\n\n"
        "Invoice No: 8812\nInvoice Date: 03/04/2025\nTotal: 240.00\n\n"
        "Account name: Larchmoor Grounds Maintenance Ltd\nSort Code: 20-45-77\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
        "Larchmoor Grounds Maintenance Ltd, Registered office: 3 Yard Road, Leeds LS1 4AB\n"
    )
    result = extract_invoice(text.encode(), "invoice.txt", profiles=[])
    assert result.value("VendorName") == "Larchmoor Grounds Maintenance Ltd"


def test_the_customers_own_vat_number_is_never_the_suppliers() -> None:
    text = (
        "Brackenfold Print Services Ltd\n17 Tanners Row\nLeeds LS2 7QX\n\n"
        "Invoice No: 4471\nInvoice Date: 03/04/2025\nYour VAT no: GB 123 4567 89\nTotal: 120.00\n"
    )
    result = extract_invoice(text.encode(), "invoice.txt", profiles=[])
    assert result.value("VendorTaxId") is None
