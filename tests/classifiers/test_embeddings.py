"""The embedding model: inputs, terms, calibration, head files, and the real all-MiniLM-L6-v2 weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.config import ClassifierConfig
from classifiers.embeddings import (
    EmbeddingHead,
    class_term_weights,
    document_input,
    encoder_for,
    fit_temperature,
    get_encoder,
    lexical_vectorizer,
    model_path,
    static_table_path,
    terms,
    user_cache_dir,
)
from docintel.errors import ClassificationError


@pytest.mark.parametrize(
    ("title", "name", "path", "text", "expected"),
    [
        ("Invoice 42", "Invoice_42.pdf", "Finance/AP", "Total due", "Invoice 42 | Finance / AP | Total due"),
        (None, "budget-2024.xlsx", "", "Forecast", "budget 2024 | Forecast"),
        ("Minutes", "minutes.docx", "/Democratic Services/", "", "Minutes | minutes | Democratic Services"),
        (None, "", "", "  lots   of\n space ", "lots of space"),
    ],
)
def test_document_input(title: str | None, name: str, path: str, text: str, expected: str) -> None:
    assert document_input(title, name, path, text, text_chars=100) == expected


@pytest.mark.parametrize(
    ("file_type", "expected"),
    [
        ("eml", "email | Re: lunch | Hi"),
        ("msg", "email | Re: lunch | Hi"),
        ("image", "scanned image | Re: lunch | Hi"),
        ("png", "scanned image | Re: lunch | Hi"),
        ("xlsx", "spreadsheet | Re: lunch | Hi"),
        ("pdf", "Re: lunch | Hi"),
        (None, "Re: lunch | Hi"),
    ],
)
def test_document_input_names_the_kind_of_file(file_type: str | None, expected: str) -> None:
    assert document_input("Re: lunch", "", "", "Hi", text_chars=100, file_type=file_type) == expected


def test_document_input_truncates_text() -> None:
    assert document_input(None, "", "", "a" * 500, text_chars=10) == "a" * 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The invoice for the council", ["invoice"]),
        ("Budget 2024: forecast OUTTURN", ["budget", "forecast", "outturn"]),
        ("a an it of to", []),
        ("children's services", ["children's", "services"]),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_class_term_weights_prefer_words_of_the_class() -> None:
    texts = ["invoice payable supplier"] * 3 + ["budget forecast variance"] * 3 + ["supplier budget meeting"]
    labels = ["finance.invoice"] * 3 + ["finance.budget"] * 3 + ["meetings.team_notes"]
    weights = class_term_weights(texts, labels)
    assert set(weights["finance.invoice"]) >= {"invoice", "payable"}
    assert "budget" not in weights["finance.invoice"]
    assert weights["finance.invoice"]["invoice"] > weights["finance.invoice"].get("supplier", 0)
    assert "meeting" not in weights.get("meetings.team_notes", {})  # seen once: too rare to explain anything


def test_fit_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), labels] += 1.0  # right 3 times in 5 ...
    overconfident = logits * 10  # ... but shouting
    assert fit_temperature(overconfident, labels) > 3
    assert fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.5)


def _tiny_head() -> EmbeddingHead:
    rng = np.random.default_rng(1)
    return EmbeddingHead(
        class_ids=["finance.invoice", "finance.budget"],
        weights=rng.normal(size=(2, 4)).astype(np.float32),
        bias=np.zeros(2, np.float32),
        temperature=1.5,
        zero_shot_ids=["risk.register"],
        zero_shot_vectors=np.eye(4, dtype=np.float32)[:1],
        example_vectors=np.eye(4, dtype=np.float32)[:2],
        example_classes=["finance.invoice", "finance.budget"],
        example_labels=["Invoice 1", "reviewed document doc-9"],
        class_terms={"finance.invoice": {"invoice": 2.0, "supplier": 1.0}},
        max_tokens=64,
        text_chars=500,
        encoder="static test-weights pca=4",
        lexical_terms=["invoice", "budget forecast"],
        lexical_idf=np.array([1.5, 2.0], np.float32),
        lexical_weights=np.array([[3.0, -1.0], [-3.0, 2.0]], np.float32),
    )


def test_head_round_trips_through_npz(tmp_path: Path) -> None:
    head = _tiny_head()
    path = tmp_path / "sub" / "head.npz"
    head.save(path)
    loaded = EmbeddingHead.load(path)
    assert loaded.class_ids == head.class_ids
    assert loaded.zero_shot_ids == ["risk.register"]
    assert loaded.example_labels == head.example_labels
    assert loaded.class_terms == head.class_terms
    assert (loaded.temperature, loaded.max_tokens, loaded.text_chars) == (1.5, 64, 500)
    assert loaded.encoder == "static test-weights pca=4"
    assert loaded.lexical_terms == ["invoice", "budget forecast"]
    vectors = np.eye(4, dtype=np.float32)[:3]
    before = head.predict(vectors, ["invoice supplier", "", ""])
    after = loaded.predict(vectors, ["invoice supplier", "", ""])
    assert [(p.record_class, p.confidence) for p in before] == [(p.record_class, p.confidence) for p in after]


def test_lexical_channel_adds_term_weights_to_the_embedding_score() -> None:
    head = _tiny_head()
    vectors = np.zeros((3, 4), np.float32)  # no embedding signal: the words decide
    logits = head.logits(vectors, ["an invoice", "budget forecast for the year", "nothing known"])
    assert logits[0, 0] > 0 > logits[0, 1]  # "invoice" favours finance.invoice
    assert logits[1, 1] > logits[1, 0]  # the pair "budget forecast" favours finance.budget
    assert np.allclose(logits[2], 0.0)
    without = EmbeddingHead(**{**head.__dict__, "lexical_terms": [], "_term_index": None})
    assert np.allclose(without.logits(vectors, ["an invoice", "", ""]), 0.0)


def test_lexical_scores_match_scikit_learn_tfidf() -> None:
    texts = ["Invoice for road salt; invoice total", "Minutes of the Cabinet meeting", "Road salt budget forecast"]
    vectorizer = lexical_vectorizer()
    rows = vectorizer.fit_transform([*texts, "invoice road salt minutes cabinet budget"])
    rng = np.random.default_rng(3)
    head = _tiny_head()
    head.lexical_terms = [str(term) for term in vectorizer.get_feature_names_out()]
    head.lexical_idf = vectorizer.idf_.astype(np.float32)
    head.lexical_weights = rng.normal(size=(2, len(head.lexical_terms))).astype(np.float32)
    expected = np.asarray(rows[: len(texts)] @ head.lexical_weights.T)
    assert np.allclose(head.lexical_scores([t.upper() for t in texts]), expected, atol=1e-5)  # case-blind


def test_prediction_explains_examples_terms_and_zero_shot() -> None:
    head = _tiny_head()
    head.zero_shot_bias = 50.0  # make the zero-shot class win to see it reported as such
    prediction = head.predict(np.eye(4, dtype=np.float32)[:1], ["the invoice"])[0]
    assert prediction.record_class == "risk.register"
    assert prediction.zero_shot
    text = prediction.explain()
    assert text.startswith("zero-shot from the class description: risk.register")
    assert "nearest labelled examples: 'Invoice 1' (finance.invoice, 1.00)" in text
    assert head.driving_terms("finance.invoice", "Invoice from a supplier") == ["invoice", "supplier"]
    assert head.driving_terms("finance.budget", "Invoice") == []


def test_head_of_an_older_format_asks_for_training(tmp_path: Path) -> None:
    path = tmp_path / "head.npz"
    np.savez(path, format=np.array(1))
    with pytest.raises(ClassificationError, match=r"head format 1, expected 2: run `docintel train`"):
        EmbeddingHead.load(path)


@pytest.mark.parametrize("content", [b"not a zip at all", b""])
def test_unreadable_head_is_a_classification_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "head.npz"
    path.write_bytes(content)
    with pytest.raises(ClassificationError, match="not a readable classifier head"):
        EmbeddingHead.load(path)


def test_model_ships_in_site_packages() -> None:
    path = model_path()
    assert (path / "model.safetensors").is_file()
    assert "site-packages" in str(path)


@pytest.mark.slow
def test_real_encoder_gives_unit_vectors_and_sensible_similarity() -> None:
    encoder = get_encoder(ClassifierConfig().max_tokens)
    assert encoder is get_encoder(ClassifierConfig().max_tokens)  # one per process
    vectors = encoder.encode(
        ["Invoice for road salt, total due 480 pounds", "Supplier bill: amount payable for grit", "Minutes of Cabinet"]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert encoder.encode([]).shape == (0, 384)
    assert encoder.identity == f"transformer all-MiniLM-L6-v2 tokens={ClassifierConfig().max_tokens}"


@pytest.mark.parametrize(("setting", "kind"), [("static", "static"), ("transformer", "transformer")])
def test_encoder_for_follows_the_setting(tmp_path: Path, setting: str, kind: str) -> None:
    config = ClassifierConfig(head_path=tmp_path / "head.npz", encoder=setting)  # type: ignore[arg-type]
    encoder = encoder_for(config)
    assert encoder.kind == kind  # type: ignore[attr-defined]
    assert encoder is encoder_for(config)  # one per process
    if kind == "static":
        # One table per machine, in the user's cache, whatever folder the head is in.
        expected = (user_cache_dir() / "minilm-l6-static.npz").resolve()
        assert encoder.cache_path == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"XDG_CACHE_HOME": "/srv/cache"}, Path("/srv/cache/docintel")),
        ({}, Path.home() / ".cache" / "docintel"),
        ({"XDG_CACHE_HOME": ""}, Path.home() / ".cache" / "docintel"),
    ],
)
def test_user_cache_dir_follows_xdg(environ: dict[str, str], expected: Path) -> None:
    assert user_cache_dir(environ) == expected


def test_static_table_path_setting_wins_over_the_user_cache(tmp_path: Path) -> None:
    config = ClassifierConfig(head_path=tmp_path / "head.npz", static_table_path=tmp_path / "table.npz")
    assert static_table_path(config) == tmp_path / "table.npz"
    assert static_table_path(ClassifierConfig(head_path=tmp_path / "head.npz")).parent == user_cache_dir()
