"""A document's review page shows the document: first pages and deciding passages read from the source, never kept."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from PIL import Image
from review_fixtures import (
    FAKE_EMAIL,
    READER,
    REVIEWER,
    add_accounts,
    make_app,
    populate,
    save_readable_tender,
    sign_in,
)
from sqlalchemy import func, select

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.models import DocumentRecord
from docintel.review.auth import ReviewSettings
from docintel.review.preview import explanation_for_reviewers, highlight
from docintel.review.store import Action
from docintel.review.web import ReviewRuntime

SMALL_CAP = 20_000  # pixels: far below an A4 page at screen size, so the cap must scale it down


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CatalogueStore]:
    """A populated SQLite catalogue plus two readable tender PDFs on disk, with and without evidence."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as opened:
        populate(opened)
        yield opened


@pytest.fixture
def tenders(store: CatalogueStore, tmp_path: Path) -> tuple[DocumentRecord, DocumentRecord]:
    """(with evidence, without evidence)."""
    return (
        save_readable_tender(store, tmp_path, with_evidence=True),
        save_readable_tender(store, tmp_path, with_evidence=False),
    )


def client_for(store: CatalogueStore, **settings: object) -> tuple[TestClient, ReviewRuntime]:
    app, runtime = make_app(store, ReviewSettings(page_size=5, **settings))  # type: ignore[arg-type]
    add_accounts(runtime.store)
    return TestClient(app), runtime


def page_of(client: TestClient, doc_id: str) -> lxml_html.HtmlElement:
    response = client.get(f"/review/document?id={doc_id}")
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.text)


def pictures(tree: lxml_html.HtmlElement) -> list[Image.Image]:
    images = []
    for source in tree.xpath("//div[@id='doc-pages']/img/@src"):
        assert source.startswith("data:image/png;base64,")
        images.append(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))
    return images


def test_reviewer_sees_the_first_page_and_the_passages_that_decided(
    store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]
) -> None:
    client, _ = client_for(store)
    sign_in(client, REVIEWER.name)
    tree = page_of(client, tenders[0].id)
    passages = tree.xpath("//ol[@id='doc-passages']/li")
    assert len(passages) == 2
    assert passages[0].xpath(".//mark/text()") == ["scored against the evaluation criteria"]
    assert "Each bidder was" in passages[0].text_content() and "page 1" in passages[0].text_content()
    assert passages[1].xpath(".//mark/text()") == ["Procurement"]
    assert "folder in the path" in passages[1].text_content()
    shown = pictures(tree)
    assert len(shown) == 1 and shown[0].width * shown[0].height <= ReviewSettings().preview_max_pixels
    # The explanation cites no generated training examples.
    why = tree.xpath("//dd[@id='doc-why']")[0].text_content()
    assert "nearest labelled examples" not in why and "FP50814" not in why and "terms: 'tender'" in why


def test_without_evidence_the_opening_is_shown_with_the_rules_phrases(
    store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]
) -> None:
    client, _ = client_for(store)
    sign_in(client, REVIEWER.name)
    tree = page_of(client, tenders[1].id)
    assert not tree.xpath("//ol[@id='doc-passages']")
    opening = tree.xpath("//blockquote[@id='doc-opening']")[0]
    assert opening.text_content().startswith("Tender evaluation report")
    marked = {text.lower() for text in opening.xpath(".//mark/text()")}
    assert {"invitation to tender", "bidder", "evaluation criteria", "most economically advantageous"} <= marked
    assert FAKE_EMAIL in opening.text_content()  # the reviewer reads the document as it is...


def test_nothing_read_is_kept(store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]) -> None:
    client, _ = client_for(store)
    sign_in(client, REVIEWER.name)
    before = {path.name for path in Path(tenders[0].provenance.locator).parent.iterdir()}
    response = client.get(f"/review/document?id={tenders[1].id}")
    assert FAKE_EMAIL in response.text and response.headers["Cache-Control"] == "no-store"
    # ...and nothing of it reaches the catalogue or the disk.
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.document_texts)).scalar_one() == 0
    assert {path.name for path in Path(tenders[0].provenance.locator).parent.iterdir()} == before


