"""The enrichment engine: one shared parse, offsets into the whole text, hashing, offline email checks."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

from docintel import synthetic
from docintel.enrich.analyzer import TextAnalyzer, get_analyzer, split_chunks
from docintel.enrich.pii import PiiConfig, load_pii_config, resolve_overlaps
from docintel.enrich.recognizers import generic
from docintel.errors import ConfigError
from docintel.models import PiiFinding
from docintel.settings import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
KEY = b"0123456789abcdef0123456789abcdef"


def council_letter(seed: int) -> str:
    """A council-style letter full of generated (fake) personal data."""
    rng = random.Random(seed)
    name = synthetic.person_name(rng)
    return (
        f"Dear {name},\n\n"
        f"Re: Adult social care assessment, {synthetic.postcode(rng)}\n\n"
        "Thank you for your letter of 3 March 2024 to Leeds City Council. "
        f"Your NHS number {synthetic.nhs_number(rng)} and National Insurance number {synthetic.nino(rng)} "
        "have been recorded on the case file.\n"
        f"Please telephone {synthetic.uk_landline(rng)} or email {synthetic.email_for(name, rng)}.\n"
        f"Direct payments go to sort code {synthetic.sort_code(rng)}, account number {synthetic.bank_account(rng)}.\n"
        "Yours sincerely,\nAdult Social Care Team\n\n"
    )


class _Counter:
    def __init__(self) -> None:
        self.docs = 0
        self.calls = 0


@pytest.fixture
def parse_counter(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    """Counts Docs the real spaCy pipeline produces, through nlp.pipe(...) and through nlp(text)."""
    counter = _Counter()
    original_pipe = Language.pipe
    original_call = Language.__call__

    def counting_pipe(self: Language, texts: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for doc in original_pipe(self, texts, *args, **kwargs):
            counter.docs += 1
            yield doc

    def counting_call(self: Language, *args: Any, **kwargs: Any) -> Any:
        counter.calls += 1
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(Language, "pipe", counting_pipe)
    monkeypatch.setattr(Language, "__call__", counting_call)
    return counter


def test_spacy_parses_each_text_exactly_once(analyzer: TextAnalyzer, parse_counter: _Counter) -> None:
    entities, findings = analyzer.analyze(council_letter(1))
    assert parse_counter.docs == 1  # one Doc from one parse, shared by NER and Presidio
    assert parse_counter.calls == 0  # Presidio never called nlp(text) itself
    assert entities
    assert {"UK_NHS", "UK_NINO", "PHONE_NUMBER", "EMAIL_ADDRESS"} <= {f.entity_type for f in findings}


def test_long_text_is_parsed_once_per_chunk(
    analyzer: TextAnalyzer, parse_counter: _Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analyzer, "chunk_chars", 1500)
    text = "".join(council_letter(seed) for seed in range(6))
    chunks = list(split_chunks(text, 1500))
    _, findings = analyzer.analyze(text)
    assert len(chunks) > 1
    assert parse_counter.docs == len(chunks)
    assert parse_counter.calls == 0
    assert sum(f.entity_type == "UK_NHS" for f in findings) == 6


def test_offsets_index_the_whole_text_across_chunks(analyzer: TextAnalyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzer, "chunk_chars", 1200)
    text = "".join(council_letter(seed) for seed in range(5))
    entities, findings = analyzer.analyze(text)
    assert findings
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text


def test_entities_limited_to_configured_labels(analyzer: TextAnalyzer) -> None:
    entities, _ = analyzer.analyze(council_letter(2))
    assert entities
    assert {e.label for e in entities} <= set(analyzer.entity_labels)
    assert "ORG" in {e.label for e in entities}  # Leeds City Council
    assert "DATE" in {e.label for e in entities}


def test_key_fills_hashes_and_they_match_across_documents(analyzer: TextAnalyzer) -> None:
    nhs = synthetic.nhs_number(random.Random(5))
    _, first = analyzer.analyze(f"NHS number {nhs}.", key=KEY)
    _, second = analyzer.analyze(f"Patient NHS no. {nhs.replace(' ', '')} seen today.", key=KEY)
    (a,) = [f for f in first if f.entity_type == "UK_NHS"]
    (b,) = [f for f in second if f.entity_type == "UK_NHS"]
    assert a.value_hash and a.value_hash == b.value_hash
    _, unhashed = analyzer.analyze(f"NHS number {nhs}.")
    assert all(f.value_hash is None for f in unhashed)


@pytest.mark.parametrize("text", ["", "   \n\t ", "\n\n"])
def test_blank_text_gives_nothing(analyzer: TextAnalyzer, text: str) -> None:
    assert analyzer.analyze(text) == ([], [])


def test_text_beyond_max_chars_gets_pattern_recognizers_only(
    analyzer: TextAnalyzer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(analyzer, "max_chars", 200)
    text = "x " * 150 + "Dear Mrs Olivia Smith, NHS number 943 476 5919, sort code 12-34-56."
    entities, findings = analyzer.analyze(text)
    found = {(f.entity_type, f.text) for f in findings}
    # Past the NLP budget identifiers are still found (context from the tokens) and so are names the honorific
    # rule catches; spaCy entities are not.
    assert ("UK_NHS", "943 476 5919") in found
    assert ("UK_SORT_CODE", "12-34-56") in found
    assert ("PERSON", "Olivia Smith") in found
    assert entities == []
    assert "over nlp.max_chars" in caplog.text
    assert "943" not in caplog.text


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("abc", 10, ["abc"]),
        ("line one\nline two\nline three\n", 12, ["line one\n", "line two\n", "line three\n"]),
        ("word " * 6, 12, ["word word ", "word word ", "word word "]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),  # no break point: cut hard
    ],
)
def test_split_chunks_table(text: str, limit: int, pieces: list[str]) -> None:
    chunks = list(split_chunks(text, limit))
    assert [c for _, c in chunks] == pieces
    assert all(text[offset : offset + len(chunk)] == chunk for offset, chunk in chunks)


@pytest.mark.parametrize(
    ("findings", "kept"),
    [
        # NINO pattern beats an overlapping NER person even though NER scores higher.
        (
            [("PERSON", 0, 12, 0.85, "SpacyRecognizer"), ("UK_NINO", 10, 23, 0.65, "UkNinoRecognizer")],
            ["UK_NINO"],
        ),
        # Between patterns the higher score wins.
        ([("UK_SORT_CODE", 3, 11, 0.45, "s"), ("UK_NINO", 0, 13, 1.0, "n")], ["UK_NINO"]),
        # Disjoint findings all stay, in text order.
        ([("UK_NHS", 20, 32, 1.0, "n"), ("PERSON", 0, 10, 0.85, "SpacyRecognizer")], ["PERSON", "UK_NHS"]),
    ],
)
def test_resolve_overlaps_table(findings: list[tuple[str, int, int, float, str]], kept: list[str]) -> None:
    built = [
        PiiFinding(entity_type=t, start=s, end=e, text="x" * (e - s), score=sc, recognizer=r)
        for t, s, e, sc, r in findings
    ]
    assert [f.entity_type for f in resolve_overlaps(built)] == kept


def test_email_check_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    generic.offline_domain_extractor.cache_clear()
    recognizer = generic.OfflineEmailRecognizer()
    started = time.perf_counter()
    assert recognizer.validate_result("someone@example.gov.uk")
    assert not recognizer.validate_result("someone@example.invalidtld")
    assert time.perf_counter() - started < 5


def test_get_analyzer_is_cached_per_settings() -> None:
    settings = load_settings(CONFIG_DIR, environ={})
    assert get_analyzer(settings) is get_analyzer(load_settings(CONFIG_DIR, environ={}))
    other = load_settings(CONFIG_DIR, environ={"DOCINTEL_NLP__MAX_CHARS": "5000"})
    assert get_analyzer(other) is not get_analyzer(settings)


def test_pii_disabled_still_gives_entities() -> None:
    settings = load_settings(CONFIG_DIR, environ={"DOCINTEL_PII__ENABLED": "false"})
    quiet = TextAnalyzer(settings)
    entities, findings = quiet.analyze("Leeds City Council wrote to Dr Priya Patel on 3 March 2024.")
    assert findings == []
    assert entities
    assert quiet.recognizer_names() == []


def test_only_configured_recognizers_load(tmp_path: Path) -> None:
    (tmp_path / "pii.yaml").write_text("recognizers:\n  UK_NHS: {}\n  EMAIL_ADDRESS: {enabled: false}\n")
    settings = load_settings(tmp_path, environ={})
    narrow = TextAnalyzer(settings)
    assert narrow.recognizer_names() == ["UkNhsNumberRecognizer"]
    _, findings = narrow.analyze("NHS 943 476 5919, email a.b@example.org, tel 0113 496 0123")
    assert [f.entity_type for f in findings] == ["UK_NHS"]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("recognizers:\n  US_SSN: {}\n", "unknown US_SSN"),
        ("recognizers:\n  UK_SORT_CODE: {context: [sort code]}\n", "single words"),
        ("recognizers:\n  UK_NHS: {score_threshold: 2}\n", "score_threshold"),
        ("recognisers:\n  UK_NHS: {}\n", "recognisers"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_bad_pii_yaml_names_file_and_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "pii.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_pii_config(path)
    assert message in str(caught.value)
    assert "pii.yaml" in str(caught.value)


def test_repository_pii_yaml_loads() -> None:
    config = load_pii_config(CONFIG_DIR / "pii.yaml")
    assert isinstance(config, PiiConfig)
    assert {"UK_NHS", "UK_NINO", "UK_POSTCODE", "UK_SORT_CODE", "UK_BANK_ACCOUNT", "UK_VAT"} <= set(config.enabled())


def test_parse_counter_sees_a_direct_parse(analyzer: TextAnalyzer, parse_counter: _Counter) -> None:
    # Guards the once-per-analyze test: a second parse inside Presidio would show up as a call here.
    analyzer.nlp("Leeds City Council")
    assert parse_counter.calls == 1
