"""Raw-confidence cutoffs per field, measured by `python -m bench.invoices --calibrate`: do not edit."""

# Measured on: invoice2data, sroie, generated.
# field -> (raw cutoff, values at or above it, of which right)
CUTOFFS: dict[str, tuple[float, int, int]] = {
    "Currency": (0.95, 72, 72),
    "InvoiceDate": (0.604, 83, 83),
}
