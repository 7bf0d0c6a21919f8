"""The catalogue as DCAT v3 JSON-LD: an information asset register other catalogues can read.

DCAT describes datasets, not files, so (as the CDDO's UK profile of DCAT v3 suggests, see
``shared/reference/peers.md`` section 9.1) each collection is a ``dcat:Dataset`` and each document one of its
``dcat:Distribution`` s: a SharePoint document library (``site/library``), a user's OneDrive or mailbox, or a
top-level folder of a local scan. The file is one JSON-LD document, ``{"@context", "@graph"}``: the
``dcat:Catalog``, its datasets (documents, classes, first and last change, personal-data types found), then a
distribution per document. A distribution names its dataset with ``@reverse`` ``dcat:distribution`` so the file
streams: memory holds one row, and one summary per dataset. Attachments and archive members are distributions
too, ``dct:isPartOf`` their container rather than of a dataset of their own. The catalogue is read twice (the
summaries, then the rows): a document stored in between may be missing from its dataset's counts. As in every
export, personal data appears only as counts by type; titles and names are as catalogued. Retention,
classification and personal-data counts are in docintel's own terms (``urn:docintel:terms:``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from docintel.catalogue.store import CatalogueStore

log = logging.getLogger(__name__)

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "docintel": "urn:docintel:terms:",
}
CATALOG_ID = "urn:docintel:catalog"
# Sources whose path starts with a two-part collection: site/library, onedrive/<user id>, mail/<user id>.
_TWO_PART_SOURCES = {"sharepoint", "onedrive", "mailbox"}
# The catalogue is crawled continuously: what DCAT's update frequency says (the EU frequency vocabulary).
CONTINUOUS = "http://publications.europa.eu/resource/authority/frequency/CONT"


def collection_of(row: Mapping[str, Any]) -> str:
    """The collection (dataset) a document belongs to: its source and the top of its path."""
    parts = [part for part in str(row["path"] or "").split("/") if part]
    keep = 2 if row["source"] in _TWO_PART_SOURCES else 1
    return f"{row['source']}:{'/'.join(parts[:keep]) or '(top level)'}"


def _dataset_id(collection: str) -> str:
    return f"urn:docintel:dataset:{collection}"


@dataclass
class _Summary:
    documents: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    personal_data: Counter[str] = field(default_factory=Counter)
    first: dt.datetime | None = None
    last: dt.datetime | None = None

    def add(self, row: Mapping[str, Any]) -> None:
        self.documents += 1
        if row["record_class"]:
            self.classes[row["record_class"]] += 1
        self.personal_data.update({kind: 1 for kind, count in row["pii_counts"].items() if count})
        changed = row["modified_at"] or row["created_at"]
        if changed is not None:
            self.first = changed if self.first is None else min(self.first, changed)
            self.last = changed if self.last is None else max(self.last, changed)


def _dated(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    kind = "xsd:dateTime" if hasattr(value, "hour") else "xsd:date"
    return {"@value": value.isoformat(), "@type": kind}


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if value not in (None, "", {}, [])}


def dataset_node(collection: str, summary: _Summary, publisher: str) -> dict[str, Any]:
    """A collection as a dcat:Dataset."""
    source, _, where = collection.partition(":")
    return _compact({
        "@id": _dataset_id(collection),
        "@type": "dcat:Dataset",
        "dct:title": f"{where} ({source})",
        "dct:description": f"{summary.documents} documents catalogued by docintel",
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": publisher},
        "dct:accrualPeriodicity": {"@id": CONTINUOUS},
        "dcat:keyword": sorted(summary.classes),
        "dct:temporal": {
            "@type": "dct:PeriodOfTime", "dcat:startDate": _dated(summary.first), "dcat:endDate": _dated(summary.last)
        } if summary.first else None,
        "docintel:documents": summary.documents,
        "docintel:documentsByClass": dict(sorted(summary.classes.items())),
        "docintel:documentsWithPersonalData": dict(sorted(summary.personal_data.items())),
    })  # fmt: skip


def distribution_node(row: Mapping[str, Any]) -> dict[str, Any]:
    """A document as a dcat:Distribution of its collection's dataset."""
    retention = _compact({
        "docintel:recordClass": row["record_class"],
        "docintel:confidence": row["class_confidence"],
        "docintel:period": row["retention_period"],
        "docintel:trigger": row["retention_trigger"],
        "docintel:action": row["retention_action"],
        "docintel:disposalDate": _dated(row["disposal_date"]),
    })  # fmt: skip
    return _compact({
        "@id": f"urn:docintel:document:{row['id']}",
        "@type": "dcat:Distribution",
        "@reverse": None if row["parent_id"] else {"dcat:distribution": {"@id": _dataset_id(collection_of(row))}},
        "dct:identifier": row["locator"],
        "dct:title": row["title"] or row["name"],
        "dcat:mediaType": row["mime_type"],
        "dcat:byteSize": row["size"],
        "dct:issued": _dated(row["created_at"]),
        "dct:modified": _dated(row["modified_at"]),
        "dcat:accessURL": {"@id": row["web_url"]} if row["web_url"] else None,
        "dct:isPartOf": {"@id": f"urn:docintel:document:{row['parent_id']}"} if row["parent_id"] else None,
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"},
            "spdx:checksumValue": row["sha256"],
        } if row["sha256"] else None,
        "docintel:status": row["status"],
        "docintel:errorType": row["error_type"],
        "docintel:retention": retention or None,
        "docintel:personalData": {kind: count for kind, count in sorted(row["pii_counts"].items()) if count},
    })  # fmt: skip


def export_dcat(store: CatalogueStore, out: TextIO, *, publisher: str) -> int:
    """Write the catalogue as DCAT JSON-LD (deleted documents left out); returns distributions written."""
    summaries: dict[str, _Summary] = {}
    for row in store.iter_documents(include_children=False, include_deleted=False):
        summaries.setdefault(collection_of(row), _Summary()).add(row)
    catalog = {
        "@id": CATALOG_ID,
        "@type": "dcat:Catalog",
        "dct:title": f"{publisher}: documents catalogued by docintel",
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": publisher},
        "dcat:dataset": [{"@id": _dataset_id(collection)} for collection in sorted(summaries)],
    }
    out.write('{"@context": ' + json.dumps(CONTEXT) + ',\n "@graph": [\n')
    out.write(json.dumps(catalog, ensure_ascii=False))
    for collection in sorted(summaries):
        out.write(",\n" + json.dumps(dataset_node(collection, summaries[collection], publisher), ensure_ascii=False))
    written = 0
    for row in store.iter_documents(include_children=True, include_deleted=False):
        out.write(",\n" + json.dumps(distribution_node(row), ensure_ascii=False))
        written += 1
    out.write("\n]}\n")
    log.info("exported %d documents in %d datasets as DCAT JSON-LD", written, len(summaries))
    return written
