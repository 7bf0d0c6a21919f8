"""Letterhead vendor and address, total choice by label words and arithmetic, and plain-text invoices."""

from __future__ import annotations

import pytest

from docintel.invoices import extract_invoice
from docintel.invoices.extract import read_fields
from docintel.invoices.layout import group_lines, text_words
from docintel.invoices.vendor import clean_name, domain_names
from docintel.settings import Settings


def _read(text: str) -> dict[str, object]:
    """Fields of a document given as fixed-width text (the same geometry a receipt's OCR gives)."""
    result = read_fields(group_lines(text_words(text)), [])
    return {name: found.value for name, found in result.fields.items() if found.value is not None}


RECEIPT = """\
           TAN AH KOW
   SAM SAM TRADING CO SDN BHD
          (742016-W)
 67, JLN MEWAH 25/63 TMN SRI MUDA,
        40400 SHAH ALAM,
           SELANGOR.
     TEL/FAX : 03-51213881
     GST NO: 001006288896
          TAX INVOICE
DATE: 29-12-2017         TIME: 20:17
SUPER GLUE       1 X   5.20    5.20
A4 PAPER         1 X   8.90    8.90
TOTAL QTY:               2
TOTAL SALES (EXCLUDING GST) :  13.30
TOTAL GST :                     0.80
TOTAL SALES (INCLUSIVE OF GST) : 14.10
CASH                   RM      20.00
CHANGE                 RM       5.90
GST SUMMARY        AMT(RM)    TAX(RM)
TOTAL:               13.30       0.80
    THANK YOU FOR SHOPPING
"""


def test_receipt_letterhead_and_total() -> None:
    fields = _read(RECEIPT)
    assert fields["VendorName"] == "SAM SAM TRADING CO SDN BHD"
    assert fields["VendorAddress"] == "67, JLN MEWAH 25/63 TMN SRI MUDA, 40400 SHAH ALAM, SELANGOR."
    assert fields["InvoiceDate"] == "2017-12-29"
    assert fields["InvoiceTotal"] == "14.10"


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        # The largest total-labelled amount at the bottom, quantities and pre-tax sums passed over.
        (["TOTAL QTY:   3", "TOTAL EXCL GST:  10.00", "TOTAL INCL GST:  10.60"], "10.60"),
        # Cash tendered minus change confirms the total even when a larger "total" precedes it.
        (["TOTAL DISCOUNT:  50.00", "ROUNDED TOTAL:  7.05", "CASH:  10.00", "CHANGE:  2.95"], "7.05"),
        # Subtotal + tax decides between two totals.
        (["SUB TOTAL:  100.00", "VAT:  20.00", "TOTAL:  120.00", "TOTAL:  20.00"], "120.00"),
        # A date in the label's phrase is not an amount.
        (["TOTAL AMOUNT DUE ON August 3, 2014    $4.11"], "4.11"),
    ],
)
def test_total_choice(lines: list[str], total: str) -> None:
    fields = _read("ACME STORES LTD\n1 HIGH STREET\n\n\n" + "\n".join(lines) + "\n")
    assert fields["InvoiceTotal"] == total


@pytest.mark.parametrize(
    ("lines", "vendor"),
    [
        # A person's name above the company: the legal form decides.
        (["JOHN SMITH", "WIDGETS (NORTH) LIMITED", "1 Mill Lane", "Leeds LS1 4AB"], "WIDGETS (NORTH) LIMITED"),
        # A name broken over two lines with a trailing ampersand.
        (["HOME MASTER HARDWARE &", "ELECTRICAL", "NO 5 JALAN SETIA"], "HOME MASTER HARDWARE & ELECTRICAL"),
        # The name matching the document's own web domain beats a larger title-like line.
        (["Summary of charges", "Brightwater Energy", "www.brightwater.co.uk"], "Brightwater Energy"),
        # The company number printed after the name is not part of it.
        (["99 SPEED MART S/B (519537-X)", "LOT 2811, JALAN ANGSA"], "99 SPEED MART S/B"),
    ],
)
def test_vendor_name(lines: list[str], vendor: str) -> None:
    assert _read("\n".join(lines) + "\n\n\nTOTAL:  1.00\n")["VendorName"] == vendor


@pytest.mark.parametrize(
    ("lines", "not_vendor"),
    [
        (
            ["TAX INVOICE", "(Not to be used for payment remittance)"],
            {"TAX INVOICE", "(Not to be used for payment remittance)"},
        ),
        (["RECEIPT", "TEL: 03-1234567", "GST ID: 000123456789"], {"RECEIPT", "TEL: 03-1234567"}),
    ],
)
def test_not_a_vendor_name(lines: list[str], not_vendor: set[str]) -> None:
    assert _read("\n".join(lines) + "\n").get("VendorName") not in not_vendor


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Acme Widgets Ltd, 1 High Street", "Acme Widgets Ltd"),
        ("Amazon Web Services Invoice", "Amazon Web Services"),
        ("KEDAI PAPAN YEW CHUAN (0005583085-K)", "KEDAI PAPAN YEW CHUAN"),
        ("Northgate Services", "Northgate Services"),
    ],
)
def test_clean_name(text: str, cleaned: str) -> None:
    assert clean_name(text) == cleaned


def test_domain_names() -> None:
    lines = group_lines(text_words("mail: billing@azure-interior.com\nwww.example.com\nsee shop.coolblue.nl\n"))
    assert domain_names(lines) == {"azureinterior"}


def test_text_invoice_is_read() -> None:
    text = (
        "Brightwater Energy Ltd\n12 Quay Road\nBristol BS1 6AA\n\n"
        "Invoice No:  BW-2024-118                  Invoice Date:  03/04/2024\n"
        "VAT No:      GB 123 4567 89\n\n"
        "Subtotal:    100.00\nVAT:          20.00\nTotal:       120.00 GBP\n"
    )
    result = extract_invoice(text.encode(), "invoice.txt", settings=Settings(), profiles=[])
    assert result.method == "text"
    assert result.value("VendorName") == "Brightwater Energy Ltd"
    assert result.value("InvoiceId") == "BW-2024-118"
    assert result.value("InvoiceDate") == "2024-04-03"
    assert (result.value("SubTotal"), result.value("TotalTax"), result.value("InvoiceTotal")) == (
        "100.00",
        "20.00",
        "120.00",
    )
    assert result.value("Currency") == "GBP"
