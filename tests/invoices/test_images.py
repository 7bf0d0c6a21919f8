"""Receipt images with small text: the enlarged second reading and the field-by-field choice between readings."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from docintel.extract.ocr import OcrResult, OcrWord
from docintel.invoices import InvoiceField, InvoiceResult, extract_invoice
from docintel.invoices.extract import merge_readings
from docintel.invoices.images import enlarged, enlargement, pages_to_reread, text_height
from docintel.invoices.models import CheckStatus
from docintel.settings import Settings
from tests.invoices.conftest import receipt_photo


def _reading(*words: tuple[str, int, float]) -> OcrResult:
    """A reading of words given as (text, box height in pixels, confidence)."""
    boxes = [OcrWord(0, 20 * n, 40, height, conf, text) for n, (text, height, conf) in enumerate(words)]
    return OcrResult("", 80.0, boxes)


@pytest.mark.parametrize(
    ("reading", "height", "factor"),
    [
        # Text 14 px tall: enlarged to the 28 px target.
        (_reading(("TOTAL", 14, 90.0), ("CASH", 14, 88.0), ("CHANGE", 15, 91.0)), 14, 2.0),
        # Tiny text: enlarged at most four times.
        (_reading(("TOTAL", 5, 90.0), ("CASH", 5, 90.0)), 5, 4.0),
        # Text large enough: read once.
        (_reading(("TOTAL", 30, 90.0), ("CASH", 31, 90.0)), 30.5, None),
        # Specks and unsure words do not measure the text: a big speck does not hide small text.
        (_reading(("TOTAL", 12, 90.0), ("CASH", 12, 90.0), ("|", 80, 95.0), ("xx", 80, 95.0), ("~~~", 80, 20.0)), 12,
         28 / 12),
        # Nothing read confidently: nothing to measure, no second reading.
        (_reading(("~~~", 12, 20.0), ("a", 12, 95.0)), None, None),
    ],
)  # fmt: skip
def test_enlargement(reading: OcrResult, height: float | None, factor: float | None) -> None:
    assert text_height(reading) == height
    assert enlargement(reading) == pytest.approx(factor) if factor else enlargement(reading) is None


def test_pages_to_reread_lists_only_small_pages() -> None:
    small, large = _reading(("TOTAL", 14, 90.0)), _reading(("TOTAL", 40, 90.0))
    assert pages_to_reread([large, small, large]) == [(1, 2.0)]


def test_enlarged_copy_is_grey_and_scaled() -> None:
    copy = enlarged(Image.new("RGB", (100, 50), (250, 240, 230)), 2.5)
    assert (copy.mode, copy.size) == ("L", (250, 125))


def _result(**fields: tuple[str, float]) -> InvoiceResult:
    """A result holding the given (value, confidence) fields."""
    return InvoiceResult(fields={name: InvoiceField(value=v, confidence=c) for name, (v, c) in fields.items()})


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Each field from the reading more confident of it.
        ({"VendorName": ("ACME", 0.8), "InvoiceTotal": ("28.00", 0.5)},
         {"VendorName": ("ACNE", 0.6), "InvoiceTotal": ("28.35", 0.7)},
         {"VendorName": "ACME", "InvoiceTotal": "28.35"}),
        # A field only the second reading found; a tie keeps the first reading's value.
        ({"InvoiceDate": ("2018-03-14", 0.45)}, {"InvoiceDate": ("2018-03-18", 0.45), "InvoiceTotal": ("9.00", 0.6)},
         {"InvoiceDate": "2018-03-14", "InvoiceTotal": "9.00"}),
        # Nothing in the second reading: the first as it was.
        ({"VendorName": ("ACME", 0.8)}, {}, {"VendorName": "ACME"}),
    ],
)  # fmt: skip
def test_merge_readings(
    first: dict[str, tuple[str, float]], second: dict[str, tuple[str, float]], expected: dict[str, str]
) -> None:
    merged = merge_readings(_result(**first), _result(**second))
    assert {name: found.value for name, found in merged.fields.items() if found.value is not None} == expected


def test_merged_fields_are_checked_again() -> None:
    first = _result(SubTotal=("100.00", 0.9), TotalTax=("20.00", 0.9), InvoiceTotal=("126.00", 0.8))
    second = _result(InvoiceTotal=("120.00", 0.85))
    merged = merge_readings(first, second)
    check = next(check for check in merged.validation if check.name == "subtotal_plus_tax_is_total")
    assert merged.value("InvoiceTotal") == "120.00"
    assert check.status == CheckStatus.PASS


@pytest.mark.needs_tesseract
def test_small_receipt_photo_is_read_twice() -> None:
    photo = Image.open(io.BytesIO(receipt_photo()))
    small = photo.resize((photo.width // 2, photo.height // 2), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=90)
    result = extract_invoice(buffer.getvalue(), "receipt.jpg", settings=Settings(), profiles=[])
    assert any("read twice" in note for note in result.notes)
    assert result.value("VendorName") == "KEDAI RUNCIT MAJU JAYA SDN BHD"
    assert result.value("InvoiceDate") == "2018-03-14"
    assert result.value("InvoiceTotal") == "28.35"