def test_pictures_are_held_under_the_pixel_cap(
    store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]
) -> None:
    client, _ = client_for(store, preview_max_pixels=SMALL_CAP)
    sign_in(client, REVIEWER.name)
    shown = pictures(page_of(client, tenders[0].id))
    assert len(shown) == 1 and 0 < shown[0].width * shown[0].height <= SMALL_CAP


def test_read_only_role_sees_no_contents(store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]) -> None:
    client, _ = client_for(store)
    sign_in(client, READER.name)
    tree = page_of(client, tenders[0].id)
    assert tree.xpath("//p[@id='doc-no-preview']")
    assert not tree.xpath("//div[@id='doc-pages']") and not tree.xpath("//ol[@id='doc-passages']")
    assert "scored against" not in lxml_html.tostring(tree, encoding="unicode")


def test_a_source_that_cannot_be_read_says_so(store: CatalogueStore) -> None:
    client, _ = client_for(store)
    sign_in(client, REVIEWER.name)
    tree = page_of(client, "inv-1")  # catalogued from /share/..., which is not on this machine
    notes = " ".join(tree.xpath("//p[contains(@class, 'doc-note')]/text()"))
    assert "could not be read from its source (SourceNotFound)" in notes
    assert tree.xpath("//p[@id='doc-no-examples']")


def test_examples_are_the_councils_own_reviewed_documents(
    store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]
) -> None:
    client, runtime = client_for(store)
    sign_in(client, REVIEWER.name)
    assert page_of(client, tenders[0].id).xpath("//p[@id='doc-no-examples']")
    runtime.store.decide([tenders[1].id], Action.ACCEPT, by=REVIEWER, schedule=runtime.schedule)
    tree = page_of(client, tenders[0].id)
    assert tree.xpath("//table[@id='doc-examples']//td[@class='name']/a/text()") == ["tender-plain.pdf"]
    assert "rita" in tree.xpath("//table[@id='doc-examples']")[0].text_content()


@pytest.mark.parametrize(
    ("explanation", "expected"),
    [
        (
            "model: a p=0.6; nearest labelled examples: 'X; Y' (a, 0.9), 'Z' (a, 0.8); terms: 'q'; runner-up b p=0.2",
            "model: a p=0.6; terms: 'q'; runner-up b p=0.2",
        ),
        ("model: a p=0.6; nearest labelled examples: 'X' (a, 0.9)", "model: a p=0.6"),
        ("rule: title matches /invoices?/", "rule: title matches /invoices?/"),
    ],
)
def test_explanation_for_reviewers(explanation: str, expected: str) -> None:
    assert explanation_for_reviewers(explanation) == expected


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], [("abcdef", False)]),
        ([(1, 3)], [("a", False), ("bc", True), ("def", False)]),
        ([(1, 3), (2, 5)], [("a", False), ("bc", True), ("de", True), ("f", False)]),  # overlaps merge in turn
        ([(0, 6)], [("abcdef", True)]),
    ],
)
def test_highlight(spans: list[tuple[int, int]], expected: list[tuple[str, bool]]) -> None:
    assert highlight("abcdef", spans) == expected


def test_a_changed_document_shows_no_passages_from_its_earlier_version(
    store: CatalogueStore, tenders: tuple[DocumentRecord, DocumentRecord]
) -> None:
    path = Path(tenders[0].provenance.locator)
    path.write_bytes(path.read_bytes() + b"\n% edited after classification\n")
    client, _ = client_for(store)
    sign_in(client, REVIEWER.name)
    tree = page_of(client, tenders[0].id)
    notes = " ".join(tree.xpath("//p[contains(@class, 'doc-note')]/text()"))
    assert "changed since it was classified" in notes
    passages = tree.xpath("//ol[@id='doc-passages']/li")
    assert [p.xpath(".//mark/text()") for p in passages] == [["Procurement"]]  # the folder still holds
    assert pictures(tree)  # the file as it is today
