"""JSONL, CSV and Parquet exports: shape, counts, types, escaping, and no personal data in the output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.export import CSV_COLUMNS, export_csv, export_jsonl
from docintel.models import (
    Classification,
    DocumentRecord,
    DocumentStatus,
    Entity,
    ErrorInfo,
    Page,
    PageMethod,
    PiiFinding,
    Provenance,
    Retention,
)

FAKE_NHS = "943 476 5919"
FAKE_NAME = "Zebedee Quixotic-Fairweather"
HOSTILE_NAME = '=HYPERLINK("http://evil.example","click"),\n"quoted".xlsx'


def finding(entity_type: str, value: str, value_hash: str) -> PiiFinding:
    """A PII finding carrying its fake clear value, as the enrich stage hands it over."""
    return PiiFinding(entity_type=entity_type, start=0, end=len(value), text=value, score=0.9, value_hash=value_hash)


def sample_records() -> list[DocumentRecord]:
    """A classified document with an attachment, a failed one and one with a hostile name."""
    pages = [
        Page(number=1, text=f"Patient {FAKE_NAME} NHS {FAKE_NHS}", method=PageMethod.OCR, ocr_confidence=80),
        Page(number=2, text="Invoice total £120", method=PageMethod.TEXT_LAYER),
        Page(number=3, text="More text", method=PageMethod.TEXT_LAYER),
    ]
    attachment = DocumentRecord(
        id="mail-1/att-1",
        provenance=Provenance(source="child", locator="mail-1#1", name="letter.pdf", path="/Inbox", parent_id="mail-1"),
        status=DocumentStatus.OK,
        pages=[Page(number=1, text=FAKE_NAME)],
        pii=[finding("PERSON", FAKE_NAME, "h-name")],
        depth=1,
    )
    classified = DocumentRecord(
        id="mail-1",
        provenance=Provenance(
            source="mail",
            locator="mbx/msg-1",
            name="Referral.eml",
            path="/Inbox",
            web_url="https://outlook.example.invalid/msg-1",
            modified_at=dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC),
        ),
        sha256="d" * 64,
        size=4096,
        mime_type="message/rfc822",
        file_type="eml",
        status=DocumentStatus.OK,
        pages=pages,
        entities=[
            Entity(label="PERSON", start=8, end=36, text=FAKE_NAME),
            Entity(label="MONEY", start=0, end=4, text="£120", page=2),
            Entity(label="PERSON", start=8, end=36, text=FAKE_NAME),
        ],
        pii=[finding("UK_NHS", FAKE_NHS, "h-nhs"), finding("PERSON", FAKE_NAME, "h-name")],
        classification=Classification(
            record_class="ASC-03",
            confidence=0.77,
            explanation="referral keywords",
            classifier="rules",
            retention=Retention(
                period="8 years", trigger="closure", action="destroy", disposal_date=dt.date(2033, 3, 31)
            ),
        ),
        children=[attachment],
    )
    failed = DocumentRecord(
        id="bad-1",
        provenance=Provenance(source="local", locator="/share/x.pdf", name="x.pdf", path="/Finance"),
        status=DocumentStatus.FAILED,
        error=ErrorInfo(type="EncryptedDocument", message="password-protected PDF"),
    )
    hostile = DocumentRecord(
        id="hostile-1",
        provenance=Provenance(source="local", locator="/share/h", name=HOSTILE_NAME, path="-folder"),
        status=DocumentStatus.OK,
    )
    return [classified, failed, hostile]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CatalogueStore]:
    """A SQLite catalogue holding the sample records."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as opened:
        for record in sample_records():
            opened.save(record)
        yield opened


