"""Letterhead vendor and address, total choice by label words and arithmetic, and plain-text invoices."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest

from docintel import synthetic
from docintel.enrich.recognizers import generate
from docintel.extract.ocr import OcrResult, OcrWord
from docintel.invoices import extract_invoice
from docintel.invoices.extract import (
    UNLABELLED_VAT_UNCHECKED,
    UNLABELLED_VAT_VALID,
    read_fields,
    unlabelled_vat_number,
)
from docintel.invoices.fields import LabelIndex
from docintel.invoices.layout import Span, Word, group_lines, ocr_words, split_glued, text_words
from docintel.invoices.vendor import clean_name, domain_names
from docintel.settings import Settings
from tests.invoices.conftest import receipt_photo


def _read(text: str) -> dict[str, object]:
    """Fields of a document given as fixed-width text (the same geometry a receipt's OCR gives)."""
    result = read_fields(group_lines(text_words(text)), [])
    return {name: found.value for name, found in result.fields.items() if found.value is not None}


RECEIPT = """\
          ALI BIN ABU
   RIMBUN JAYA TRADING CO SDN BHD
          (951204-W)
 14, JLN CEMPAKA 9/2 TMN BUKIT INDAH,
        47810 KOTA SERAI,
           SELANGOR.
     TEL/FAX : 03-77001234
     GST NO: 001234567890
          TAX INVOICE
DATE: 29-12-2017         TIME: 20:17
GLUE STICK       1 X   5.20    5.20
A4 PAPER 80G     1 X   8.90    8.90
TOTAL QTY:               2
TOTAL SALES (EXCLUDING GST) :  13.30
TOTAL GST :                     0.80
TOTAL SALES (INCLUSIVE OF GST) : 14.10
CASH                   RM      20.00
CHANGE                 RM       5.90
GST SUMMARY        AMT(RM)    TAX(RM)
TOTAL:               13.30       0.80
    THANK YOU, COME AGAIN
"""


def test_receipt_letterhead_and_total() -> None:
    fields = _read(RECEIPT)
    assert fields["VendorName"] == "RIMBUN JAYA TRADING CO SDN BHD"
    assert fields["VendorAddress"] == "14, JLN CEMPAKA 9/2 TMN BUKIT INDAH, 47810 KOTA SERAI, SELANGOR."
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
        (["SINAR BARU HARDWARE &", "ELECTRICAL", "NO 5 JALAN KENARI"], "SINAR BARU HARDWARE & ELECTRICAL"),
        # The name matching the document's own web domain beats a larger title-like line.
        (["Summary of charges", "Brightwater Energy", "www.brightwater.co.uk"], "Brightwater Energy"),
        # The company number printed after the name is not part of it.
        (["7 STAR MART S/B (402113-X)", "LOT 1207, JALAN MERPATI"], "7 STAR MART S/B"),
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
        ("KEDAI KAYU SIN HUAT (0001122334-K)", "KEDAI KAYU SIN HUAT"),
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


@pytest.mark.parametrize(
    ("lines", "vendor"),
    [
        # The legal form on a line of its own under the name: the name is the line above it.
        (
            ["CAHAYA BOOK", "CO. (M) SDN BHD", "(CO. NO. 330152-W)", "NO 8, JALAN 3/41C"],
            "CAHAYA BOOK CO. (M) SDN BHD",
        ),
        (
            ["PASARAYA HARGA MURAH", "SDN BHD", "BR NO.: (204711-H)", "NO 19 JALAN BAKAU"],
            "PASARAYA HARGA MURAH SDN BHD",
        ),
        # A name that starts with a word a title starts with ("Time", "To") is still a name.
        (["TIME OUT CAFE SDN BHD", "COMPANY NO : 1098765-K"], "TIME OUT CAFE SDN BHD"),
        # A misread legal form still marks the company (above it, a person's name), and is read as printed.
        (["LEE MEI LING", "BUKU RIA (TAMAN SERI) SDN BND", "612345-W"], "BUKU RIA (TAMAN SERI) SDN BHD"),
    ],
)
def test_vendor_name_with_legal_form(lines: list[str], vendor: str) -> None:
    assert _read("\n".join(lines) + "\n\n\nTOTAL:  1.00\n")["VendorName"] == vendor


@pytest.mark.parametrize(
    ("lines", "address"),
    [
        # After the postcode: the tax number ends the address; the branch in brackets is not part of it.
        (
            ["SERBA GUNA SDN BHD", "(CO.REG :523416-T)", "LOT 920-A, JALAN KPS 3,", "47820 BANDAR MUTIARA, SELANGOR",
             "(GST ID NO :001122334455)", "(TAMAN INDAH MALL)"],
            "LOT 920-A, JALAN KPS 3, 47820 BANDAR MUTIARA, SELANGOR",
        ),
        # The date printed under the name and the company number come before the address: passed over.
        (
            ["SELERA TIMUR INTERNATIONAL SDN BHD", "21 APR 2019 09:40", "(713254-U)", "9,JALAN PERDANA 3/2,",
             "81750 KOTA PUTERI,JOHOR", "TAX INVOICE"],
            "9,JALAN PERDANA 3/2, 81750 KOTA PUTERI,JOHOR",
        ),
        # A "label: value" line between name and address; the region on its own line after the postcode.
        (
            ["MINYAK MAJU ENTERPRISE", "SITE: 1048", "LOT 312, TMN LEMBAH PERMAI", "45900 SUNGAI LIMAU",
             "SELANGOR DARUL EHSAN", "TELEPHONE: 03-41000000"],
            "LOT 312, TMN LEMBAH PERMAI, 45900 SUNGAI LIMAU, SELANGOR DARUL EHSAN",
        ),
        # Opening hours after the address are not part of it.
        (
            ["MEGA RUNCIT CO. (M) BHD (220145-H)", "2ND FLR, MEGA TAMAN SERI SC", "AMPANG, 68010 KUALA LUMPUR",
             "OPENING HOURS", "MON-SUN: 1000 HRS - 2200 HRS"],
            "2ND FLR, MEGA TAMAN SERI SC, AMPANG, 68010 KUALA LUMPUR",
        ),
        # A UK letterhead: the postcode ends the address, the next line is not a region.
        (
            ["Widgets (North) Limited", "1 Mill Lane", "Leeds LS1 4AB", "Accounts Department"],
            "1 Mill Lane, Leeds LS1 4AB",
        ),
    ],
)  # fmt: skip
def test_vendor_address(lines: list[str], address: str) -> None:
    assert _read("\n".join(lines) + "\n\n\nTOTAL:  1.00\n")["VendorAddress"] == address


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        # A rounding adjustment after the total: the rounded figure is what was paid.
        (["TOTAL RM INCL. OF GST   31.47", "ROUNDING ADJ   -0.02", "TOTAL RM   31.45", "CASH   -50.00"], "31.45"),
        # A receipt's NET TOTAL below the tax and rounding lines is the amount payable.
        (["SUB TOTAL   295.00", "GST 6%   19.47", "ROUNDING ADJ   -0.02", "NET TOTAL   314.45"], "314.45"),
        # A wide-spaced label with its value at the end of the line.
        (["TOTAL SALES (EXCLUDING GST) :   89.50", "TOTAL GST :   5.37",
          "TOTAL   SALES   (INCLUSIVE   OF   GST)   :   94.87", "TOTAL :   89.50   5.37"], "94.87"),
        # A label glued to its value by a colon.
        (["TOTAL AMOUNT:$8.40", "GST @6%:$0.48", "NETT TOTAL:$8.40"], "8.40"),
    ],
)  # fmt: skip
def test_receipt_total(lines: list[str], total: str) -> None:
    fields = _read("ACME STORES SDN BHD\n1 JALAN BESAR\n\n\n" + "\n".join(lines) + "\n")
    assert fields["InvoiceTotal"] == total


