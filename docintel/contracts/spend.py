"""Spend against contract: invoices matched to contracts by supplier (VAT number, company number, exact name).

A supplier is recognised by its VAT number first, then its Companies House number, then its name normalised
(case, punctuation and legal forms ignored: "GREENWAY LANDSCAPES LIMITED" is "Greenway Landscapes Ltd"). Names
are never matched loosely: "Greenway Landscaping Ltd" is another company, and paying it against Greenway
Landscapes' contract is exactly the mistake this check exists to catch. When a supplier holds several contracts
the invoice goes to the one whose period contains the invoice date, else the one that ended last before it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Words that do not tell one supplier from another.
_LEGAL_WORDS = frozenset({"limited", "ltd", "plc", "llp", "lp", "inc", "incorporated", "the", "co", "company", "uk"})


def supplier_name_key(name: str | None) -> str | None:
    """A supplier's name with case, punctuation, "&"/"and" and legal forms ignored; None when nothing is left."""
    if not name:
        return None
    words = re.sub(r"[^\w\s]", " ", name.replace("&", " and ")).casefold().split()
    kept = [word for word in words if word not in _LEGAL_WORDS]
    return " ".join(kept) or None


def vat_key(value: str | None) -> str | None:
    """A UK VAT number as its nine (or twelve) digits, whatever the prefix and spacing."""
    digits = re.sub(r"\D", "", value or "")
    return digits if len(digits) in (9, 12) else None


def company_key(value: str | None) -> str | None:
    """A Companies House number upper-cased and zero-padded to eight characters."""
    compact = re.sub(r"\s", "", value or "").upper()
    if not compact:
        return None
    return compact.zfill(8) if compact.isdigit() else compact


@dataclass(frozen=True)
class InvoiceSummary:
    """What matching needs of one invoice: who sent it, when, how much."""

    invoice_id: str
    vendor_name: str | None
    vendor_vat: str | None = None
    vendor_company_number: str | None = None
    date: dt.date | None = None
    total: Decimal = Decimal(0)


def invoice_summary(invoice_id: str, result: Mapping[str, Any]) -> InvoiceSummary | None:
    """The matching keys of an invoice the API read (InvoiceResult as JSON), or None without a supplier or total."""
    fields: Mapping[str, Any] = result.get("fields") or {}

    def value(name: str) -> Any:
        found = fields.get(name) or {}
        return found.get("value") if isinstance(found, Mapping) else None

    total = value("InvoiceTotal") or value("AmountDue")
    name, vat = value("VendorName"), value("VendorTaxId")
    if total is None or not (name or vat):
        return None
    try:
        amount = Decimal(str(total))
    except ArithmeticError:
        return None
    when = value("InvoiceDate")
    try:
        date = dt.date.fromisoformat(str(when)) if when else None
    except ValueError:
        date = None
    return InvoiceSummary(invoice_id, str(name) if name else None, vendor_vat=vat, date=date, total=amount)


@dataclass
class ContractSpend:
    """One contract's invoiced spend: how much, how many invoices, and what came after it ended."""

    document_id: str
    supplier: str | None
    value: Decimal | None
    end_date: dt.date | None
    invoiced: Decimal = Decimal(0)
    invoices: list[str] = field(default_factory=list)
    after_end: list[str] = field(default_factory=list)  # invoices dated after the contract ended

    @property
    def over_value(self) -> bool:
        """True when more has been invoiced than the contract's stated value."""
        return self.value is not None and self.invoiced > self.value


@dataclass
class SpendReport:
    """Spend per contract, invoices matched by which key, and invoices matching no contract."""

    contracts: dict[str, ContractSpend]
    matched_by: dict[str, str]  # invoice id -> "vat", "company_number" or "name"
    assigned: dict[str, str]  # invoice id -> contract document id
    unmatched: list[str]


def _choose(candidates: list[Mapping[str, Any]], when: dt.date | None) -> Mapping[str, Any]:
    if when is not None:
        for row in candidates:
            start, end = row.get("start_date"), row.get("end_date")
            if (start is None or start <= when) and (end is None or when <= end):
                return row
        ended = [row for row in candidates if row.get("end_date") and row["end_date"] < when]
        if ended:
            return max(ended, key=lambda row: row["end_date"])
    return candidates[0]


def match_spend(contracts: Iterable[Mapping[str, Any]], invoices: Iterable[InvoiceSummary]) -> SpendReport:
    """Match invoices to contracts (rows as CatalogueStore.iter_contracts gives them) and total the spend."""
    rows = list(contracts)
    by_key: dict[str, dict[str, list[Mapping[str, Any]]]] = {"vat": {}, "company_number": {}, "name": {}}
    spend: dict[str, ContractSpend] = {}
    for row in rows:
        value = row.get("total_value") or row.get("annual_value")
        spend[str(row["document_id"])] = ContractSpend(
            document_id=str(row["document_id"]),
            supplier=row.get("supplier_name"),
            value=Decimal(value) if value else None,
            end_date=row.get("end_date"),
        )
        for kind, key in (
            ("vat", vat_key(row.get("supplier_vat_number"))),
            ("company_number", company_key(row.get("supplier_company_number"))),
            ("name", supplier_name_key(row.get("supplier_name"))),
        ):
            if key:
                by_key[kind].setdefault(key, []).append(row)
    report = SpendReport(contracts=spend, matched_by={}, assigned={}, unmatched=[])
    for invoice in invoices:
        found: list[Mapping[str, Any]] = []
        for kind, key in (
            ("vat", vat_key(invoice.vendor_vat)),
            ("company_number", company_key(invoice.vendor_company_number)),
            ("name", supplier_name_key(invoice.vendor_name)),
        ):
            found = by_key[kind].get(key, []) if key else []
            if found:
                report.matched_by[invoice.invoice_id] = kind
                break
        if not found:
            report.unmatched.append(invoice.invoice_id)
            continue
        row = _choose(found, invoice.date)
        target = spend[str(row["document_id"])]
        target.invoiced += invoice.total
        target.invoices.append(invoice.invoice_id)
        report.assigned[invoice.invoice_id] = target.document_id
        if invoice.date and target.end_date and invoice.date > target.end_date:
            target.after_end.append(invoice.invoice_id)
    return report
