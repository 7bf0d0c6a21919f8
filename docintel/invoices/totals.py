"""Choosing the invoice total among the amounts labelled as totals, by what the words and the arithmetic say.

A page carries many "totals": quantities, items, discounts, the tax summary, the amount before tax, the
cash handed over. The one wanted is the amount payable. Each labelled candidate is scored by its full
label text (words such as "incl", "rounded", "grand", "due" for; "excl", "qty", "items", "discount"
against), by how it fits the other figures (subtotal + tax, cash tendered - change given), and by size
and position (the payable amount is the largest of the totals and sits below the others).
"""

from __future__ import annotations

import re
from decimal import Decimal

from docintel.invoices.fields import Candidate
from docintel.invoices.parse import format_amount

# Label words that say an amount is not the amount payable.
_NOT_PAYABLE = re.compile(
    r"\b(excl\w*|exclusive|excluding|before|qty|quantity|items?|pcs|units?|discounts?|disc|savings?|saved|points?|"
    r"change|tendered|cash|paid|deposit|weight|count|gst|vat|tax|nett?o|untaxed|ht|sub)\b",
    re.IGNORECASE,
)
# ... unless the label says the tax is included ("Total incl. GST", "Total inclusive of VAT").
_INCLUDED = re.compile(r"\b(incl\w*|inclusive|including|inc|with|ttc|gross)\b", re.IGNORECASE)
_PAYABLE = re.compile(
    r"\b(grand|round\w*|nett|due|payable|pay|amount|invoice|incl\w*|inclusive|gross|balance|ttc|final)\b",
    re.IGNORECASE,
)
# Two amounts this close are the same figure (rounding of cash sums to five cents, pennies of VAT rounding).
SAME_AMOUNT = Decimal("0.01")


def _fits(value: Decimal, target: Decimal | None) -> bool:
    return target is not None and abs(value - target) <= SAME_AMOUNT


def _single(candidates: list[Candidate], name: str) -> Decimal | None:
    """The amount of the lowest (last) candidate of a kind, e.g. the cash line that follows the total."""
    found = [c for c in candidates if c.name == name and c.number is not None]
    if not found:
        return None
    return max(found, key=lambda c: (c.words[0].page, c.words[0].y0)).number


def _net_total_after_charges(candidates: list[Candidate]) -> list[Candidate]:
    """A receipt's "NET TOTAL" when no total-labelled amount exists, if the tax or rounding lines come before it.

    "Net total" is the amount before tax on a UK invoice (above the VAT line) but the amount after service
    charge, tax and rounding on many receipts (below them): only the second is the payable amount.
    """
    subtotals = [c for c in candidates if c.name == "SubTotal" and c.number is not None and c.number > 0 and c.words]
    if not subtotals:
        return []
    last = max(subtotals, key=lambda c: (c.words[0].page, c.words[0].y0))
    if not re.search(r"\bnett?\b", last.context or last.label or "", re.IGNORECASE):
        return []
    charges_above = any(
        c.name in {"TotalTax", "Rounding"} and c.words and c.words[0].page == last.words[0].page
        and c.words[0].y0 < last.words[0].y0
        for c in candidates
    )  # fmt: skip
    return [last] if charges_above and last.number == max(c.number or Decimal(0) for c in subtotals) else []


def choose_total(
    candidates: list[Candidate], subtotal: Decimal | None, tax: Decimal | None, last_page: int
) -> Candidate | None:
    """The amount payable among InvoiceTotal and AmountDue candidates, or None when none is plausible."""
    totals = [
        c
        for c in candidates
        if c.name in {"InvoiceTotal", "AmountDue"} and c.number is not None and c.number > 0 and c.words
    ]
    if not totals:
        totals = _net_total_after_charges(candidates)
    if not totals:
        return None
    on_last = [c for c in totals if c.words[0].page == last_page] or totals
    paid, change = _single(candidates, "Paid"), _single(candidates, "Change")
    rounding = _single(candidates, "Rounding")
    # The unrounded totals a rounding adjustment was applied to: the rounded figure is the one paid.
    rounded = (
        {c.number + rounding for c in on_last if c.number is not None} if rounding is not None and rounding else set()
    )
    tendered = paid - change if paid is not None and change is not None and change >= 0 and paid > 0 else None
    expected = subtotal + tax if subtotal is not None and tax is not None else None
    largest = max(c.number or Decimal(0) for c in on_last)
    lowest = max(c.words[0].y0 for c in on_last)
    highest = min(c.words[0].y0 for c in on_last)
    span = max(lowest - highest, 1e-6)

    def score(candidate: Candidate) -> float:
        number = candidate.number or Decimal(0)
        context = candidate.context or candidate.label or ""
        value = candidate.confidence
        if _NOT_PAYABLE.search(context) and not _INCLUDED.search(context):
            value -= 0.8
        if _PAYABLE.search(context):
            value += 0.2
        if _fits(number, tendered):
            value += 0.6
        if _fits(number, expected):
            value += 0.5
        if number in rounded:
            value += 0.5
        if number == largest:
            value += 0.3
        if subtotal is not None and number < subtotal - SAME_AMOUNT:
            value -= 0.4
        value += 0.15 * (candidate.words[0].y0 - highest) / span
        return value

    chosen = max(on_last, key=score)
    if (
        expected is not None
        and _fits(expected, tendered)
        and not any(_fits(c.number or Decimal(0), expected) for c in on_last)
    ):
        # No total read agrees with two independent sums that agree with each other (subtotal + tax, and cash
        # tendered - change): the total line was misread; the sums give the figure.
        return _computed_total(candidates, expected)
    return chosen


# Confidence of a total computed from subtotal + tax = cash - change when no total line read agrees.
COMPUTED_TOTAL_CONFIDENCE = 0.5
# The label a computed total carries (so that the sums it came from are not read as confirming it).
COMPUTED_TOTAL_LABEL = "subtotal + tax = tendered - change"


def _computed_total(candidates: list[Candidate], value: Decimal) -> Candidate:
    """The total as the sums give it, placed at the cash line (the figure printed nowhere readable)."""
    cash = [c for c in candidates if c.name == "Paid" and c.words]
    paid = max(cash, key=lambda c: (c.words[0].page, c.words[0].y0)) if cash else None
    return Candidate(
        "InvoiceTotal",
        format_amount(value),
        paid.content if paid else "",
        paid.words if paid else [],
        COMPUTED_TOTAL_CONFIDENCE,
        label=COMPUTED_TOTAL_LABEL,
        currency=paid.currency if paid else None,
        number=value,
    )