def test_uk_net_total_above_vat_is_not_the_total() -> None:
    fields = _read("ACME STORES LTD\n1 HIGH STREET\n\n\nNet Total:   100.00\nVAT 20%:   20.00\n")
    assert fields["SubTotal"] == "100.00"
    assert "InvoiceTotal" not in fields


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("TOTAL:$8.40", ["TOTAL:", "$8.40"]),
        ("DATE:12/03/2018", ["DATE:", "12/03/2018"]),
        ("10:37:00", ["10:37:00"]),  # a time, not a label
        ("INVOICE#:OR1803", ["INVOICE#:OR1803"]),  # the label does not end in a letter: left alone
        ("TOTAL:", ["TOTAL:"]),
    ],
)
def test_split_glued(text: str, parts: list[str]) -> None:
    words = split_glued(Word(text, 1, 0.1, 0.1, 0.5, 0.12))
    assert [word.text for word in words] == parts
    assert words[0].x0 == 0.1 and words[-1].x1 == 0.5
    assert all(a.x1 == b.x0 for a, b in itertools.pairwise(words))


def test_ocr_rules_and_borders_are_not_words() -> None:
    read = [OcrWord(0, 0, 10, 10, 90.0, text) for text in ("TOTAL", "12.72", "|", "—", "&")]
    assert [word.text for word in ocr_words(OcrResult("", 90.0, read), 100, 100, 1)] == ["TOTAL", "12.72", "&"]


