"""Governance signals end to end: generated files scanned into a real SQLite catalogue, then the signals as the
report, the export and the review pages show them (a duplicate pair, a near-duplicate pair, a document in the
wrong place, a stale document, and documents with none)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from classifiers.config import SignalSettings, load_classifier_config
from classifiers.signals import near_duplicate_matrix, signature_from_bytes, similarity, text_signature
from docintel import synthetic
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.export import export_jsonl
from docintel.governance import SignalCache, compute_signals, refresh_signals
from docintel.models import Classification, DocumentRecord, DocumentStatus, Provenance
from docintel.pipeline import Engines, scan_source
from docintel.retention import load_schedule
from docintel.review.auth import ReviewSettings, Role
from docintel.review.report import build_report_html
from docintel.review.store import QueueFilter, ReviewState, ReviewStore, SignalFilter
from docintel.review.web import configure_review, router
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"
OLD = dt.datetime(2011, 3, 14, 9, tzinfo=dt.UTC)
VOCABULARY = [
    "council", "road", "school", "budget", "contract", "meeting", "report", "waste", "library", "review", "officer",
    "service", "county", "resident", "transport", "housing", "repair", "grant", "policy", "bridge", "drainage",
    "lighting", "parking", "permit", "tender", "supplier", "schedule",
]  # fmt: skip
WRONG_PLACE_RULE = "social care records outside social care sites"


def letter(seed: int, words: int = 180) -> str:
    """A generated council letter; different seeds share almost no five-word runs."""
    rng = random.Random(seed)
    body = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    return f"Dear {synthetic.person_name(rng)},\n{body}\nYours sincerely\n"


def edited(text: str, changes: int = 1) -> str:
    """The same letter with a few words replaced (a corrected date or name)."""
    words = text.split(" ")
    rng = random.Random(7)
    for _ in range(changes):
        words[rng.randrange(5, len(words) - 5)] = "amended"
    return " ".join(words)


def write(path: Path, text: str, modified: dt.datetime | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if modified is not None:
        os.utime(path, (modified.timestamp(), modified.timestamp()))


@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A share with one example of each signal and two documents with none."""
    root = tmp_path_factory.mktemp("signals") / "share"
    original = letter(1)
    write(root / "Highways" / "Contracts" / "road-contract.txt", original)
    write(root / "Highways" / "Archive" / "road-contract-copy.txt", original)  # same bytes
    minutes = letter(2)
    write(root / "Highways" / "Minutes" / "minutes-march.txt", minutes)
    write(root / "Highways" / "Minutes" / "minutes-march-v2.txt", edited(minutes))  # one word changed
    care_plan = "Care and support plan\nAdult social care needs assessment under the Care Act 2014.\n" + letter(3)
    write(root / "Highways" / "Misc" / "care and support plan.txt", care_plan)  # a social care record
    write(root / "Highways" / "Old" / "bridge-survey.txt", letter(4), modified=OLD)
    write(root / "Highways" / "Contracts" / "tender.txt", letter(5))
    write(root / "Highways" / "Contracts" / "drainage.txt", letter(6))
    return root


@pytest.fixture(scope="module")
def engines() -> Engines:
    # The rules classifier: the share's word-salad letters are built so that only the care plan is a social
    # care record, which the rules see from its heading; what the model makes of word salad is not the point.
    environ = {"DOCINTEL_PII__ENABLED": "false", "DOCINTEL_RETENTION__CLASSIFIER": "rules"}
    settings = load_settings(CONFIG_DIR, environ=environ)
    return Engines(settings=settings, pii_key=b"k" * 32)


@pytest.fixture(scope="module")
def store(share: Path, engines: Engines, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogueStore]:
    """The share scanned by the real pipeline into a SQLite catalogue."""
    folder = tmp_path_factory.mktemp("catalogue")
    with open_catalogue(f"sqlite:///{folder / 'catalogue.db'}") as opened:
        summary = scan_source(LocalFolderSource([share]), opened, engines)
        assert summary.failed == 0
        yield opened


@pytest.fixture(scope="module")
def settings() -> SignalSettings:
    return load_classifier_config(CONFIG_DIR, environ={}).signals


def ids_by_name(store: CatalogueStore) -> dict[str, str]:
    return {row["name"]: row["id"] for row in store.iter_documents()}


