"""Exports of the catalogue: one JSON object per line (JSONL), flattened CSV for spreadsheets, or Parquet for
Power BI (the CSV's columns, typed: whole numbers, decimals, booleans, UTC timestamps and dates).

All stream from :meth:`CatalogueStore.iter_documents`, so memory stays flat on large catalogues (Parquet is
written in row groups of ``PARQUET_ROW_GROUP`` documents), and all carry counts only: no extracted text and no
personal data ever leave through an export. Each JSONL line also
carries the document's governance ``signals`` (duplicates, near-duplicates, wrong place, stale), computed
over the catalogue once before the lines are written (see :mod:`docintel.governance`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from docintel.catalogue.store import CatalogueStore

if TYPE_CHECKING:
    from classifiers.config import SignalSettings
    from docintel.governance import DocumentSignals

log = logging.getLogger(__name__)

# Spreadsheets run a cell starting with these as a formula; a hostile file name could carry one (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "id",
    "parent_id",
    "source",
    "locator",
    "name",
    "path",
    "web_url",
    "depth",
    "file_type",
    "mime_type",
    "size",
    "sha256",
    "status",
    "deleted",
    "error_type",
    "error_message",
    "title",
    "created_at",
    "modified_at",
    "processed_at",
    "page_count",
    "text_chars",
    "record_class",
    "class_confidence",
    "class_explanation",
    "classifier",
    "retention_period",
    "retention_trigger",
    "retention_action",
    "disposal_date",
)
# Prefixes of the per-type count columns, one column per value found in the catalogue.
_COUNT_COLUMN_PREFIXES = {"page_methods": "pages_", "entity_counts": "entities_", "pii_counts": "pii_"}


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def document_json(row: Mapping[str, Any], signals: DocumentSignals | None = None) -> dict[str, Any]:
    """The export shape of one catalogue row (as yielded by ``iter_documents``), with its governance signals."""
    from docintel.governance import NO_SIGNALS

    has_class = row["record_class"] is not None
    has_retention = row["retention_period"] is not None
    return {
        "id": row["id"],
        "provenance": {
            "source": row["source"],
            "locator": row["locator"],
            "name": row["name"],
            "path": row["path"],
            "parent_id": row["parent_id"],
            "web_url": row["web_url"],
            "drive_id": row["drive_id"],
            "item_id": row["item_id"],
            "etag": row["etag"],
            "created_at": _iso(row["created_at"]),
            "modified_at": _iso(row["modified_at"]),
        },
        "type": {
            "file_type": row["file_type"],
            "mime_type": row["mime_type"],
            "size": row["size"],
            "sha256": row["sha256"],
        },
        "depth": row["depth"],
        "status": row["status"],
        "deleted": bool(row["deleted"]),
        "error": {"type": row["error_type"], "message": row["error_message"]} if row["error_type"] else None,
        "title": row["title"],
        "processed_at": _iso(row["processed_at"]),
        "run_id": row["run_id"],
        "page_count": row["page_count"],
        "text_chars": row["text_chars"],
        "pages": dict(row["page_methods"]),
        "entities": dict(row["entity_counts"]),
        "pii": dict(row["pii_counts"]),
        "classification": {
            "record_class": row["record_class"],
            "confidence": row["class_confidence"],
            "explanation": row["class_explanation"],
            "classifier": row["classifier"],
        }
        if has_class
        else None,
        "retention": {
            "period": row["retention_period"],
            "trigger": row["retention_trigger"],
            "action": row["retention_action"],
            "authority": row["retention_authority"],
            "disposal_date": _iso(row["disposal_date"]),
        }
        if has_retention
        else None,
        "signals": (signals or NO_SIGNALS).as_json(),
    }


def export_jsonl(
    store: CatalogueStore,
    out: TextIO,
    *,
    include_deleted: bool = True,
    signal_settings: SignalSettings | None = None,
) -> int:
    """Write one JSON line per catalogued document (children included); returns the number written.

    ``signal_settings``: the ``signals`` block of config/classifier.yaml (read from the configuration folder
    when not given). Deleted documents carry no signals.
    """
    from classifiers.config import load_classifier_config
    from docintel.governance import compute_signals

    signals = compute_signals(store, signal_settings or load_classifier_config().signals)
    written = 0
    for row in store.iter_documents(include_children=True, include_deleted=include_deleted):
        line = document_json(row, signals.for_document(row["id"]))
        out.write(json.dumps(line, ensure_ascii=False, sort_keys=False))
        out.write("\n")
        written += 1
    log.info("exported %d documents as JSONL", written)
    return written


def _cell(value: Any) -> Any:
    value = _iso(value)
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _count_columns(store: CatalogueStore) -> list[tuple[str, str, str]]:
    """(column name, row key, count key) of every per-type count column: pages_ocr, entities_PERSON, pii_UK_NHS..."""
    keys = store.breakdown_keys()
    return [(prefix + key, group, key) for group, prefix in _COUNT_COLUMN_PREFIXES.items() for key in keys[group]]


def export_csv(store: CatalogueStore, out: TextIO, *, include_deleted: bool = True) -> int:
    """Write the catalogue as CSV, one row per document and one count column per page method, label and PII type.

    Text cells that a spreadsheet would run as a formula are prefixed with a quote. Returns rows written.
    """
    count_columns = _count_columns(store)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(name for name, _, _ in count_columns)])
    written = 0
    for row in store.iter_documents(include_children=True, include_deleted=include_deleted):
        fixed = [_cell(row[column]) for column in CSV_COLUMNS]
        counts = [row[group].get(key, 0) for _, group, key in count_columns]
        writer.writerow(fixed + counts)
        written += 1
    log.info("exported %d documents as CSV", written)
    return written


# Documents per Parquet row group: what is held in memory at once while writing.
PARQUET_ROW_GROUP = 10_000


def _parquet_schema(count_columns: list[str]) -> Any:
    """The CSV's columns typed (text unless listed here), then the count columns as whole numbers."""
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    types = {
        "depth": pa.int32(),
        "size": pa.int64(),
        "page_count": pa.int32(),
        "text_chars": pa.int64(),
        "class_confidence": pa.float64(),
        "deleted": pa.bool_(),
        "created_at": timestamp,
        "modified_at": timestamp,
        "processed_at": timestamp,
        "disposal_date": pa.date32(),
    }
    fields = [pa.field(column, types.get(column, pa.string())) for column in CSV_COLUMNS]
    return pa.schema([*fields, *(pa.field(column, pa.int64()) for column in count_columns)])


def export_parquet(store: CatalogueStore, out: Path, *, include_deleted: bool = True) -> int:
    """Write the catalogue as a Parquet file with the CSV's columns, typed; returns rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count_columns = _count_columns(store)
    schema = _parquet_schema([name for name, _, _ in count_columns])
    written = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:  # no rows: a file with the columns only
        batch: list[dict[str, Any]] = []
        for row in store.iter_documents(include_children=True, include_deleted=include_deleted):
            record = {column: row[column] for column in CSV_COLUMNS}
            record.update((name, row[group].get(key, 0)) for name, group, key in count_columns)
            batch.append(record)
            if len(batch) >= PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            written += len(batch)
    log.info("exported %d documents as Parquet", written)
    return written