@pytest.mark.needs_tesseract
def test_receipt_photo_is_read() -> None:
    result = extract_invoice(receipt_photo(), "receipt.jpg", settings=Settings(), profiles=[])
    assert result.method == "ocr"
    assert result.value("VendorName") == "KEDAI RUNCIT MAJU JAYA SDN BHD"
    assert result.value("VendorAddress") == "NO 12, JALAN BUNGA RAYA 3, 43000 KAJANG, SELANGOR"
    assert result.value("InvoiceDate") == "2018-03-14"
    assert result.value("InvoiceTotal") == "28.35"


def _read_lines(lines: list[str], unsure: set[str] = frozenset()) -> dict[str, object]:
    """Fields of fixed-width lines, with the words in ``unsure`` read at OCR confidence 0.2 (specks, junk)."""
    words = [
        Word(word.text, word.page, word.x0, word.y0, word.x1, word.y1, 0.2 if word.text in unsure else 1.0)
        for word in text_words("\n".join(lines) + "\n")
    ]
    result = read_fields(group_lines(words), [])
    return {name: found.value for name, found in result.fields.items() if found.value is not None}


@pytest.mark.parametrize(
    ("lines", "unsure", "vendor"),
    [
        # OCR's gaps split the legal form from the name: the name is the whole line, not "SDN BHD" alone.
        (["KAYU              MANIS              SDN BHD", "NO 3, JALAN DAMAR 2,", "43000 KAJANG"], set(),
         "KAYU MANIS SDN BHD"),
        # A wide-spaced name with a one-letter word: the whole line beats its longest part.
        (["J  &  K  BAKERY", "LOT 7, JALAN MELUR", "43000 KAJANG"], set(), "J & K BAKERY"),
        # A speck OCR read as a short word before the name is left out of it.
        (["ye  NORTHGATE TRADING SDN BHD", "12, JALAN SEROJA", "43000 KAJANG"], {"ye"},
         "NORTHGATE TRADING SDN BHD"),
        # An address line is never the name, even when nothing else is name-like.
        (["NO 18, 20, JALAN MAWAR 2/16,", "47810 KOTA SERAI, SELANGOR"], set(), None),
        # A one-line letterhead: the postcode after the legal form does not make it an address line.
        (["Acme Widgets Ltd, 1 High Street, Leeds LS1 4AB", "Tel 0113 496 0000"], set(), "Acme Widgets Ltd"),
        # Initials of a logo above the letterhead are no name: the line heading the address is.
        (["QX", "KEDAI BUKU CAHAYA", "(0001234567-K)", "LOT 58 JALAN MERAK", "43950 BUKIT TINGGI, SELANGOR."], set(),
         "KEDAI BUKU CAHAYA"),
    ],
)  # fmt: skip
def test_receipt_vendor_name(lines: list[str], unsure: set[str], vendor: str | None) -> None:
    assert _read_lines([*lines, "", "", "TOTAL:  1.00"], unsure).get("VendorName") == vendor


@pytest.mark.parametrize(
    ("lines", "address"),
    [
        # A company number whose closing bracket OCR read as a brace, and a speck line inside the block.
        (["SERI WANGI TRADING", "(951204-W}", "14, JLN CEMPAKA 9/2,", "%", "47810 KOTA SERAI,", "SELANGOR.",
          "TEL/FAX : 03-7700 1234"], "14, JLN CEMPAKA 9/2, 47810 KOTA SERAI, SELANGOR."),
        # A line of two characters or fewer between the company number and the address.
        (["CAHAYA SNACKS ENTERPRISE", "(001122334 - U)", "=", "7 & 7A, JALAN KERUING 4,",
          "44010 BUKIT RAMBAI", "03-6000 1234"], "7 & 7A, JALAN KERUING 4, 44010 BUKIT RAMBAI"),
        # A house number written "No:" starts the address; it is no "label: value" line to pass over.
        (["KAYU MANIS SDN. BHD. (1234567-V)", "NO: 3-1&2 GROUND FLOOR,", "JLN CEMPAKA 9/2,",
          "47810 KOTA SERAI SELANGOR.", "(GST REG.NO: 001234567890)"],
         "NO: 3-1&2 GROUND FLOOR, JLN CEMPAKA 9/2, 47810 KOTA SERAI SELANGOR."),
    ],
)  # fmt: skip
def test_receipt_address_passes_specks(lines: list[str], address: str) -> None:
    assert _read_lines([*lines, "", "", "TOTAL:  1.00"])["VendorAddress"] == address