def test_the_catalogue_keeps_a_signature_and_no_text(store: CatalogueStore) -> None:
    rows = {row["name"]: row for row in store.iter_signal_rows()}
    signature = signature_from_bytes(rows["minutes-march.txt"]["minhash"])
    assert signature.shape == (64,)
    edited_signature = signature_from_bytes(rows["minutes-march-v2.txt"]["minhash"])
    assert similarity(signature, edited_signature) >= 0.8
    assert similarity(signature, signature_from_bytes(rows["tender.txt"]["minhash"])) < 0.3
    # 256 bytes of hash values: nothing of the letter's words is in the row.
    assert b"council" not in rows["minutes-march.txt"]["minhash"]
    assert len(rows["minutes-march.txt"]["minhash"]) == 256


def test_each_signal_is_found(store: CatalogueStore, settings: SignalSettings) -> None:
    names = ids_by_name(store)
    signals = compute_signals(store, settings)
    flagged = {name: signals.for_document(doc_id).names for name, doc_id in names.items()}
    assert flagged == {
        "road-contract.txt": ["duplicate"],
        "road-contract-copy.txt": ["duplicate"],
        "minutes-march.txt": ["near_duplicate"],
        "minutes-march-v2.txt": ["near_duplicate"],
        "care and support plan.txt": ["wrong_place"],
        "bridge-survey.txt": ["stale"],
        "tender.txt": [],
        "drainage.txt": [],
    }
    assert signals.counts() == {"duplicate": 2, "near_duplicate": 2, "wrong_place": 1, "stale": 1}
    (pair,) = signals.exact_groups
    assert set(pair.document_ids) == {names["road-contract.txt"], names["road-contract-copy.txt"]}
    (near,) = signals.near_groups  # the exact pair is not reported again as near
    assert set(near.document_ids) == {names["minutes-march.txt"], names["minutes-march-v2.txt"]}
    (misplaced,) = signals.misplaced
    assert misplaced.record_class.startswith("social_care.")
    assert misplaced.rule == WRONG_PLACE_RULE
    assert signals.stale[0].years > 15


def test_a_folder_subset(store: CatalogueStore, settings: SignalSettings) -> None:
    signals = compute_signals(store, settings, prefix="share/Highways/Contracts")
    assert signals.documents == 3
    assert signals.counts() == {"duplicate": 0, "near_duplicate": 0, "wrong_place": 0, "stale": 0}


def test_near_duplicates_without_pairwise_comparison_on_many_signatures() -> None:
    """50,000 random signatures and one planted pair: found through LSH buckets, in seconds."""
    rng = __import__("numpy").random.default_rng(5)
    matrix = rng.integers(0, 2**32, size=(50_000, 64), dtype="uint64").astype("uint32")
    matrix[40_000] = matrix[123]
    matrix[40_000, :6] += 1  # 58/64 equal
    ids = [f"d{index}" for index in range(len(matrix))]
    groups = near_duplicate_matrix(ids, matrix, 0.8)
    assert [group.document_ids for group in groups] == [("d123", "d40000")]


def test_report_has_a_governance_section(store: CatalogueStore, settings: SignalSettings) -> None:
    page = lxml_html.fromstring(build_report_html(store, signal_settings=settings))
    section = page.get_element_by_id("signals")
    cards = {card.get("id"): card.find_class("n")[0].text_content() for card in section.find_class("card")}
    assert cards == {
        "signal-duplicate": "2",
        "signal-near_duplicate": "2",
        "signal-wrong_place": "1",
        "signal-stale": "1",
    }
    exact = section.find_class("exact-groups")[0].text_content()
    assert "Highways/Contracts/road-contract.txt" in exact and "Highways/Archive/road-contract-copy.txt" in exact
    near = section.find_class("near-groups")[0].text_content()
    assert "minutes-march.txt" in near and "minutes-march-v2.txt" in near
    wrong = section.find_class("wrong-place")[0].text_content()
    assert "care and support plan.txt" in wrong and WRONG_PLACE_RULE in wrong
    stale_rows = section.find_class("stale-classes")[0].findall(".//tbody/tr")
    assert len(stale_rows) == 1 and stale_rows[0].findall("td")[1].text_content() == "1"
    # The per-document rows show the badges too.
    lowest = page.get_element_by_id("low-confidence").text_content()
    for badge in ("duplicate x2", "near-duplicate x2", f"wrong place: {WRONG_PLACE_RULE}", "stale: "):
        assert badge in lowest


