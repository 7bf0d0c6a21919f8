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
    fit_temperature,
    get_encoder,
    model_path,
    terms,
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
    vectors = np.eye(4, dtype=np.float32)[:3]
    before = head.predict(vectors, ["invoice supplier", "", ""])
    after = loaded.predict(vectors, ["invoice supplier", "", ""])
    assert [(p.record_class, p.confidence) for p in before] == [(p.record_class, p.confidence) for p in after]


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
