"""The contract register the Local Government Transparency Code 2015 asks councils to publish, and expiry alerts.

The Code (part 2, "Contracts") asks for every contract above £5,000: a reference, the title, a description
of the goods or services, the department responsible, the supplier's name and Companies House number,
whether the supplier is an SME or a voluntary or community sector organisation (VCSE), start, end and review
dates, the value (over the contract's life, or the annual value), the VAT that cannot be recovered and how the
contract was procured. A document tells us some of these; the rest a person must fill. Each row names
those columns in ``to_fill`` and the columns read with low confidence in ``to_check``.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from docintel.catalogue.store import CatalogueStore

log = logging.getLogger(__name__)

# Columns in the order the register lists them: the Code's fields first, then where each row came from.
REGISTER_COLUMNS = (
    "reference",
    "title",
    "description",
    "department",
    "supplier_name",
    "supplier_company_number",
    "supplier_vat_number",
    "supplier_is_sme",
    "supplier_is_vcse",
    "start_date",
    "end_date",
    "review_date",
    "total_value",
    "annual_value",
    "currency",
    "vat_not_recoverable",
    "procurement_route",
    "invoiced_to_date",
    "invoice_count",
    "invoiced_after_end",
    "contract_kind",
    "to_fill",
    "to_check",
    "document_id",
    "document_name",
    "document_path",
    "web_url",
    "record_class",
)
# Columns the documents never state: a person fills them from the council's procurement records.
ALWAYS_FILLED_BY_A_PERSON = ("department", "supplier_is_sme", "supplier_is_vcse", "vat_not_recoverable")
# Columns the Code requires that the document should state; when not found, a person fills them.
READ_FROM_THE_DOCUMENT = ("reference", "title", "supplier_name", "start_date", "end_date")
# Below this confidence a value read from the document is listed in ``to_check``.
CHECK_BELOW_CONFIDENCE = 0.6
# Register column -> the contract field (or column) it is read from, for confidence look-ups.
_FIELD_OF_COLUMN = {
    "reference": "reference",
    "title": "title",
    "start_date": "start_date",
    "end_date": "end_date",
    "total_value": "total_value",
    "annual_value": "annual_value",
}
_KIND_WORDS = {
    "services": "Services",
    "works": "Works",
    "supply": "Supply of goods",
    "framework_call_off": "Framework call-off",
    "grant": "Grant agreement",
    "lease": "Lease",
    "licence": "Licence",
    "planning_obligation": "Planning obligation (s106)",
    "nda": "Non-disclosure agreement",
    "data_sharing": "Data-sharing agreement",
    "other": "Contract",
}


def _decimal(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def in_register(row: Mapping[str, Any], threshold: float) -> bool:
    """True when the contract is above the Code's threshold, or its value is unknown (a person must decide)."""
    values = [v for v in (_decimal(row.get("total_value")), _decimal(row.get("annual_value"))) if v is not None]
    return not values or max(values) >= Decimal(str(threshold))