def test_jsonl_has_one_line_per_document_with_counts(store: CatalogueStore) -> None:
    out = io.StringIO()
    assert export_jsonl(store, out) == 4
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    docs = {doc["id"]: doc for doc in map(json.loads, lines)}
    assert set(docs) == {"mail-1", "mail-1/att-1", "bad-1", "hostile-1"}

    mail = docs["mail-1"]
    assert mail["provenance"]["source"] == "mail"
    assert mail["provenance"]["locator"] == "mbx/msg-1"
    assert mail["provenance"]["web_url"] == "https://outlook.example.invalid/msg-1"
    assert mail["provenance"]["parent_id"] is None
    assert mail["provenance"]["modified_at"] == "2025-03-01T12:00:00+00:00"
    assert mail["type"] == {"file_type": "eml", "mime_type": "message/rfc822", "size": 4096, "sha256": "d" * 64}
    assert mail["status"] == "ok"
    assert mail["error"] is None
    assert mail["pages"] == {"ocr": 1, "text_layer": 2}
    assert mail["entities"] == {"MONEY": 1, "PERSON": 2}
    assert mail["pii"] == {"PERSON": 1, "UK_NHS": 1}
    assert mail["classification"] == {
        "record_class": "ASC-03",
        "confidence": 0.77,
        "explanation": "referral keywords",
        "classifier": "rules",
    }
    assert mail["retention"]["disposal_date"] == "2033-03-31"
    assert (mail["retention"]["period"], mail["retention"]["trigger"], mail["retention"]["action"]) == (
        "8 years",
        "closure",
        "destroy",
    )

    assert docs["mail-1/att-1"]["provenance"]["parent_id"] == "mail-1"
    assert docs["mail-1/att-1"]["depth"] == 1
    assert docs["bad-1"]["error"] == {"type": "EncryptedDocument", "message": "password-protected PDF"}
    assert docs["bad-1"]["classification"] is None
    assert docs["bad-1"]["retention"] is None
    assert docs["hostile-1"]["provenance"]["name"] == HOSTILE_NAME  # JSON keeps names exact


def test_exports_hold_no_personal_data(store: CatalogueStore) -> None:
    for export in (export_jsonl, export_csv):
        out = io.StringIO()
        export(store, out)
        assert "Referral.eml" in out.getvalue()
        for value in (FAKE_NHS, FAKE_NAME, "£120"):
            assert value not in out.getvalue()


def test_csv_flattens_counts_into_columns(store: CatalogueStore) -> None:
    out = io.StringIO()
    assert export_csv(store, out) == 4
    reader = csv.DictReader(io.StringIO(out.getvalue()))
    assert reader.fieldnames is not None
    assert list(reader.fieldnames[: len(CSV_COLUMNS)]) == list(CSV_COLUMNS)
    assert reader.fieldnames[len(CSV_COLUMNS) :] == [
        "pages_ocr",
        "pages_text_layer",
        "entities_MONEY",
        "entities_PERSON",
        "pii_PERSON",
        "pii_UK_NHS",
    ]
    rows = {row["id"]: row for row in reader}
    mail = rows["mail-1"]
    assert (mail["pages_ocr"], mail["pages_text_layer"], mail["entities_PERSON"], mail["pii_UK_NHS"]) == (
        "1",
        "2",
        "2",
        "1",
    )
    assert mail["record_class"] == "ASC-03"
    assert mail["disposal_date"] == "2033-03-31"
    assert rows["bad-1"]["pii_UK_NHS"] == "0"
    assert rows["bad-1"]["error_type"] == "EncryptedDocument"


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("name", "'" + HOSTILE_NAME),  # a formula in a file name must not run in Excel
        ("path", "'-folder"),
        ("source", "local"),
    ],
)
def test_csv_defuses_formula_cells(store: CatalogueStore, column: str, expected: str) -> None:
    out = io.StringIO()
    export_csv(store, out)
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["hostile-1"][column] == expected


def test_exports_can_leave_out_deleted_documents(store: CatalogueStore) -> None:
    store.mark_deleted(["mail-1"])
    out = io.StringIO()
    assert export_jsonl(store, out, include_deleted=False) == 2
    assert {json.loads(line)["id"] for line in out.getvalue().splitlines()} == {"bad-1", "hostile-1"}
    everything = io.StringIO()
    assert export_jsonl(store, everything) == 4
    deleted = [json.loads(line) for line in everything.getvalue().splitlines() if '"mail-1"' in line]
    assert deleted[0]["deleted"] is True