def test_export_lines_carry_signals(store: CatalogueStore, settings: SignalSettings) -> None:
    out = io.StringIO()
    export_jsonl(store, out, signal_settings=settings)
    lines = {line["provenance"]["name"]: line for line in map(json.loads, out.getvalue().splitlines())}
    copy = lines["road-contract-copy.txt"]["signals"]
    assert copy["flags"] == ["duplicate"]
    assert copy["duplicate_group"] == lines["road-contract.txt"]["type"]["sha256"]
    assert copy["duplicates"] == 2
    near = lines["minutes-march-v2.txt"]["signals"]
    assert near["near_duplicate_group"] == lines["minutes-march.txt"]["signals"]["near_duplicate_group"]
    assert near["near_duplicates"] == 2
    assert lines["care and support plan.txt"]["signals"]["wrong_place"] == WRONG_PLACE_RULE
    assert lines["bridge-survey.txt"]["signals"]["stale"] is True
    assert lines["bridge-survey.txt"]["signals"]["stale_years"] > 15
    assert lines["tender.txt"]["signals"] == {
        "flags": [],
        "duplicate_group": None,
        "duplicates": None,
        "near_duplicate_group": None,
        "near_duplicates": None,
        "wrong_place": None,
        "stale": False,
        "stale_years": None,
    }
    assert "minhash" not in json.dumps(lines["tender.txt"])


def test_refresh_writes_the_table_and_the_cache_rebuilds_only_on_change(
    store: CatalogueStore, settings: SignalSettings
) -> None:
    from sqlalchemy import func, select

    from docintel.catalogue import tables as t

    refresh_signals(store, settings)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.document_signals)).scalar_one() == 6
    cache = SignalCache(settings, recheck_seconds=0)
    assert cache.ensure_fresh(store) is True  # first use
    assert cache.ensure_fresh(store) is False  # nothing changed
    assert cache.ensure_fresh(store, force=True) is True
    # A large catalogue is rebuilt in the background while the pages show the last signals.
    background = SignalCache(settings, recheck_seconds=0, background_above=0)
    with store.engine.begin() as connection:
        connection.execute(t.document_signals.delete())
    assert background.ensure_fresh(store) is True
    deadline = time.monotonic() + 60
    while background.updating and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not background.updating and background.computed_at is not None
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.document_signals)).scalar_one() == 6


@pytest.fixture(scope="module")
def client(store: CatalogueStore, settings: SignalSettings) -> Iterator[TestClient]:
    """The review pages over the scanned catalogue; the test client signs in through the trusted proxy header."""
    app = FastAPI()
    app.include_router(router)
    configure_review(
        app,
        store=store,
        settings=load_settings(CONFIG_DIR, environ={}),
        review_settings=ReviewSettings(trusted_header_enabled=True, trusted_proxies=["127.0.0.1"]),
        secret="test-secret-for-signing-cookies-0123456789",
        schedule=load_schedule(CONFIG_DIR / "retention_schedule.yaml"),
        signal_settings=settings,
    )
    ReviewStore(store).create_user("rita", None, Role.REVIEWER, by="test")
    with TestClient(app, headers={"X-Remote-User": "rita"}, client=("127.0.0.1", 50000)) as test_client:
        yield test_client


def queue_names(client: TestClient, **params: str) -> dict[str, str]:
    """Document name -> its signal badges, for the queue rows matching the filter."""
    page = lxml_html.fromstring(client.get("/review/queue", params={"state": "all", **params}).text)
    return {
        row.find_class("name")[0].text_content().strip(): row.find_class("signals")[0].text_content().strip()
        for row in page.xpath("//table[@id='queue']/tbody/tr")
    }


def test_dashboard_counts_each_signal(client: TestClient) -> None:
    page = lxml_html.fromstring(client.get("/review/").text)
    cards = {card.get("id"): card.find_class("n")[0].text_content() for card in page.xpath("//*[@id='signals']/a")}
    assert cards == {
        "signal-duplicate": "2",
        "signal-near_duplicate": "2",
        "signal-wrong_place": "1",
        "signal-stale": "1",
    }


@pytest.mark.parametrize(
    ("signal", "names"),
    [
        ("duplicate", {"road-contract.txt", "road-contract-copy.txt"}),
        ("near_duplicate", {"minutes-march.txt", "minutes-march-v2.txt"}),
        ("wrong_place", {"care and support plan.txt"}),
        ("stale", {"bridge-survey.txt"}),
    ],
)
def test_queue_filters_by_signal_and_shows_badges(client: TestClient, signal: str, names: set[str]) -> None:
    rows = queue_names(client, signal=signal)
    assert set(rows) == names
    expected = {
        "duplicate": "duplicate x2",
        "near_duplicate": "near-duplicate x2",
        "wrong_place": f"wrong place: {WRONG_PLACE_RULE}",
        "stale": "stale: ",
    }[signal]
    assert all(expected in badges for badges in rows.values())


