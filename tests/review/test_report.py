"""The static HTML review report: content, escaping of hostile names, no external assets, no PII values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.models import (
    Classification,
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    Page,
    PageMethod,
    PiiFinding,
    Provenance,
)
from docintel.review.report import UNCLASSIFIED, build_report_html, render_report

HOSTILE_NAME = "<script>alert('x')</script>.pdf"
HOSTILE_FOLDER = '/Shared/"><img src=x onerror=alert(1)>'
FAKE_EMAIL = "zebedee.fairweather@example.invalid"
CLASS_TITLES = {"SC-01": "Children's social care case files", "FIN-02": "Invoices & payments"}


def document(
    doc_id: str,
    *,
    path: str = "/Children",
    name: str = "notes.docx",
    record_class: str | None = "SC-01",
    confidence: float = 0.9,
    explanation: str = "title says case notes",
    ocr_pages: int = 0,
    emails: int = 0,
) -> DocumentRecord:
    """A read, classified document with some OCR pages and fake email findings."""
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/share{path}/{name}", name=name, path=path),
        status=DocumentStatus.OK,
        pages=[Page(number=n + 1, text=f"email {FAKE_EMAIL}", method=PageMethod.OCR) for n in range(ocr_pages)]
        + [Page(number=ocr_pages + 1, text="typed page")],
        pii=[
            PiiFinding(entity_type="EMAIL_ADDRESS", start=6, end=41, text=FAKE_EMAIL, score=1.0, value_hash=f"h{n}")
            for n in range(emails)
        ],
        classification=Classification(
            record_class=record_class, confidence=confidence, explanation=explanation, classifier="rules"
        )
        if record_class
        else None,
    )


def failed(doc_id: str, name: str, error_type: str, message: str, path: str = "/Finance") -> DocumentRecord:
    """A document that could not be read."""
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/share{path}/{name}", name=name, path=path),
        status=DocumentStatus.FAILED,
        error=ErrorInfo(type=error_type, message=message),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CatalogueStore]:
    """A catalogue with three classes, hostile names, failures and PII findings."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as opened:
        run_id = opened.start_run("local:/share")
        opened.save(document("c-1", ocr_pages=2, emails=3), run_id)
        opened.save(document("c-2", confidence=0.35, explanation="weak match on <b>case</b>"), run_id)
        opened.save(document("c-3", emails=1), run_id)
        opened.save(document("f-1", path="/Finance", record_class="FIN-02", confidence=0.12, ocr_pages=1), run_id)
        opened.save(document("h-1", path=HOSTILE_FOLDER, name=HOSTILE_NAME, record_class=None, emails=5), run_id)
        opened.save(failed("x-1", HOSTILE_NAME, "EncryptedDocument", "password-protected <PDF>"), run_id)
        opened.save(failed("x-2", "locked.xlsx", "EncryptedDocument", "password-protected workbook"), run_id)
        opened.save(failed("x-3", "odd.bin", "UnsupportedType", "application/octet-stream"), run_id)
        opened.finish_run(run_id, {"ok": 5, "failed": 3, "skipped": 0})
        yield opened


def section(page: lxml_html.HtmlElement, section_id: str) -> lxml_html.HtmlElement:
    """The <section> with this id."""
    found = page.xpath(f"//section[@id='{section_id}']")
    assert len(found) == 1, section_id
    return found[0]


def cells(row: lxml_html.HtmlElement) -> list[str]:
    """The text of each cell in a table row."""
    return [" ".join(cell.text_content().split()) for cell in row.xpath("./td")]


