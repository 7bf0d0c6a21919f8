"""Invoice field extraction for RPA flows: Azure prebuilt-invoice field names, UK dates, VAT checks."""

from docintel.invoices.extract import extract_invoice
from docintel.invoices.models import (
    FIELD_NAMES,
    BoundingBox,
    CheckStatus,
    InvoiceField,
    InvoiceItem,
    InvoiceResult,
    ValidationCheck,
)
from docintel.invoices.profiles import SupplierProfile, apply_correction, load_profiles

__all__ = [
    "FIELD_NAMES",
    "BoundingBox",
    "CheckStatus",
    "InvoiceField",
    "InvoiceItem",
    "InvoiceResult",
    "SupplierProfile",
    "ValidationCheck",
    "apply_correction",
    "extract_invoice",
    "load_profiles",
]