def test_queue_without_a_signal_filter_lists_everything(client: TestClient) -> None:
    rows = queue_names(client)
    assert len(rows) == 8
    assert rows["tender.txt"] == ""


def test_document_page_lists_its_duplicates(client: TestClient, store: CatalogueStore) -> None:
    names = ids_by_name(store)
    page = lxml_html.fromstring(client.get("/review/document", params={"id": names["road-contract.txt"]}).text)
    assert "duplicate x2" in page.get_element_by_id("doc-signals").text_content()
    listed = page.get_element_by_id("doc-duplicates").text_content()
    assert "road-contract-copy.txt" in listed and "Highways/Archive" in listed
    page = lxml_html.fromstring(client.get("/review/document", params={"id": names["minutes-march-v2.txt"]}).text)
    assert "minutes-march.txt" in page.get_element_by_id("doc-near-duplicates").text_content()
    page = lxml_html.fromstring(client.get("/review/document", params={"id": names["tender.txt"]}).text)
    assert "no duplicates" in page.get_element_by_id("doc-signals").text_content()


def test_a_class_change_in_review_updates_the_wrong_place_signal(client: TestClient, store: CatalogueStore) -> None:
    """Runs last in this module: it changes the catalogue the other tests read."""
    doc_id = ids_by_name(store)["care and support plan.txt"]
    page = lxml_html.fromstring(client.get("/review/queue", params={"state": "all", "signal": "wrong_place"}).text)
    token = page.xpath("//form[@id='bulk']//input[@name='csrf_token']/@value")[0]
    response = client.post(
        "/review/decide",
        data={"csrf_token": token, "action": "change", "to_class": "finance.invoice", "scope": "selected",
              "doc_id": doc_id, "reason": "an invoice, not a care plan"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert queue_names(client, signal="wrong_place") == {}
    assert set(queue_names(client, signal="duplicate")) == {"road-contract.txt", "road-contract-copy.txt"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogueStore]:
    """An empty catalogue on each backend."""
    url = (
        f"sqlite:///{tmp_path / 'catalogue.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    with open_catalogue(url) as opened:
        yield opened


def saved(doc_id: str, text: str, *, path: str, record_class: str, modified: dt.datetime) -> DocumentRecord:
    """A classified record as the pipeline hands it to the store, signature included."""
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/{path}/{doc_id}", name=f"{doc_id}.txt", path=path,
                              modified_at=modified),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        status=DocumentStatus.OK,
        text=text,
        minhash=text_signature(text),
        classification=Classification(record_class=record_class, confidence=0.7, explanation="test"),
    )  # fmt: skip


def test_signals_table_and_queue_filter_on_each_backend(empty_store: CatalogueStore, settings: SignalSettings) -> None:
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    minutes = letter(21)
    records = [
        saved("a", letter(20), path="Highways", record_class="finance.invoice", modified=recent),
        saved("b", letter(20), path="Highways/Copies", record_class="finance.invoice", modified=recent),
        saved("c", minutes, path="Highways", record_class="finance.invoice", modified=recent),
        saved("d", edited(minutes), path="Highways", record_class="finance.invoice", modified=recent),
        saved("e", letter(22), path="Highways", record_class="social_care.adult", modified=recent),
        saved("f", letter(23), path="Highways", record_class="finance.invoice", modified=OLD),
    ]
    for record in records:
        empty_store.save(record)
    refresh_signals(empty_store, settings)
    review = ReviewStore(empty_store)
    assert review.signal_counts() == {"duplicate": 2, "near_duplicate": 2, "wrong_place": 1, "stale": 1}
    for signal, expected in [
        (SignalFilter.DUPLICATE, ["a", "b"]),
        (SignalFilter.NEAR_DUPLICATE, ["c", "d"]),
        (SignalFilter.WRONG_PLACE, ["e"]),
        (SignalFilter.STALE, ["f"]),
    ]:
        page = review.queue(QueueFilter(state=ReviewState.ALL, signal=signal))
        assert sorted(row.document_id for row in page.rows) == expected
        assert review.matching_ids(QueueFilter(state=ReviewState.ALL, signal=signal), 100) == expected
    signals, duplicates, near = review.document_signals("a")
    assert signals.names == ["duplicate"] and [d.document_id for d in duplicates] == ["b"] and near == []
    _, _, near = review.document_signals("d")
    assert [d.document_id for d in near] == ["c"]