@pytest.mark.parametrize(
    ("lines", "date"),
    [
        # A code with digit groups first, the transaction's date and time later: the dated line wins.
        (["REF KT10-24-37", "15-03-2018   15:41   COUNTER 2"], "2018-03-15"),
        # A phone number in dotted pairs is no date.
        (["Tel. : 04.21.93.11.20", "le 30/03/2018 a 12:36"], "2018-03-30"),
        # OCR's gaps split the day from the month: the whole line is read too.
        (["PAID   24   Mar   18   07:12:40 PM"], "2018-03-24"),
        # A labelled date whose slashes OCR read as sevens.
        (["Doc No: CS00042117    Date: 1770372018"], "2018-03-17"),
    ],
)
def test_receipt_date(lines: list[str], date: str) -> None:
    assert _read_lines(["ACME STORES SDN BHD", "1 JALAN BESAR", "", "", *lines, "TOTAL:  1.00"])["InvoiceDate"] == date


@pytest.mark.parametrize(
    ("lines", "unsure", "total"),
    [
        # A speck read as a short unsure word before the label: the label is still found.
        (["SUB TOTAL   27.00", "cae TOTAL INCL GST   28.62"], {"cae"}, "28.62"),
        # A space after the decimal point.
        (["TOTAL SALES   RM   29. 70", "CASH   RM   30. 00", "CHANGE   RM   0. 30"], set(), "29.70"),
    ],
)
def test_receipt_total_despite_ocr_noise(lines: list[str], unsure: set[str], total: str) -> None:
    fields = _read_lines(["ACME STORES SDN BHD", "1 JALAN BESAR", "", "", *lines], unsure)
    assert fields["InvoiceTotal"] == total


@pytest.mark.parametrize(
    ("lines", "unsure", "total"),
    [
        # One letter of "Total" misread by OCR, the word read unsurely: still the total's label.
        (["SUB TOTAL   31.10", "fotal Sales Inclusive GST :   32.97", "CASH   50.00"], {"fotal"}, "32.97"),
        # A whole number under a "Total" column header is a quantity or a code, not the total.
        (["QTY   DESCRIPTION          TOTAL", "1     FOLDER A4 PACK       3812", "", "TOTAL INCL GST :   16.50"],
         set(), "16.50"),
        # No total line read agrees with subtotal + tax and cash - change, which agree: the sums give it.
        (["SUB TOTAL   26.79", "GST 6%   1.61", "TOTAL   23.40", "CASH   50.00", "CHANGE   21.60"], set(), "28.40"),
    ],
)  # fmt: skip
def test_receipt_total_despite_misreads(lines: list[str], unsure: set[str], total: str) -> None:
    fields = _read_lines(["ACME STORES SDN BHD", "1 JALAN BESAR", "", "", *lines], unsure)
    assert fields["InvoiceTotal"] == total


@pytest.mark.parametrize(
    ("words", "unsure", "field"),
    [
        (("fotal", "Sales:"), True, "InvoiceTotal"),
        (("fotal", "Sales:"), False, None),  # a text layer's word is never corrected
        (("Tatal:",), True, "InvoiceTotal"),
        (("Totaal:",), True, "InvoiceTotal"),  # a label word of its own (Dutch), not a misread
        (("Chance:",), True, None),  # "Change" is a label, but only totals', dates' and ids' words are corrected
        (("Tote",), True, None),  # too short to correct
    ],
)
def test_unsure_label_words_one_letter_off(words: tuple[str, ...], unsure: bool, field: str | None) -> None:
    conf = 0.6 if unsure else 1.0
    span = Span([Word(text, 1, 0.1 * n, 0.1, 0.1 * n + 0.08, 0.12, conf) for n, text in enumerate(words)])
    matched = LabelIndex.build().match(span)
    assert (matched[0] if matched else None) == field


@pytest.mark.parametrize(
    ("make", "confidence"),
    [(synthetic.vat_number, UNLABELLED_VAT_VALID), (generate.invalid_vat_number, UNLABELLED_VAT_UNCHECKED)],
    ids=["checksum-holds", "checksum-fails"],
)
def test_unlabelled_vat_number_is_the_first_gb_one_with_a_confidence_by_checksum(
    make: Callable[[random.Random], str], confidence: float
) -> None:
    rng = random.Random(7)
    first, second = make(rng), synthetic.vat_number(rng)
    spaced = f"{first[:2]} {first[2:5]} {first[5:9]} {first[9:]}"
    text = f"Harbour Stationers Ltd\nCompany no 01234567\nReg {spaced}\nAlso {second}\n"
    found = unlabelled_vat_number(group_lines(text_words(text)))
    assert found is not None
    assert (found.value, found.confidence, found.content) == (first, confidence, f"Reg {spaced}")
    assert unlabelled_vat_number(group_lines(text_words("Company no 01234567\nTel 01632 960123\n"))) is None
