"""Raw-confidence cutoffs per field, measured by `python -m bench.invoices --calibrate`: do not edit."""

# Measured on: nothing yet.
# field -> (raw cutoff, values at or above it, of which right)
CUTOFFS: dict[str, tuple[float, int, int]] = {}
