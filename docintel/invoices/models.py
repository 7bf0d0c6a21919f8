"""The invoice result: fields named as Azure's prebuilt-invoice names them, line items and validation checks."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# Field names, in the order the result lists them (Azure prebuilt-invoice names, so RPA flows map 1:1).
FIELD_NAMES = (
    "VendorName",
    "VendorAddress",
    "VendorTaxId",
    "CustomerName",
    "CustomerAddress",
    "InvoiceId",
    "InvoiceDate",
    "DueDate",
    "PurchaseOrder",
    "PaymentTerm",
    "SubTotal",
    "TotalTax",
    "InvoiceTotal",
    "AmountDue",
    "Currency",
    "PaymentDetails",
)
DATE_FIELDS = frozenset({"InvoiceDate", "DueDate"})
AMOUNT_FIELDS = frozenset({"SubTotal", "TotalTax", "InvoiceTotal", "AmountDue"})
ITEM_FIELD_NAMES = ("Description", "Quantity", "Unit", "UnitPrice", "TaxRate", "Amount")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BoundingBox(_Model):
    """Where a value sits: page number and edges as fractions (0-1) of the page, origin top-left."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


class InvoiceField(_Model):
    """One extracted value: normalised value, the text it came from, where, and how sure we are (0-1)."""

    value: str | dict[str, str] | None = None  # dates ISO 8601, amounts Decimal strings, PaymentDetails a mapping
    content: str = ""  # the document text the value was read from
    page: int | None = None
    bounding_box: BoundingBox | None = None
    confidence: float = 0.0
    currency: str | None = None  # ISO 4217 code, amounts only
    label: str | None = None  # the label the value was found beside, when there was one
    auto_accept: bool = Field(
        default=False,
        description="Confidence at or above auto_accept_threshold: measured right at least 99 times in 100, "
        "so a flow may post it without a person looking",
    )
    raw_confidence: float | None = Field(default=None, exclude=True)  # before calibration (kept to calibrate)


class InvoiceItem(_Model):
    """One line item; its fields are Description, Quantity, Unit, UnitPrice, TaxRate, Amount (when present)."""

    fields: dict[str, InvoiceField] = Field(default_factory=dict)
    page: int
    bounding_box: BoundingBox | None = None
    confidence: float = 0.0


class CheckStatus(StrEnum):
    """Outcome of one validation check."""

    PASS = "pass"  # noqa: S105 (a check outcome, not a password)
    FAIL = "fail"
    SKIPPED = "skipped"  # the fields the check needs were not found


class ValidationCheck(_Model):
    """One arithmetic or checksum check over the extracted fields."""

    name: str  # items_sum_to_subtotal, subtotal_plus_tax_is_total, vat_rate_consistent, vat_number_valid
    status: CheckStatus
    message: str
    expected: str | None = None
    actual: str | None = None


class LayoutLine(_Model):
    """A line of the document as read (kept in memory for corrections; never serialised into API answers)."""

    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


class InvoiceResult(_Model):
    """Everything extracted from one invoice."""

    fields: dict[str, InvoiceField] = Field(default_factory=dict)
    items: list[InvoiceItem] = Field(default_factory=list)
    validation: list[ValidationCheck] = Field(default_factory=list)
    pages: int = 0
    method: str = "text_layer"  # text_layer, ocr or mixed
    profile: str | None = None  # the supplier profile applied, if any
    day_first: bool = True  # how ambiguous numeric dates were read
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list)
    auto_accept: bool = Field(
        default=False,
        description="VendorName, InvoiceDate and InvoiceTotal are each auto_accept and no validation check failed: "
        "the invoice may be posted straight through; otherwise route it to a person",
    )
    auto_accept_threshold: float = Field(
        default=0.0, description="The confidence at and above which a field is auto_accept"
    )
    layout: list[LayoutLine] = Field(default_factory=list, exclude=True)

    def value(self, name: str) -> str | dict[str, str] | None:
        """A field's value, or None when it was not found."""
        found = self.fields.get(name)
        return found.value if found else None

    @property
    def valid(self) -> bool:
        """True when no validation check failed."""
        return all(check.status != CheckStatus.FAIL for check in self.validation)
