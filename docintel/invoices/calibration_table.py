"""Raw-confidence cutoffs per field, measured by `python -m bench.invoices --calibrate`: do not edit."""

# Measured on: invoice2data, sroie, generated.
# field -> (raw cutoff, values at or above it, of which right)
CUTOFFS: dict[str, tuple[float, int, int]] = {
    "Currency": (0.95, 72, 72),
    "CustomerName": (0.8, 40, 40),
    "DueDate": (0.627, 63, 63),
    "InvoiceDate": (0.544, 86, 86),
    "InvoiceId": (0.649, 56, 56),
    "InvoiceTotal": (0.729, 23, 23),
    "SubTotal": (0.292, 64, 64),
    "TotalTax": (0.608, 60, 60),
    "VendorName": (0.987, 34, 34),
    "VendorTaxId": (0.356, 62, 62),
}
