"""Shared builders for the review workflow tests: a small catalogue of generated documents and an app."""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from docintel.catalogue.store import CatalogueStore
from docintel.models import (
    ClassEvidence,
    Classification,
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    Page,
    PiiFinding,
    Provenance,
    Retention,
)
from docintel.pipeline import Engines, extract_stage, new_record, retain_stage, sniff_stage
from docintel.retention import RetentionSchedule, load_schedule, retention_for
from docintel.review.auth import Reviewer, ReviewSettings, Role
from docintel.review.store import ReviewStore
from docintel.review.web import ReviewRuntime, configure_review, router
from docintel.settings import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
SECRET = "test-secret-for-signing-cookies-0123456789"
PASSWORD = "correct horse battery"
FAKE_EMAIL = "zebedee.fairweather@example.invalid"
HOSTILE_NAME = "<script>alert('x')</script>.pdf"
# The fixtures' classifier flags documents below this confidence for review, as the combined classifier does.
FLAG_BELOW = 0.5
REVIEWER = Reviewer("rita", Role.REVIEWER)
ADMIN = Reviewer("ada", Role.ADMIN)
READER = Reviewer("rob", Role.READONLY)


@lru_cache(maxsize=1)
def schedule() -> RetentionSchedule:
    """The shipped retention schedule (validated once per test session)."""
    return load_schedule(CONFIG_DIR / "retention_schedule.yaml")


def document(
    doc_id: str,
    *,
    path: str = "Finance/Invoices",
    name: str | None = None,
    record_class: str | None = "finance.invoice",
    confidence: float = 0.9,
    modified: dt.datetime | None = None,
    emails: int = 0,
    status: DocumentStatus = DocumentStatus.OK,
    needs_review: bool | None = None,
) -> DocumentRecord:
    """A read, classified document with its retention computed from the schedule (flagged below 0.5 by default)."""
    modified = modified or dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    retention: Retention | None = None
    if record_class is not None:
        retention = retention_for(schedule().get(record_class), created=modified, modified=modified)
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(
            source="local",
            locator=f"/share/{path}/{name or doc_id}",
            name=name or f"{doc_id}.pdf",
            path=path,
            created_at=modified,
            modified_at=modified,
        ),
        status=status,
        error=ErrorInfo(type="CorruptDocument", message="bad xref") if status is DocumentStatus.FAILED else None,
        pages=[Page(number=1, text=f"contact {FAKE_EMAIL}")],
        pii=[
            PiiFinding(entity_type="EMAIL_ADDRESS", start=8, end=43, text=FAKE_EMAIL, score=1.0, value_hash=f"h{n}")
            for n in range(emails)
        ],
        classification=Classification(
            record_class=record_class,
            confidence=confidence,
            explanation=f"rule matched for {record_class}",
            classifier="rules",
            retention=retention,
            needs_review=confidence < FLAG_BELOW if needs_review is None else needs_review,
        )
        if record_class is not None and status is DocumentStatus.OK
        else None,
    )


def populate(store: CatalogueStore) -> None:
    """Ten documents over three sites, classes and confidences, one failure, one hostile name."""
    run_id = store.start_run("local:/share")
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * 6)  # invoices due for disposal within months
    records = [
        document("inv-1", confidence=0.31, emails=2, modified=recent),
        document("inv-2", confidence=0.42, modified=recent),
        document("inv-3", confidence=0.95),
        document("inv-4", path="Finance/Invoices/2023", confidence=0.55),
        document("hr-1", path="HR/Personnel", record_class="hr.personnel", confidence=0.2, emails=3),
        document("hr-2", path="HR/Personnel", record_class="hr.personnel", confidence=0.8),
        document("case-1", path="Social Care/CASE-0042", record_class="social_care.adult", confidence=0.6),
        document("minutes-1", path="Governance", record_class="governance.committee", confidence=0.7),
        document("odd-1", path="Governance", name=HOSTILE_NAME, record_class=None),
        document("bad-1", path="Finance/Invoices", status=DocumentStatus.FAILED, record_class=None),
    ]
    for record in records:
        store.save(record, run_id)
    store.finish_run(run_id, {"ok": 9, "failed": 1})


TENDER_LINES = (
    "Tender evaluation report",
    "Invitation to tender for grounds maintenance, lot 2.",
    "Each bidder was scored against the evaluation criteria.",
    "The most economically advantageous tender wins the award.",
    f"Questions to {FAKE_EMAIL}.",
)
PASSAGE = "scored against the evaluation criteria"


def tender_pdf() -> bytes:
    """A one-page born-digital PDF of a tender evaluation, drawn with reportlab (no real personal data)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle("Tender evaluation report")
    y = 780
    for line in TENDER_LINES:
        page.drawString(72, y, line)
        y -= 24
    page.showPage()
    page.save()
    return buffer.getvalue()


def save_readable_tender(store: CatalogueStore, folder: Path, *, with_evidence: bool) -> DocumentRecord:
    """A tender PDF written to ``folder``, read by the pipeline's stages and catalogued with or without evidence."""
    content = tender_pdf()
    name = "tender-evidence.pdf" if with_evidence else "tender-plain.pdf"
    path = folder / name
    path.write_bytes(content)
    engines = Engines(settings=load_settings(CONFIG_DIR, environ={}), pii_key=b"k" * 32)
    provenance = Provenance(source="local", locator=str(path), name=name, path="Procurement/Tenders")
    record, _ = extract_stage(sniff_stage(new_record(provenance), content), content, engines)
    start = record.text.index(PASSAGE)
    evidence = [
        ClassEvidence(where="text", page=1, start=start, end=start + len(PASSAGE), record_class="procurement.tender",
                      feature="evaluation phrase", weight=2.5),
        ClassEvidence(where="path", page=0, start=0, end=len("Procurement"), record_class="procurement.tender",
                      feature="folder", weight=1.5),
    ]  # fmt: skip
    classification = Classification(
        record_class="procurement.tender",
        confidence=0.62,
        explanation="model: procurement.tender p=0.62; nearest labelled examples: 'Tender FP50814' "
        "(procurement.tender, 0.91); terms: 'tender'",
        classifier="combined",
        needs_review=True,
        evidence=evidence if with_evidence else [],
    )
    record = record.model_copy(update={"classification": classification, "status": DocumentStatus.OK})
    record = retain_stage(record, engines)
    store.save(record)
    return record


def add_accounts(review: ReviewStore) -> None:
    """A reviewer, an administrator and a read-only account, all with PASSWORD."""
    for who in (REVIEWER, ADMIN, READER):
        review.create_user(who.name, PASSWORD, who.role, by="test")


def make_app(
    store: CatalogueStore, review_settings: ReviewSettings | None = None, schedule_: RetentionSchedule | None = None
) -> tuple[FastAPI, ReviewRuntime]:
    """A minimal FastAPI app holding only the review router, configured for ``store``."""
    app = FastAPI()
    app.include_router(router)
    runtime = configure_review(
        app,
        store=store,
        settings=load_settings(CONFIG_DIR, environ={}),
        review_settings=review_settings or ReviewSettings(page_size=5),
        secret=SECRET,
        schedule=schedule_ or schedule(),
    )
    return app, runtime


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page's form."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token for later POSTs."""
    page = client.get("/review/login")
    response = client.post(
        "/review/login",
        data={"name": name, "password": password, "csrf_token": csrf_from(page.text), "next": "/review/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/review/").text)