def register_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One register row from a catalogue contract row (CatalogueStore.iter_contracts)."""
    fields: Mapping[str, Any] = row.get("fields") or {}
    kind = str(row.get("kind") or "other")
    framework = row.get("framework_reference")
    title = row.get("title")
    out: dict[str, Any] = {
        "invoiced_to_date": None,
        "invoice_count": 0,
        "invoiced_after_end": 0,
        "reference": row.get("reference"),
        "title": title,
        "description": f"{_KIND_WORDS.get(kind, 'Contract')}: {title}" if title else None,
        "department": None,
        "supplier_name": row.get("supplier_name"),
        "supplier_company_number": row.get("supplier_company_number"),
        "supplier_vat_number": row.get("supplier_vat_number"),
        "supplier_is_sme": None,
        "supplier_is_vcse": None,
        "start_date": row.get("start_date"),
        "end_date": row.get("end_date"),
        "review_date": row.get("notice_date"),
        "total_value": row.get("total_value"),
        "annual_value": row.get("annual_value"),
        "currency": row.get("currency") or ("GBP" if row.get("total_value") or row.get("annual_value") else None),
        "vat_not_recoverable": None,
        "procurement_route": f"call-off under framework {framework}" if framework else None,
        "contract_kind": kind,
        "document_id": row.get("document_id"),
        "document_name": row.get("name"),
        "document_path": row.get("path"),
        "web_url": row.get("web_url"),
        "record_class": row.get("record_class"),
    }
    to_fill = [column for column in ALWAYS_FILLED_BY_A_PERSON]
    to_fill += [column for column in READ_FROM_THE_DOCUMENT if not out[column]]
    if not out["total_value"] and not out["annual_value"]:
        to_fill.append("total_value")
    if not out["procurement_route"]:
        to_fill.append("procurement_route")
    if not out["supplier_company_number"]:
        to_fill.append("supplier_company_number")
    if row.get("supplier_name_hash") and not out["supplier_name"]:
        to_fill.append("supplier_name (a person: take it from the document)")
    to_check = [
        column
        for column, field_name in _FIELD_OF_COLUMN.items()
        if out[column] and float((fields.get(field_name) or {}).get("confidence") or 0) < CHECK_BELOW_CONFIDENCE
    ]
    if out["end_date"] and (fields.get("end_date") or {}).get("how"):
        to_check.append("end_date (computed: " + str(fields["end_date"]["how"]) + ")")
    if out["description"]:
        to_check.append("description (drafted from the title)")
    out["to_fill"] = "|".join(dict.fromkeys(to_fill))
    out["to_check"] = "|".join(dict.fromkeys(to_check))
    return out


def register_rows(store: CatalogueStore, *, threshold: float) -> Iterator[dict[str, Any]]:
    """The register's rows: live contracts above the threshold (or of unknown value), in document-id order.

    Each row carries the spend invoiced against it by the invoices the API has read (matched by supplier, see
    docintel.contracts.spend): the total, how many invoices, and how many are dated after the contract ended.
    """
    from docintel.contracts.spend import invoice_summary, match_spend

    contracts = list(store.iter_contracts())
    invoices = [
        summary
        for job in store.iter_invoice_results()
        if (summary := invoice_summary(str(job["id"]), job["result"])) is not None
    ]
    spend = match_spend(contracts, invoices)
    if spend.unmatched:
        log.info("%d invoices match no contract", len(spend.unmatched))
    for row in contracts:
        if in_register(row, threshold):
            out = register_row(row)
            found = spend.contracts[str(row["document_id"])]
            out["invoiced_to_date"] = f"{found.invoiced:.2f}" if found.invoices else None
            out["invoice_count"] = len(found.invoices)
            out["invoiced_after_end"] = len(found.after_end)
            yield out


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    # A spreadsheet would run these as formulas.
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


def write_register_csv(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write register rows as CSV with a header; returns rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in REGISTER_COLUMNS])
        written += 1
    log.info("exported %d contracts to the register (CSV)", written)
    return written


def write_register_parquet(rows: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write register rows as Parquet (dates as dates, values as decimals); returns rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    money = pa.decimal128(18, 2)
    types = {"start_date": pa.date32(), "end_date": pa.date32(), "review_date": pa.date32()}
    types |= {"total_value": money, "annual_value": money, "invoiced_to_date": money}
    types |= {"invoice_count": pa.int32(), "invoiced_after_end": pa.int32()}
    schema = pa.schema([pa.field(column, types.get(column, pa.string())) for column in REGISTER_COLUMNS])
    batch = [
        {
            column: _decimal(row[column])
            if column in ("total_value", "annual_value", "invoiced_to_date")
            else row[column]
            for column in REGISTER_COLUMNS
        }
        for row in rows
    ]
    pq.write_table(pa.Table.from_pylist(batch, schema=schema), path, compression="zstd")
    log.info("exported %d contracts to the register (Parquet)", len(batch))
    return len(batch)


@dataclass(frozen=True)
class ContractAlert:
    """A contract ending, or reaching the last day to give notice, within an alert window."""

    document_id: str
    name: str
    path: str
    supplier: str  # the supplier's name, or "(a person)" when it is an individual
    event: str  # "ends" or "notice due"
    date: dt.date
    days: int  # days from today
    window: int  # the smallest alert window (days) the date falls in


def contract_alerts(
    rows: Iterable[Mapping[str, Any]], *, today: dt.date, windows: Iterable[int]
) -> list[ContractAlert]:
    """Contracts ending or reaching their notice date within the largest window, soonest first."""
    ordered = sorted(set(windows))
    if not ordered:
        return []
    alerts: list[ContractAlert] = []
    for row in rows:
        supplier = row.get("supplier_name") or ("(a person)" if row.get("supplier_name_hash") else "(not found)")
        for event, column in (("notice due", "notice_date"), ("ends", "end_date")):
            when = row.get(column)
            if not isinstance(when, dt.date):
                continue
            days = (when - today).days
            if 0 <= days <= ordered[-1]:
                window = next(limit for limit in ordered if days <= limit)
                alerts.append(
                    ContractAlert(
                        document_id=str(row["document_id"]),
                        name=str(row.get("name") or ""),
                        path=str(row.get("path") or ""),
                        supplier=str(supplier),
                        event=event,
                        date=when,
                        days=days,
                        window=window,
                    )
                )
    alerts.sort(key=lambda alert: (alert.date, alert.document_id, alert.event))
    return alerts
