"""Spend against contract: which keys match, near-names that must not, periods, and past-end invoicing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from docintel.contracts.spend import InvoiceSummary, match_spend, supplier_name_key

CONTRACTS: list[dict[str, Any]] = [
    {"document_id": "c-green-1", "supplier_name": "GREENWAY LANDSCAPES LIMITED", "supplier_vat_number": "GB584929428",
     "supplier_company_number": "04567890", "start_date": dt.date(2020, 4, 1), "end_date": dt.date(2023, 3, 31),
     "total_value": "100000.00"},
    {"document_id": "c-green-2", "supplier_name": "Greenway Landscapes Ltd", "supplier_vat_number": "GB584929428",
     "start_date": dt.date(2023, 4, 1), "end_date": dt.date(2026, 3, 31), "total_value": "1000.00"},
    {"document_id": "c-kestrel", "supplier_name": "Kestrel Care Services LLP", "supplier_company_number": "OC123456",
     "start_date": dt.date(2024, 1, 1), "end_date": dt.date(2024, 12, 31), "total_value": "50000.00"},
]  # fmt: skip


def _invoice(invoice_id: str, name: str | None, when: dt.date, total: str = "100.00", **keys: str) -> InvoiceSummary:
    return InvoiceSummary(invoice_id, name, date=when, total=Decimal(total), **keys)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("GREENWAY LANDSCAPES LIMITED", "Greenway Landscapes Ltd.", True),
        ("Smith & Sons plc", "Smith and Sons PLC", True),
        ("The Kestrel Company", "Kestrel Co", True),
        ("Greenway Landscapes Ltd", "Greenway Landscaping Ltd", False),
        ("Kestrel Care Services LLP", "Kestrel Care Solutions LLP", False),
        ("Northgate IT Ltd", "Northgate IT Services Ltd", False),
    ],
)
def test_supplier_name_key(a: str, b: str, same: bool) -> None:
    assert (supplier_name_key(a) == supplier_name_key(b)) is same


def test_invoices_go_to_the_contract_of_their_period_and_late_ones_are_flagged() -> None:
    invoices = [
        _invoice("i1", "Greenway Landscapes Ltd", dt.date(2021, 6, 1), vendor_vat="584 9294 28"),
        _invoice("i2", "GREENWAY LANDSCAPES", dt.date(2024, 6, 1), total="1500.00"),
        _invoice("i3", "Kestrel Care Services", dt.date(2025, 2, 1), vendor_company_number="oc123456"),
        _invoice("i4", "Greenway Landscaping Ltd", dt.date(2024, 6, 1)),  # a different company
        _invoice("i5", None, dt.date(2024, 6, 1)),
    ]
    report = match_spend(CONTRACTS, invoices)
    assert report.assigned == {"i1": "c-green-1", "i2": "c-green-2", "i3": "c-kestrel"}
    assert report.matched_by == {"i1": "vat", "i2": "name", "i3": "company_number"}
    assert report.unmatched == ["i4", "i5"]
    assert report.contracts["c-kestrel"].after_end == ["i3"]
    assert report.contracts["c-green-2"].over_value
    assert not report.contracts["c-green-1"].over_value
    assert report.contracts["c-green-1"].invoiced == Decimal("100.00")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"VendorName": {"value": "Acme Ltd"}, "InvoiceTotal": {"value": "10.50"},
          "InvoiceDate": {"value": "2025-01-02"}},
         ("Acme Ltd", Decimal("10.50"), dt.date(2025, 1, 2))),
        ({"VendorTaxId": {"value": "GB584929428"}, "AmountDue": {"value": "7"}, "InvoiceDate": {"value": "not a date"}},
         (None, Decimal("7"), None)),
        ({"VendorName": {"value": "Acme Ltd"}}, None),  # no total: nothing to count
        ({"InvoiceTotal": {"value": "10"}}, None),  # no supplier: nothing to match
        ({"VendorName": {"value": "Acme Ltd"}, "InvoiceTotal": {"value": "ten"}}, None),
    ],
)  # fmt: skip
def test_invoice_summary_from_api_results(fields: dict[str, Any], expected: tuple[Any, ...] | None) -> None:
    from docintel.contracts.spend import invoice_summary

    summary = invoice_summary("job-1", {"fields": fields})
    if expected is None:
        assert summary is None
    else:
        assert summary is not None and (summary.vendor_name, summary.total, summary.date) == expected
