"""Parsers and label matching: tables of positive and negative cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from docintel.invoices import parse
from docintel.invoices.fields import LabelIndex, amount_parser, id_parser, make_date_parser
from docintel.invoices.layout import Span, Word, group_lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£1,234.50", Decimal("1234.50")),
        ("Total: 240.00", Decimal("240.00")),
        ("GBP240.00", Decimal("240.00")),
        ("1.234,56 €", Decimal("1234.56")),
        ("(12.00)", Decimal("-12.00")),
        ("VAT 20% 40.00", Decimal("40.00")),
        ("€ 56,02", Decimal("56.02")),
        ("1,250", Decimal("1250")),
        ("RM9.00", Decimal("9.00")),
        ("03/04/2025", None),
        ("20%", None),
        ("no figures here", None),
    ],
)
def test_parse_amount(text: str, expected: Decimal | None) -> None:
    assert parse.parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "day_first", "expected", "ambiguous"),
    [
        ("03/04/2025", True, dt.date(2025, 4, 3), True),  # the UK way: 3 April
        ("03/04/2025", False, dt.date(2025, 3, 4), True),
        ("12/31/2024", True, dt.date(2024, 12, 31), False),  # only month-first reads it
        ("25/12/2018", True, dt.date(2018, 12, 25), False),
        ("2025-04-03", True, dt.date(2025, 4, 3), False),
        ("3rd April 2025", True, dt.date(2025, 4, 3), False),
        ("August 3 , 2014", True, dt.date(2014, 8, 3), False),
        ("18 april 2014", True, dt.date(2014, 4, 18), False),
        ("29 maart 2014", True, dt.date(2014, 3, 29), False),
        ("7. Mai 2014", True, dt.date(2014, 5, 7), False),
        ("02.07.2015", False, dt.date(2015, 7, 2), False),  # dotted dates are day-first
        ("03-Apr-25", True, dt.date(2025, 4, 3), False),
    ],
)
def test_parse_date(text: str, day_first: bool, expected: dt.date, ambiguous: bool) -> None:
    parsed = parse.parse_date(text, day_first=day_first)
    assert parsed is not None
    assert (parsed.value, parsed.ambiguous) == (expected, ambiguous)


@pytest.mark.parametrize(
    "text",
    [
        "32/13/2025",
        "31/02/2025",
        "Invoice 12345",
        "v1.2.3",
        "",
        "Tel. : 04.21.93.11.20",  # a phone number in dotted pairs, not 22 May 1995
        "Ref 2018-03-06-0042",  # a date-like head of a longer reference
    ],
)
def test_parse_date_rejects(text: str) -> None:
    assert parse.parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£12.00", "GBP"),
        ("EUR 5,00", "EUR"),
        ("$4.11", "USD"),
        ("Rs. 319", "INR"),
        ("nothing", None),
    ],
)
def test_detect_currency(text: str, expected: str | None) -> None:
    assert parse.detect_currency(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VAT Reg No: GB 787 7893 79", ("GB787789379", True)),
        ("GB787789380", ("GB787789380", False)),
        ("UStId DE 232 446 240", ("DE232446240", True)),
        ("no number", None),
    ],
)
def test_find_vat_number(text: str, expected: tuple[str, bool] | None) -> None:
    assert parse.find_vat_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"), ("GB82 WEST 1234 5698 7654 33", None)],
)
def test_find_iban(text: str, expected: str | None) -> None:
    assert parse.find_iban(text) == expected


@pytest.mark.parametrize(
    ("text", "sort_code", "account"),
    [("Sort Code: 20-45-77 Account: 41234567", "20-45-77", "41234567"), ("Call 0113 496 0000", None, None)],
)
def test_bank_details(text: str, sort_code: str | None, account: str | None) -> None:
    assert parse.find_sort_code(text) == sort_code
    assert parse.find_account_number(text) == account


def _span(*texts: str) -> Span:
    return Span([Word(text, 1, 0.1 * i, 0.1, 0.1 * i + 0.08, 0.12) for i, text in enumerate(texts)])


@pytest.mark.parametrize(
    ("words", "field"),
    [
        (("Invoice", "No:", "INV-1"), "InvoiceId"),
        (("VAT", "Reg", "No:"), "VendorTaxId"),  # the longest label wins over "VAT" (tax)
        (("VAT", "@", "20%"), "TotalTax"),
        (("Sub", "Total"), "SubTotal"),
        (("Total",), "InvoiceTotal"),
        (("Amount", "Due"), "AmountDue"),
        (("Bill", "To:"), "CustomerName"),
        (("Sort", "Code:"), "SortCode"),
        (("Rechnungsdatum",), "InvoiceDate"),
        (("Totaalprijs",), None),  # a label never ends inside a word ("Totaal" + "prijs")
        (("To",), None),  # weak label without a colon or a value
        (("Northgate", "Supplies"), None),
    ],
)
def test_label_matching(words: tuple[str, ...], field: str | None) -> None:
    matched = LabelIndex.build().match(_span(*words))
    assert (matched[0] if matched else None) == field


def test_profile_labels_are_stronger() -> None:
    index = LabelIndex.build({"PurchaseOrder": ["Our ref"]})
    matched = index.match(_span("Our", "ref:", "A1"))
    assert matched is not None and matched[0] == "PurchaseOrder" and matched[1] == -1


@pytest.mark.parametrize(
    ("text", "expected"),
    [(": # BLR_WFLD20151000982590", "BLR_WFLD20151000982590"), ("INV/2023/03/0008", "INV/2023/03/0008"),
     ("03/04/2025", None), ("see overleaf", None)],
)  # fmt: skip
def test_id_parser(text: str, expected: str | None) -> None:
    parsed = id_parser(text)
    assert (parsed[0] if parsed else None) == expected


def test_group_lines_splits_phrases_at_wide_gaps() -> None:
    words = [
        Word("Invoice", 1, 0.10, 0.100, 0.16, 0.112),
        Word("No:", 1, 0.165, 0.101, 0.19, 0.113),
        Word("INV-7", 1, 0.40, 0.099, 0.46, 0.111),
        Word("Date:", 1, 0.10, 0.130, 0.15, 0.142),
    ]
    lines = group_lines(words)
    assert [line.text for line in lines] == ["Invoice No: INV-7", "Date:"]
    assert [phrase.text for phrase in lines[0].phrases] == ["Invoice No:", "INV-7"]
    assert lines[0].figures_after(0)  # "INV-7" holds a digit
    assert not lines[0].figures_after(1)  # nothing to the right of the last phrase
    assert not lines[1].figures_after(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1770372018", dt.date(2018, 3, 17)),  # both slashes read as 7
        ("0111212019", dt.date(2019, 12, 1)),  # read as 1
        ("05l06l2020", dt.date(2020, 6, 5)),
        ("3170232018", None),  # day 31 of February: no date
        ("0132002018", None),  # month 20
        ("12345678", None),
        ("1770371818", None),  # no plausible four-digit year
    ],
)
def test_parse_misread_date(text: str, expected: dt.date | None) -> None:
    parsed = parse.parse_misread_date(text)
    assert (parsed.value if parsed else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17/03/2018", ("2018-03-17", 0.92)),
        ("1770372018", ("2018-03-17", 0.6)),  # separators misread: found, with a confidence that says so
        ("CS00058953", None),
    ],
)
def test_labelled_date_value(text: str, expected: tuple[str, float] | None) -> None:
    parsed = make_date_parser(day_first=True)(text)
    assert (parsed[:2] if parsed else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RM 29. 70", "29.70"),  # a space after the decimal point: one amount
        ("100, 00", "100.00"),
        ("12.50", "12.50"),
        ("2 x 3.75  7.50", "7.50"),
        ("29. 700", "700.00"),  # three digits after the gap: not decimals
        ("6. 25%", "6.00"),  # a rate, not an amount: never joined
    ],
)
def test_amount_parser_spaced_decimals(text: str, expected: str) -> None:
    parsed = amount_parser(text)
    assert parsed is not None and parsed[0] == expected