def test_empty_catalogue_exports_nothing(tmp_path: Path) -> None:
    with open_catalogue(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        jsonl, table = io.StringIO(), io.StringIO()
        assert export_jsonl(empty, jsonl) == 0
        assert jsonl.getvalue() == ""
        assert export_csv(empty, table) == 0
        assert table.getvalue().splitlines() == [",".join(CSV_COLUMNS)]


def test_parquet_has_the_csv_columns_typed_in_row_groups(
    store: CatalogueStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from docintel import export

    monkeypatch.setattr(export, "PARQUET_ROW_GROUP", 3)  # four documents: two row groups
    out = tmp_path / "catalogue.parquet"
    assert export.export_parquet(store, out) == 4
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_row_groups == 2
    table = parquet.read()
    assert table.column_names[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert table.column_names[len(CSV_COLUMNS) :] == [
        "pages_ocr", "pages_text_layer", "entities_MONEY", "entities_PERSON", "pii_PERSON", "pii_UK_NHS"
    ]  # fmt: skip
    types = table.schema
    assert types.field("size").type == pa.int64() and types.field("deleted").type == pa.bool_()
    assert types.field("disposal_date").type == pa.date32()
    assert types.field("processed_at").type == pa.timestamp("us", tz="UTC")
    rows = {row["id"]: row for row in table.to_pylist()}
    mail = rows["mail-1"]
    assert (mail["pages_ocr"], mail["pages_text_layer"], mail["entities_PERSON"], mail["pii_UK_NHS"]) == (1, 2, 2, 1)
    assert mail["disposal_date"] == dt.date(2033, 3, 31) and mail["record_class"] == "ASC-03"
    assert rows["hostile-1"]["name"] == HOSTILE_NAME  # typed cells are never run as formulas: kept as they are
    assert rows["bad-1"]["error_type"] == "EncryptedDocument" and rows["bad-1"]["pii_UK_NHS"] == 0
    cells = " ".join(str(value) for row in rows.values() for value in row.values())
    assert "Referral.eml" in cells
    for value in (FAKE_NHS, FAKE_NAME, "£120"):
        assert value not in cells


def test_empty_catalogue_exports_an_empty_parquet_file_with_its_columns(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from docintel.export import export_parquet

    with open_catalogue(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        assert export_parquet(empty, tmp_path / "empty.parquet") == 0
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0 and table.column_names == list(CSV_COLUMNS)


def test_dcat_is_a_json_ld_asset_register_of_datasets_and_distributions(store: CatalogueStore) -> None:
    from docintel.dcat import CONTEXT, export_dcat

    out = io.StringIO()
    assert export_dcat(store, out, publisher="Example County Council") == 4
    document = json.loads(out.getvalue())
    assert document["@context"] == CONTEXT
    nodes = {node["@id"]: node for node in document["@graph"]}
    catalog = nodes["urn:docintel:catalog"]
    datasets = [nodes[ref["@id"]] for ref in catalog["dcat:dataset"]]
    assert [d["dct:title"] for d in datasets] == ["-folder (local)", "Finance (local)", "Inbox (mail)"]
    inbox = datasets[2]
    assert inbox["@type"] == "dcat:Dataset" and inbox["docintel:documents"] == 1
    assert inbox["dcat:keyword"] == ["ASC-03"] and inbox["docintel:documentsWithPersonalData"] == {
        "PERSON": 1, "UK_NHS": 1
    }  # fmt: skip
    assert inbox["dct:temporal"]["dcat:startDate"]["@value"] == "2025-03-01T12:00:00+00:00"
    mail = nodes["urn:docintel:document:mail-1"]
    assert mail["@reverse"] == {"dcat:distribution": {"@id": inbox["@id"]}}
    assert (mail["dcat:mediaType"], mail["dcat:byteSize"], mail["dcat:accessURL"]) == (
        "message/rfc822", 4096, {"@id": "https://outlook.example.invalid/msg-1"}
    )  # fmt: skip
    assert mail["docintel:retention"]["docintel:disposalDate"] == {"@value": "2033-03-31", "@type": "xsd:date"}
    assert mail["docintel:personalData"] == {"PERSON": 1, "UK_NHS": 1}
    attachment = nodes["urn:docintel:document:mail-1/att-1"]
    assert attachment["dct:isPartOf"] == {"@id": mail["@id"]} and "@reverse" not in attachment
    assert nodes["urn:docintel:document:bad-1"]["docintel:errorType"] == "EncryptedDocument"
    for value in (FAKE_NHS, FAKE_NAME, "£120"):
        assert value not in out.getvalue()
    store.mark_deleted(["bad-1"])
    assert export_dcat(store, io.StringIO(), publisher="Example County Council") == 3  # deleted ones left out
