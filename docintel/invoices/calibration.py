"""Confidence a flow can act on: each field's raw confidence mapped so the published threshold means what it says.

For each field, ``bench/invoices.py --calibrate`` measures a cutoff on the raw confidence: the lowest raw
confidence at and above which at least ``AUTO_ACCEPT_PRECISION`` of that field's values were right, pooled
and on each dataset alone, with at least ``MIN_SUPPORT`` values to judge by, ``MIN_REAL_SUPPORT`` of them from
real documents (generated invoices add support, never decide alone), and then raised past ``MARGIN_VALUES``
more right values above the highest-placed wrong one, since a cutoff set just above the last error on a few
dozen documents is optimistic on the next ones. The calibrated confidence maps
that cutoff to ``AUTO_ACCEPT_THRESHOLD``, linearly on either side, so confidences keep their order and a field
at or above the threshold is one the measurements say is right at least 99 times in 100. A field with no
cutoff (never measured, or never right often enough) stays below the threshold: a person reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from docintel.defaults import AUTO_ACCEPT_INVOICE_FIELDS, AUTO_ACCEPT_PRECISION, AUTO_ACCEPT_THRESHOLD
from docintel.invoices.calibration_table import CUTOFFS
from docintel.invoices.models import InvoiceResult

# Fewer values than this at and above a cutoff prove nothing about 99%: no cutoff is set on less.
MIN_SUPPORT = 20
# Of those, at least this many from real documents: a field only generated invoices vouch for is not accepted.
MIN_REAL_SUPPORT = 10
# Right values kept between the highest wrong value below the cutoff and the cutoff itself.
MARGIN_VALUES = 3
# Datasets of generated documents (not real ones).
SYNTHETIC_DATASETS = frozenset({"generated"})
# Uncalibrated fields keep their order but end just under the threshold.
UNCALIBRATED_CEILING = AUTO_ACCEPT_THRESHOLD - 0.01


@dataclass(frozen=True)
class Measurement:
    """One extracted value judged against the truth: which dataset, which field, its raw confidence, right or not."""

    dataset: str
    field: str
    raw: float
    right: bool


def calibrated(field: str, raw: float, cutoffs: dict[str, tuple[float, int, int]] | None = None) -> float:
    """A field's raw confidence mapped onto the published scale (the cutoff lands on the threshold)."""
    table = CUTOFFS if cutoffs is None else cutoffs
    raw = max(0.0, min(1.0, raw))
    if field not in table:
        return round(raw * UNCALIBRATED_CEILING, 3)
    cutoff = table[field][0]
    if raw >= cutoff:
        span = 1.0 - cutoff
        above = (raw - cutoff) / span if span > 0 else 1.0
        return round(AUTO_ACCEPT_THRESHOLD + (1.0 - AUTO_ACCEPT_THRESHOLD) * above, 3)
    return round(min(raw / cutoff, 1.0) * UNCALIBRATED_CEILING, 3) if cutoff > 0 else 0.0


def calibrate(result: InvoiceResult, cutoffs: dict[str, tuple[float, int, int]] | None = None) -> InvoiceResult:
    """The result with calibrated confidences, auto_accept per field and per invoice (changed in place)."""
    for name, found in result.fields.items():
        raw = found.raw_confidence if found.raw_confidence is not None else found.confidence
        found.raw_confidence = raw
        if found.value is None:
            found.confidence, found.auto_accept = 0.0, False
            continue
        found.confidence = calibrated(name, raw, cutoffs)
        found.auto_accept = found.confidence >= AUTO_ACCEPT_THRESHOLD
    needed = [result.fields.get(name) for name in AUTO_ACCEPT_INVOICE_FIELDS]
    result.auto_accept = result.valid and all(found is not None and found.auto_accept for found in needed)
    result.auto_accept_threshold = AUTO_ACCEPT_THRESHOLD
    return result


def _precise(right: int, total: int) -> bool:
    return total > 0 and right >= AUTO_ACCEPT_PRECISION * total


def fit_cutoffs(measurements: Iterable[Measurement]) -> dict[str, tuple[float, int, int]]:
    """Per field, the lowest raw confidence at and above which the values were right often enough, everywhere.

    The answer maps each field to (cutoff, values at or above it, of which right); fields with no such cutoff
    are left out.
    """
    by_field: dict[str, list[Measurement]] = {}
    for measurement in measurements:
        by_field.setdefault(measurement.field, []).append(measurement)
    cutoffs: dict[str, tuple[float, int, int]] = {}
    for field, rows in sorted(by_field.items()):
        raws = sorted({row.raw for row in rows})
        for position, raw in enumerate(raws):
            kept = [row for row in rows if row.raw >= raw]
            real = [row for row in kept if row.dataset not in SYNTHETIC_DATASETS]
            if len(kept) < MIN_SUPPORT or len(real) < MIN_REAL_SUPPORT:
                break
            datasets = {row.dataset for row in kept}
            each = all(
                _precise(sum(r.right for r in kept if r.dataset == d), sum(1 for r in kept if r.dataset == d))
                for d in datasets
            )
            if not (_precise(sum(row.right for row in kept), len(kept)) and each):
                continue
            cutoff = raw
            wrong_below = [row.raw for row in rows if not row.right and row.raw < raw]
            if wrong_below:
                # Past the highest wrong value by MARGIN_VALUES right ones (or as far as the values go).
                above = [value for value in raws[position:] if value > max(wrong_below)]
                cutoff = above[min(MARGIN_VALUES, len(above) - 1)]
                kept = [row for row in rows if row.raw >= cutoff]
                real = [row for row in kept if row.dataset not in SYNTHETIC_DATASETS]
                if len(kept) < MIN_SUPPORT or len(real) < MIN_REAL_SUPPORT:
                    break
            cutoffs[field] = (cutoff, len(kept), sum(row.right for row in kept))
            break
    return cutoffs


def write_table(cutoffs: dict[str, tuple[float, int, int]], sources: str) -> str:
    """The source text of ``calibration_table.py`` for measured cutoffs (what ``--calibrate`` writes)."""
    lines = [
        '"""Raw-confidence cutoffs per field, measured by `python -m bench.invoices --calibrate`: do not edit."""',
        "",
        f"# Measured on: {sources}.",
        "# field -> (raw cutoff, values at or above it, of which right)",
        "CUTOFFS: dict[str, tuple[float, int, int]] = {",
    ]
    lines += [f'    "{field}": ({raw!r}, {total}, {right}),' for field, (raw, total, right) in sorted(cutoffs.items())]
    lines.append("}")
    return "\n".join(lines) + "\n"
