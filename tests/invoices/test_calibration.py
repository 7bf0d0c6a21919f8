"""Calibrated confidence and auto_accept: cutoffs fitted from judged values, the threshold means what it says."""

from __future__ import annotations

import pytest

from docintel.defaults import AUTO_ACCEPT_THRESHOLD
from docintel.invoices import extract_invoice
from docintel.invoices.calibration import (
    MIN_REAL_SUPPORT,
    MIN_SUPPORT,
    Measurement,
    calibrate,
    calibrated,
    fit_cutoffs,
    write_table,
)
from docintel.samples.invoices import generate

CUTOFFS = {"InvoiceDate": (0.8, 40, 40), "InvoiceTotal": (0.7, 30, 30), "VendorName": (0.6, 25, 25)}


def _rows(dataset: str, raws: list[float], right: bool, field: str = "InvoiceDate") -> list[Measurement]:
    return [Measurement(dataset, field, raw, right) for raw in raws]


@pytest.mark.parametrize(
    ("field", "raw", "accepted"),
    [
        ("InvoiceDate", 0.8, True),  # the cutoff lands on the threshold
        ("InvoiceDate", 0.95, True),
        ("InvoiceDate", 0.79, False),
        ("InvoiceDate", 0.0, False),
        ("PurchaseOrder", 1.0, False),  # never measured: never accepted
    ],
)
def test_calibrated_maps_the_cutoff_onto_the_threshold(field: str, raw: float, accepted: bool) -> None:
    assert (calibrated(field, raw, CUTOFFS) >= AUTO_ACCEPT_THRESHOLD) is accepted


def test_calibrated_keeps_the_order_of_confidences() -> None:
    values = [calibrated("InvoiceDate", raw / 100, CUTOFFS) for raw in range(101)]
    assert values == sorted(values)
    assert values[-1] == 1.0


def test_fit_finds_the_lowest_cutoff_right_99_in_100_with_a_margin_past_the_last_error() -> None:
    rows = _rows("real", [0.5 + 0.01 * n for n in range(40)], True) + _rows("real", [0.52, 0.6], False)
    cutoff, total, right = fit_cutoffs(rows)["InvoiceDate"]
    assert cutoff == pytest.approx(0.64)  # 0.61 is the first value past the last error, then three more
    assert total == right == sum(1 for row in rows if row.raw >= cutoff)


def test_fit_needs_support_and_real_documents() -> None:
    too_few = _rows("real", [0.9] * (MIN_SUPPORT - 1), True)
    assert fit_cutoffs(too_few) == {}
    generated_only = _rows("generated", [0.9] * 100, True) + _rows("real", [0.9] * (MIN_REAL_SUPPORT - 1), True)
    assert fit_cutoffs(generated_only) == {}


def test_fit_holds_on_each_dataset_not_only_pooled() -> None:
    # Pooled, 1 wrong in 150 is 99.3% right; but one dataset alone is 1 in 10 wrong at that level.
    rows = _rows("big", [0.9] * 140, True) + _rows("small", [0.9] * 9, True) + _rows("small", [0.9], False)
    assert "InvoiceDate" not in fit_cutoffs(rows)


def test_written_table_is_python_that_gives_back_the_cutoffs() -> None:
    namespace: dict[str, object] = {}
    exec(compile(write_table(CUTOFFS, "tests"), "calibration_table.py", "exec"), namespace)
    assert namespace["CUTOFFS"] == CUTOFFS


def test_invoice_auto_accept_needs_every_posting_field_and_no_failed_check() -> None:
    result = extract_invoice(generate("en", "letterhead", 0).pdf, "invoice.pdf", profiles=[])
    raws = {name: found.raw_confidence for name, found in result.fields.items()}
    generous = {name: (0.0, 100, 100) for name in raws}
    accepted = calibrate(result.model_copy(deep=True), generous)
    assert accepted.auto_accept
    assert all(found.auto_accept for found in accepted.fields.values() if found.value is not None)
    assert not any(found.auto_accept for found in accepted.fields.values() if found.value is None)
    without_vendor = {name: cutoff for name, cutoff in generous.items() if name != "VendorName"}
    assert not calibrate(result.model_copy(deep=True), without_vendor).auto_accept
    failed = result.model_copy(deep=True)
    failed.validation[1].status = failed.validation[1].status.FAIL
    assert not calibrate(failed, generous).auto_accept


def test_result_carries_the_threshold_and_never_serialises_raw_confidence() -> None:
    result = extract_invoice(generate("de", "window", 0).pdf, "invoice.pdf", profiles=[])
    body = result.model_dump(mode="json")
    assert body["auto_accept_threshold"] == AUTO_ACCEPT_THRESHOLD
    assert "auto_accept" in body["fields"]["InvoiceTotal"]
    assert "raw_confidence" not in body["fields"]["InvoiceTotal"]


def test_a_total_the_sums_reproduce_is_surer_than_one_nothing_checks() -> None:
    header = "Brackenfold Print Services Ltd\nInvoice No: 4471\nInvoice Date: 03/04/2025\n"
    checked = extract_invoice((header + "Subtotal: 100.00\nVAT: 20.00\nTotal: 120.00\n").encode(), "a.txt", profiles=[])
    unchecked = extract_invoice((header + "Subtotal: 100.00\nTotal: 120.00\n").encode(), "b.txt", profiles=[])
    wrong = extract_invoice((header + "Subtotal: 100.00\nVAT: 20.00\nTotal: 130.00\n").encode(), "c.txt", profiles=[])
    raw = [result.fields["InvoiceTotal"].raw_confidence or 0.0 for result in (checked, unchecked, wrong)]
    assert raw[0] > raw[1] > raw[2]
