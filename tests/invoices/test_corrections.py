"""Corrected values and profile keywords: tables of what is accepted and what is refused."""

from __future__ import annotations

import pytest

from docintel.invoices.corrections import InvalidCorrection, check_corrections, keyword_is_generic
from docintel.invoices.profiles import SupplierProfile


@pytest.mark.parametrize(
    "keyword",
    ["Invoice", "INVOICE", "Ltd", "Limited", "Receipt", "Bill", "Tax", "VAT", "Total", "Customer", "Supplier",
     "Tax Invoice", "VAT Receipt", "Co", "A&B", "123", "  ", "Invoice Ltd."],
)  # fmt: skip
def test_generic_keywords(keyword: str) -> None:
    assert keyword_is_generic(keyword)


@pytest.mark.parametrize(
    "keyword", ["Greenway Grounds Maintenance Ltd", "Acme", "GB123456789", "Northgate Office Supplies", "BT plc 2024"]
)
def test_specific_keywords(keyword: str) -> None:
    assert not keyword_is_generic(keyword)


def test_a_profile_never_matches_on_its_generic_keywords() -> None:
    profile = SupplierProfile(name="x", match=["Invoice", "Ltd", "Acme Widgets"])
    assert not profile.matches("TAX INVOICE from Other Supplies Ltd")
    assert profile.matches("Invoice from Acme Widgets Ltd")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Currency": " usd "}, {"Currency": "USD"}),
        ({"InvoiceDate": "2025-03-04"}, {"InvoiceDate": "2025-03-04"}),
        ({"InvoiceTotal": "1,200.5"}, {"InvoiceTotal": "1200.50"}),
        ({"TotalTax": "-20"}, {"TotalTax": "-20.00"}),
        ({"PaymentTerm": " 30  days "}, {"PaymentTerm": "30 days"}),
    ],
)
def test_valid_corrections_are_normalised(fields: dict[str, str], expected: dict[str, str]) -> None:
    assert check_corrections(fields) == expected


@pytest.mark.parametrize(
    "fields",
    [{"Currency": "pounds sterling"}, {"Currency": "GBX"}, {"InvoiceDate": "04/03/2025"}, {"SubTotal": "1e400"},
     {"SubTotal": "Infinity"}, {"VendorName": "Bill"}, {"CustomerName": "x" * 501}],
)  # fmt: skip
def test_invalid_corrections_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidCorrection) as caught:
        check_corrections(fields)
    assert caught.value.http_status == 422 and next(iter(fields)) in caught.value.message
