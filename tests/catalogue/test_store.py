"""CatalogueStore on SQLite and PostgreSQL: round trips, idempotent saves, privacy, report queries, errors."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from docintel.catalogue import store as store_module
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, normalise_url, open_catalogue
from docintel.errors import CatalogueError, ConfigError
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
    StageRun,
    StageStatus,
    join_pages,
)

# Fake personal data: invented, but shaped like the real thing, so a leak would be recognisable.
FAKE_NAME = "Zebedee Quixotic-Fairweather"
FAKE_NHS = "943 476 5919"
FAKE_EMAIL = "zebedee.fairweather@example.invalid"
FAKE_NINO = "QQ123456C"
FAKE_VALUES = (FAKE_NAME, FAKE_NHS, FAKE_EMAIL, FAKE_NINO)

STARTED = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def make_record(
    doc_id: str = "doc-1",
    *,
    name: str = "Case notes.docx",
    path: str = "/Children/Case files",
    record_class: str | None = "SC-01",
    confidence: float = 0.91,
    pages: int = 2,
    ocr_pages: int = 1,
    with_child: bool = True,
    status: DocumentStatus = DocumentStatus.OK,
    sha256: str = "a" * 64,
) -> DocumentRecord:
    """A processed document holding fake PII on its pages, with an attachment child."""
    raw_pages = [
        Page(
            number=number,
            text=f"Page {number}. Client {FAKE_NAME}, NHS {FAKE_NHS}, email {FAKE_EMAIL}, NI {FAKE_NINO}.",
            method=PageMethod.OCR if number <= ocr_pages else PageMethod.TEXT_LAYER,
            ocr_confidence=88.5 if number <= ocr_pages else None,
        )
        for number in range(1, pages + 1)
    ]
    placed, whole = join_pages(raw_pages)
    name_at = whole.index(FAKE_NAME)
    nhs_at = whole.index(FAKE_NHS)
    email_at = whole.index(FAKE_EMAIL)
    children = []
    if with_child:
        children.append(
            DocumentRecord(
                id=f"{doc_id}/attachment-1",
                provenance=Provenance(
                    source="child", locator=f"{doc_id}#1", name="scan.png", path=path, parent_id=doc_id
                ),
                sha256="b" * 64,
                size=2048,
                mime_type="image/png",
                file_type="image",
                status=DocumentStatus.OK,
                pages=[Page(number=1, text=f"Scanned letter to {FAKE_NAME}", method=PageMethod.OCR, ocr_confidence=71)],
                text=f"Scanned letter to {FAKE_NAME}",
                pii=[
                    PiiFinding(entity_type="PERSON", start=18, end=46, text=FAKE_NAME, score=0.85, value_hash="h-name")
                ],
                depth=1,
            )
        )
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(
            source="local",
            locator=f"/share{path}/{name}",
            name=name,
            path=path,
            drive_id="drive-9",
            item_id=f"item-{doc_id}",
            etag='"etag-1"',
            web_url=f"https://council.example.invalid/{doc_id}",
            size=12345,
            created_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            modified_at=dt.datetime(2025, 6, 7, 8, 9, 10, tzinfo=dt.UTC),
        ),
        sha256=sha256,
        size=12345,
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        file_type="docx",
        status=status,
        title="Case notes",
        pages=placed,
        text=whole,
        entities=[
            Entity(label="PERSON", start=name_at, end=name_at + len(FAKE_NAME), text=FAKE_NAME, value_hash="h-name"),
            Entity(label="ORG", start=0, end=4, text="Page", page=1, value_hash="h-org"),
        ],
        pii=[
            PiiFinding(
                entity_type="PERSON",
                start=name_at,
                end=name_at + len(FAKE_NAME),
                text=FAKE_NAME,
                score=0.85,
                value_hash="h-name",
                recognizer="SpacyRecognizer",
            ),
            PiiFinding(
                entity_type="UK_NHS", start=nhs_at, end=nhs_at + 12, text=FAKE_NHS, score=1.0, value_hash="h-nhs"
            ),
            PiiFinding(
                entity_type="EMAIL_ADDRESS",
                start=email_at,
                end=email_at + len(FAKE_EMAIL),
                text=FAKE_EMAIL,
                score=1.0,
                value_hash="h-email",
            ),
        ],
        classification=Classification(
            record_class=record_class,
            confidence=confidence,
            explanation="matched 'case notes' in title",
            classifier="rules",
            retention=Retention(
                period="DOB + 75 years",
                trigger="date_of_birth",
                action="review",
                disposal_date=dt.date(2095, 4, 1),
                authority="LGA schedule 2.3",
            ),
        )
        if record_class
        else None,
        stage_runs=[
            StageRun(
                stage="extract", component="docx", version="1", started_at=STARTED, seconds=0.25, status=StageStatus.OK
            ),
            StageRun(
                stage="enrich",
                component="presidio",
                started_at=STARTED,
                seconds=1.5,
                status=StageStatus.OK,
            ),
        ],
        children=children,
    )


def make_failed(doc_id: str, name: str, path: str, error_type: str, message: str) -> DocumentRecord:
    """A document that could not be read."""
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/share{path}/{name}", name=name, path=path),
        status=DocumentStatus.FAILED,
        error=ErrorInfo(type=error_type, message=message),
        stage_runs=[
            StageRun(
                stage="extract",
                component="pdf",
                started_at=STARTED,
                seconds=0.1,
                status=StageStatus.FAILED,
                error=ErrorInfo(type=error_type, message=message),
            )
        ],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A catalogue URL on each backend; the PostgreSQL one is emptied before the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    with open_catalogue(url) as cleaner, cleaner.engine.begin() as connection:
        emptied = [table.name for table in t.DOCUMENT_CHILD_TABLES] + ["documents", "runs"]
        connection.execute(text(f"TRUNCATE {', '.join(emptied)}"))
    yield url


@pytest.fixture
def store(catalogue_url: str) -> Iterator[CatalogueStore]:
    """An open store on each backend."""
    with open_catalogue(catalogue_url) as opened:
        yield opened


def row_counts(store: CatalogueStore) -> dict[str, int]:
    """Rows in every catalogue table."""
    with store.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }


def test_round_trip_keeps_every_field(store: CatalogueStore) -> None:
    record = make_record()
    run_id = store.start_run("local:/share")
    store.save(record, run_id)

    saved = store.get("doc-1")
    assert saved is not None
    assert saved["name"] == "Case notes.docx"
    assert saved["path"] == "/Children/Case files"
    assert saved["parent_id"] is None
    assert saved["status"] == "ok"
    assert saved["run_id"] == run_id
    assert saved["sha256"] == "a" * 64
    assert saved["size"] == 12345
    assert saved["etag"] == '"etag-1"'
    assert saved["page_count"] == 2
    assert saved["text_chars"] == len(record.text)
    assert saved["record_class"] == "SC-01"
    assert saved["class_confidence"] == pytest.approx(0.91)
    assert saved["retention_period"] == "DOB + 75 years"
    assert saved["retention_action"] == "review"
    assert saved["disposal_date"] == dt.date(2095, 4, 1)
    assert saved["deleted"] is False
    # Aware datetimes come back aware and equal, whatever zone they were given in.
    assert saved["created_at"] == dt.datetime(2024, 1, 2, 2, 4, 5, tzinfo=dt.UTC)
    assert saved["created_at"].tzinfo is not None
    assert saved["modified_at"] == dt.datetime(2025, 6, 7, 8, 9, 10, tzinfo=dt.UTC)
    assert saved["page_methods"] == {"ocr": 1, "text_layer": 1}
    assert saved["entity_counts"] == {"ORG": 1, "PERSON": 1}
    assert saved["pii_counts"] == {"EMAIL_ADDRESS": 1, "PERSON": 1, "UK_NHS": 1}
    assert [page["method"] for page in saved["pages"]] == ["ocr", "text_layer"]
    assert saved["pages"][0]["ocr_confidence"] == pytest.approx(88.5)
    assert saved["pages"][0]["chars"] == len(record.pages[0].text)
    assert [(run["stage"], run["status"], run["run_id"]) for run in saved["stage_runs"]] == [
        ("extract", "ok", run_id),
        ("enrich", "ok", run_id),
    ]
    assert saved["stage_runs"][0]["started_at"] == STARTED
    assert saved["children"] == ["doc-1/attachment-1"]

    child = store.get("doc-1/attachment-1")
    assert child is not None
    assert child["parent_id"] == "doc-1"
    assert child["depth"] == 1
    assert child["record_class"] is None
    assert child["pii_counts"] == {"PERSON": 1}
    assert store.get("no-such-document") is None


def test_entity_pages_are_filled_from_offsets(store: CatalogueStore) -> None:
    record = make_record(pages=3)
    store.save(record)
    with store.engine.connect() as connection:
        pages = dict(
            connection.execute(
                select(t.entities.c.label, t.entities.c.page).where(t.entities.c.document_id == "doc-1")
            ).all()
        )
    # The PERSON entity had no page: the store derives it from its offset; ORG kept the page it was given.
    assert pages == {"PERSON": 1, "ORG": 1}


def test_resave_is_idempotent(store: CatalogueStore) -> None:
    record = make_record()
    store.save(record)
    first = store.get("doc-1")
    counts = row_counts(store)
    store.save(record)
    store.save(record)
    again = store.get("doc-1")
    assert row_counts(store) == counts
    assert counts["documents"] == 2
    assert counts["pages"] == 3
    assert counts["pii_findings"] == 4
    assert first is not None and again is not None
    assert again["first_seen_at"] == first["first_seen_at"]
    assert again["processed_at"] >= first["processed_at"]


def test_resave_replaces_results_and_drops_stale_children(store: CatalogueStore) -> None:
    store.save(make_record())
    changed = make_record(pages=1, ocr_pages=0, with_child=False, record_class="FIN-02", sha256="c" * 64)
    changed.pii = changed.pii[:1]
    store.save(changed)

    saved = store.get("doc-1")
    assert saved is not None
    assert saved["sha256"] == "c" * 64
    assert saved["record_class"] == "FIN-02"
    assert saved["page_methods"] == {"text_layer": 1}
    assert saved["pii_counts"] == {"PERSON": 1}
    assert saved["children"] == []
    assert store.get("doc-1/attachment-1") is None
    assert row_counts(store)["documents"] == 1


def test_clear_pii_never_reaches_the_database(store: CatalogueStore, catalogue_url: str) -> None:
    store.save(make_record(), store.start_run("local"))
    store.save(make_failed("bad-1", "broken.pdf", "/x", "CorruptDocument", "not a PDF"))

    # Everything a query can see, on either backend.
    with store.engine.connect() as connection:
        dumped = " ".join(
            repr(row) for table in t.metadata.sorted_tables for row in connection.execute(select(table)).all()
        )
    assert "Case notes.docx" in dumped  # the scan does see stored text
    assert "h-nhs" in dumped  # and the hashes
    for value in FAKE_VALUES:
        assert value not in dumped

    if catalogue_url.startswith("sqlite"):
        store.close()
        db_path = Path(catalogue_url.removeprefix("sqlite:///"))
        raw = b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))
        assert b"Case notes.docx" in raw
        for value in FAKE_VALUES:
            assert value.encode() not in raw


def test_known_hashes_for_skip_unchanged(store: CatalogueStore) -> None:
    store.save(make_record("doc-1"))
    store.save(make_failed("bad-1", "broken.pdf", "/x", "CorruptDocument", "not a PDF"))
    # More ids than one IN (...) chunk, with repeats.
    asked = [f"unknown-{n}" for n in range(1200)] + ["doc-1", "bad-1", "doc-1", "doc-1/attachment-1"]
    assert store.known_hashes(asked) == {
        "doc-1": ("a" * 64, "ok"),
        "doc-1/attachment-1": ("b" * 64, "ok"),
        "bad-1": (None, "failed"),
    }
    assert store.known_hashes([]) == {}


def test_iter_documents_pages_through_all_rows(store: CatalogueStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "ITER_BATCH_SIZE", 2)
    for number in range(3):
        store.save(make_record(f"doc-{number}"))
    rows = list(store.iter_documents())
    assert [row["id"] for row in rows] == sorted(
        [f"doc-{n}" for n in range(3)] + [f"doc-{n}/attachment-1" for n in range(3)]
    )
    by_id = {row["id"]: row for row in rows}
    assert by_id["doc-0"]["pii_counts"] == {"EMAIL_ADDRESS": 1, "PERSON": 1, "UK_NHS": 1}
    assert by_id["doc-0/attachment-1"]["page_methods"] == {"ocr": 1}
    assert [row["id"] for row in store.iter_documents(include_children=False)] == ["doc-0", "doc-1", "doc-2"]

    store.mark_deleted(["doc-1"])
    assert [row["id"] for row in store.iter_documents(include_children=False, include_deleted=False)] == [
        "doc-0",
        "doc-2",
    ]


def test_mark_deleted_flags_the_tree(store: CatalogueStore) -> None:
    store.save(make_record("doc-1"))
    store.save(make_record("doc-2"))
    assert store.mark_deleted(["doc-1"]) == 2
    assert store.mark_deleted([]) == 0
    deleted = store.get("doc-1/attachment-1")
    assert deleted is not None
    assert (deleted["deleted"], deleted["status"]) == (True, "deleted")
    kept = store.get("doc-2")
    assert kept is not None and kept["deleted"] is False
    assert store.summary().documents == 2  # report queries count live documents only

    # A document that comes back at the source is live again on its next save.
    store.save(make_record("doc-1"))
    back = store.get("doc-1")
    assert back is not None and back["deleted"] is False


def test_runs_record_counts_and_status(store: CatalogueStore) -> None:
    run_id = store.start_run("sharepoint:Children")
    run = store.get_run(run_id)
    assert run is not None
    assert run["status"] == "running"
    assert run["finished_at"] is None
    store.finish_run(run_id, {"ok": 10, "failed": 2, "skipped": 5})
    run = store.get_run(run_id)
    assert run is not None
    assert run["status"] == "finished"
    assert run["counts"] == {"ok": 10, "failed": 2, "skipped": 5}
    assert run["finished_at"] >= run["started_at"]
    assert run["version"]
    assert [r["id"] for r in store.recent_runs()] == [run_id]
    with pytest.raises(CatalogueError, match="no run"):
        store.finish_run("not-a-run", {})


def test_subject_access_lookup_by_value_hash(store: CatalogueStore) -> None:
    store.save(make_record("doc-1"))
    store.save(make_record("doc-2", with_child=False))
    assert store.documents_with_value("h-name") == ["doc-1", "doc-1/attachment-1", "doc-2"]
    assert store.documents_with_value("h-nhs", "UK_NHS") == ["doc-1", "doc-2"]
    assert store.documents_with_value("h-nhs", "EMAIL_ADDRESS") == []
    assert store.documents_with_value("never-seen") == []


def test_report_queries(store: CatalogueStore) -> None:
    store.save(make_record("a-1", path="/Children", record_class="SC-01", confidence=0.9))
    store.save(make_record("a-2", path="/Children", record_class="SC-01", confidence=0.4, with_child=False))
    store.save(make_record("b-1", path="/Finance", record_class="FIN-02", confidence=0.2, with_child=False))
    store.save(make_failed("f-1", "locked.pdf", "/Finance", "EncryptedDocument", "password-protected PDF"))
    store.save(make_failed("f-2", "odd.pdf", "/Finance", "EncryptedDocument", "password-protected PDF"))
    store.save(make_failed("f-3", "bad.pdf", "/Misc", "CorruptDocument", "not a PDF"))

    summary = store.summary()
    assert (summary.documents, summary.top_level, summary.children) == (7, 6, 1)
    assert (summary.ok, summary.failed, summary.pending) == (4, 3, 0)
    assert (summary.pages, summary.ocr_pages, summary.ocr_documents) == (7, 4, 4)
    assert summary.classified == 3
    assert (summary.pii_findings, summary.documents_with_pii) == (10, 4)

    assert [(c.record_class, c.documents) for c in store.class_counts()] == [
        (None, 4),
        ("SC-01", 2),
        ("FIN-02", 1),
    ]

    folders = store.folder_counts(top_n=2)
    assert [(f.path, f.documents) for f in folders] == [("/Children", 3), ("/Finance", 3)]
    assert folders[0].classes == {"SC-01": 2, None: 1}
    assert folders[1].classes == {None: 2, "FIN-02": 1}

    pii_folders, pii_documents = store.pii_hotspots(top_n=2)
    assert [(h.path, h.findings) for h in pii_folders] == [("/Children", 7), ("/Finance", 3)]
    assert pii_folders[0].by_type == {"PERSON": 3, "EMAIL_ADDRESS": 2, "UK_NHS": 2}
    assert [(h.document_id, h.findings) for h in pii_documents] == [("a-1", 3), ("a-2", 3)]
    assert pii_documents[0].name == "Case notes.docx"

    failures = store.failures(per_type=1)
    assert [(g.error_type, g.count, len(g.documents)) for g in failures] == [
        ("EncryptedDocument", 2, 1),
        ("CorruptDocument", 1, 1),
    ]
    assert failures[0].documents[0].name == "locked.pdf"
    assert failures[0].documents[0].message == "password-protected PDF"

    lowest = store.lowest_confidence(limit=2)
    assert [(low.document_id, low.record_class) for low in lowest] == [("b-1", "FIN-02"), ("a-2", "SC-01")]
    assert lowest[0].confidence == pytest.approx(0.2)
    assert lowest[0].explanation == "matched 'case notes' in title"


def test_report_queries_on_an_empty_catalogue(store: CatalogueStore) -> None:
    summary = store.summary()
    assert (summary.documents, summary.pages, summary.pii_findings) == (0, 0, 0)
    assert store.class_counts() == []
    assert store.folder_counts() == []
    assert store.pii_hotspots() == ([], [])
    assert store.failures() == []
    assert store.lowest_confidence() == []


def test_error_messages_are_stored_safe(store: CatalogueStore) -> None:
    secret = "Bearer abc.def.ghi"
    store.save(make_failed("f-1", "x.pdf", "/", "SourceAuthError", f"refused: {secret} " + "x" * 1000))
    saved = store.get("f-1")
    assert saved is not None
    assert "abc.def.ghi" not in saved["error_message"]
    assert len(saved["error_message"]) <= 300
    assert "abc.def.ghi" not in saved["stage_runs"][0]["error_message"]


def test_concurrent_saves_of_one_document(catalogue_url: str) -> None:
    """Two connections saving the same tree at once: no error, one copy."""
    stores = [open_catalogue(catalogue_url), open_catalogue(catalogue_url)]
    errors: list[BaseException] = []
    rounds = 15
    barrier = threading.Barrier(len(stores))

    def work(worker: int, store: CatalogueStore) -> None:
        try:
            for round_number in range(rounds):
                barrier.wait(timeout=30)
                # A new id each round, so both workers also race on the first insert.
                store.save(make_record(f"race-{round_number}", pages=1 + worker))
                store.save(make_record("shared", pages=1 + worker))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        counts = row_counts(stores[0])
        assert counts["documents"] == 2 * (rounds + 1)
        shared = stores[0].get("shared")
        assert shared is not None
        # Whichever save came last, its pages are all there and nobody else's.
        assert shared["page_count"] in (1, 2)
        assert len(shared["pages"]) == shared["page_count"]
        assert sum(shared["pii_counts"].values()) == 3
    finally:
        for store in stores:
            store.close()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db.example:5432/cat", "postgresql+psycopg"),
        ("postgres://u:p@db.example/cat", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/cat", "postgresql+psycopg"),
        ("sqlite:///relative.db", "sqlite"),
        ("sqlite:////abs/path.db", "sqlite"),
        ("sqlite://", "sqlite"),
    ],
)
def test_normalise_url_accepts(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


@pytest.mark.parametrize(
    "given",
    ["mysql://u:p@db/cat", "postgresql+psycopg2://u:p@db/cat", "not a url", "oracle://x"],
)
def test_normalise_url_refuses(given: str) -> None:
    with pytest.raises(ConfigError) as raised:
        normalise_url(given)
    assert ":p@" not in str(raised.value)


def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_a_catalogue_error_without_password() -> None:
    port = closed_port()
    with pytest.raises(CatalogueError) as raised:
        open_catalogue(f"postgresql://docintel:hunter2secret@127.0.0.1:{port}/catalogue?connect_timeout=2")
    message = str(raised.value)
    assert "hunter2secret" not in message
    assert "127.0.0.1" in message
    assert raised.value.retryable


def test_unwritable_sqlite_path_is_a_catalogue_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CatalogueError, match="cannot create"):
        open_catalogue(f"sqlite:///{blocker}/catalogue.db")
    directory_as_db = tmp_path / "dir.db"
    directory_as_db.mkdir()
    with pytest.raises(CatalogueError, match="catalogue"):
        open_catalogue(f"sqlite:///{directory_as_db}")


def test_in_memory_sqlite_works_across_threads() -> None:
    with open_catalogue("sqlite://") as memory:
        worker = threading.Thread(target=memory.save, args=(make_record(),))
        worker.start()
        worker.join()
        assert memory.get("doc-1") is not None


@pytest.mark.needs_postgres
def test_database_errors_do_not_echo_parameters(postgres_url: str) -> None:
    record = make_record("x" * 400, name="Restricted - Adoption panel minutes.docx", with_child=False)
    with open_catalogue(postgres_url) as store, pytest.raises(CatalogueError) as raised:
        store.save(record)
    message = str(raised.value)
    assert message.startswith("catalogue save failed")
    assert "StringDataRightTruncation" in message
    assert "Adoption" not in message
    assert "x" * 300 not in message
    with open_catalogue(postgres_url) as store:
        assert store.known_hashes(["x" * 400]) == {}  # the failed transaction left nothing behind