def test_report_is_one_file_with_the_counts(store: CatalogueStore, tmp_path: Path) -> None:
    out = render_report(
        store, tmp_path / "reports" / "review.html", title="Children's services", class_titles=CLASS_TITLES
    )
    assert out == tmp_path / "reports" / "review.html"
    assert [p.name for p in out.parent.iterdir()] == ["review.html"]  # no temp files left behind
    page = lxml_html.fromstring(out.read_text(encoding="utf-8"))
    assert page.findtext(".//title") == "Children's services"

    cards = {
        " ".join(card.findtext("./div[@class='label']").split()): card.findtext("./div[@class='n']")
        for card in section(page, "summary").xpath(".//div[contains(concat(' ', @class, ' '), ' card ')]")
    }
    assert cards["documents (8 files, 0 attachments / archive members)"] == "8"
    assert cards["read successfully"] == "5"
    assert cards["failed"] == "3"
    assert cards["pages OCR'd (in 2 documents)"] == "3"
    assert cards["personal data findings (in 3 documents)"] == "9"

    class_rows = {
        row.get("data-class"): cells(row) for row in section(page, "classes").xpath(".//tr[@class='class-row']")
    }
    assert class_rows["SC-01"][:3] == ["SC-01 — Children's social care case files", "3", "37.5%"]
    assert class_rows["FIN-02"][:2] == ["FIN-02 — Invoices & payments", "1"]
    assert class_rows[UNCLASSIFIED][:2] == [UNCLASSIFIED, "4"]

    folder_rows = [cells(row) for row in section(page, "folders").xpath(".//tbody/tr")]
    assert folder_rows[0][:2] == ["/Finance", "4"]
    assert folder_rows[1][:2] == ["/Children", "3"]
    assert "SC-01 — Children's social care case files: 3" in folder_rows[1][3]

    pii_rows = [cells(row) for row in section(page, "pii").xpath(".//table[1]/tbody/tr")]
    assert pii_rows[0] == [HOSTILE_FOLDER, "5", "EMAIL_ADDRESS: 5", ""]
    assert pii_rows[1][:2] == ["/Children", "4"]

    groups = section(page, "failures").xpath(".//details")
    assert [" ".join(g.findtext("summary").split()) for g in groups] == [
        "EncryptedDocument — 2 documents",
        "UnsupportedType — 1 document",
    ]
    assert [cells(row) for row in groups[0].xpath(".//tbody/tr")] == [
        [HOSTILE_NAME, "/Finance", "password-protected <PDF>"],
        ["locked.xlsx", "/Finance", "password-protected workbook"],
    ]

    lowest = [cells(row) for row in section(page, "low-confidence").xpath(".//tbody/tr")]
    assert [row[0] for row in lowest] == ["notes.docx", "notes.docx", "notes.docx", "notes.docx"]
    assert lowest[0][1:5] == ["/Finance", "FIN-02 — Invoices & payments", "0.12", "title says case notes"]
    assert lowest[1][3:5] == ["0.35", "weak match on <b>case</b>"]


def test_hostile_names_are_escaped(store: CatalogueStore) -> None:
    raw = build_report_html(store, title="<i>title</i>")
    assert "<script" not in raw
    assert "<img" not in raw
    assert "<b>case</b>" not in raw
    assert "<i>title</i>" not in raw
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;.pdf" in raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in raw
    assert "&lt;b&gt;case&lt;/b&gt;" in raw


def test_report_is_self_contained_and_holds_no_pii(store: CatalogueStore) -> None:
    raw = build_report_html(store, class_titles=CLASS_TITLES)
    page = lxml_html.fromstring(raw)
    assert page.xpath("//script | //link | //iframe | //object | //embed | //img") == []
    assert page.xpath("//@src | //@href | //@action") == []
    assert "url(" not in raw
    assert "default-src 'none'" in raw  # CSP: no scripts, no fetches
    assert FAKE_EMAIL not in raw
    assert "<style>" in raw


def test_empty_catalogue_report(tmp_path: Path) -> None:
    with open_catalogue(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        raw = render_report(empty, tmp_path / "empty.html").read_text(encoding="utf-8")
    page = lxml_html.fromstring(raw)
    assert "No documents catalogued yet." in section(page, "classes").text_content()
    assert "No failures." in section(page, "failures").text_content()
    assert "No personal data found." in section(page, "pii").text_content()


def test_report_leaves_out_deleted_documents(store: CatalogueStore) -> None:
    store.mark_deleted(["h-1", "x-1"])
    page = lxml_html.fromstring(build_report_html(store))
    assert HOSTILE_NAME not in page.text_content()
    rows = {row.get("data-class"): cells(row) for row in section(page, "classes").xpath(".//tr[@class='class-row']")}
    assert rows[UNCLASSIFIED][1] == "2"


def test_rendering_time_is_small(store: CatalogueStore, tmp_path: Path) -> None:
    started = dt.datetime.now(dt.UTC)
    render_report(store, tmp_path / "timed.html")
    assert (dt.datetime.now(dt.UTC) - started).total_seconds() < 5
