"""The evidence model: a calibrated softmax regression over document features, and how it is trained.

Weights are one row per feature and one column per class, so every decision splits into the features that
pushed it (the passages a reviewer is shown). Training minimises cross-entropy plus an L2 pull towards a
prior: zero when training from scratch, the shipped weights when learning from reviewers' decisions, so a
handful of corrections adjusts the shipped model instead of replacing it.

Calibration is part of the model: a temperature fitted on held-out predictions, and the confidence at or
above which a class is accepted without review (chosen on held-out documents so that those accepted are right
at least ``target_precision`` of the time).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from docintel.errors import ClassificationError

FloatArray = NDArray[np.float64]

# Temperatures tried when calibrating (log-spaced); the held-out negative log-likelihood picks one.
_TEMPERATURES = np.exp(np.linspace(math.log(0.25), math.log(8.0), 41))
# The model file's format; a file of another version is refused with a clear error.
FORMAT_VERSION = 1


@dataclass
class EvidenceModel:
    """Feature names, classes, weights and calibration: everything classifying needs, no training document."""

    features: list[str]
    classes: list[str]
    weights: FloatArray  # features x classes
    bias: FloatArray  # classes
    temperature: float = 1.0
    review_threshold: float = 0.9
    info: dict[str, str] = field(default_factory=dict)  # what it was trained on, for `docintel train` and docs
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.features)}

    @property
    def index(self) -> dict[str, int]:
        """Feature name -> row of the weights."""
        return self._index

    def logits(self, rows: Sequence[dict[str, float]]) -> FloatArray:
        """Uncalibrated class scores for feature dictionaries (unknown features are ignored)."""
        out = np.tile(self.bias, (len(rows), 1))
        for i, row in enumerate(rows):
            for name, value in row.items():
                j = self._index.get(name)
                if j is not None:
                    out[i] += value * self.weights[j]
        return out

    def probabilities(self, rows: Sequence[dict[str, float]]) -> FloatArray:
        """Calibrated class probabilities."""
        return softmax(self.logits(rows) / self.temperature)

    def contributions(self, row: dict[str, float], class_index: int, against: int) -> list[tuple[str, float]]:
        """Features that pushed ``class_index`` over ``against``, largest first (positive pushes only)."""
        pushes = []
        for name, value in row.items():
            j = self._index.get(name)
            if j is not None:
                push = value * (self.weights[j, class_index] - self.weights[j, against])
                if push > 0:
                    pushes.append((name, float(push)))
        return sorted(pushes, key=lambda item: -item[1])

    def save(self, path: Path) -> None:
        """Write the model as a compressed NumPy archive (weights as float32: the file ships in the package)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                format_version=np.array(FORMAT_VERSION),
                features=np.array(self.features, dtype=object).astype(str),
                classes=np.array(self.classes).astype(str),
                weights=self.weights.astype(np.float32),
                bias=self.bias.astype(np.float32),
                calibration=np.array([self.temperature, self.review_threshold]),
                info_keys=np.array(list(self.info), dtype=str),
                info_values=np.array(list(self.info.values()), dtype=str),
            )

    @classmethod
    def load(cls, path: Path) -> EvidenceModel:
        """Read a model written by :meth:`save`; a missing, damaged or foreign file is a ClassificationError."""
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["format_version"])
                if version != FORMAT_VERSION:
                    raise ClassificationError(f"{path}: evidence model format {version}, expected {FORMAT_VERSION}")
                temperature, threshold = (float(x) for x in data["calibration"])
                return cls(
                    features=[str(x) for x in data["features"]],
                    classes=[str(x) for x in data["classes"]],
                    weights=data["weights"].astype(np.float64),
                    bias=data["bias"].astype(np.float64),
                    temperature=temperature,
                    review_threshold=threshold,
                    info=dict(
                        zip((str(k) for k in data["info_keys"]), (str(v) for v in data["info_values"]), strict=True)
                    ),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ClassificationError(f"{path}: not a readable evidence model ({type(exc).__name__})") from exc


def softmax(logits: FloatArray) -> FloatArray:
    """Row-wise softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


def vocabulary(
    rows: Sequence[dict[str, float]], groups: Sequence[str], *, min_documents: int = 3, min_groups: int = 2
) -> list[str]:
    """Features seen in at least ``min_documents`` documents from at least ``min_groups`` groups.

    A group is an organisation: a word only one council uses (its own name, its clerk's) says nothing about
    another council's documents, so it never becomes a feature. Kind, date, language and file-type cues are
    the product's own vocabulary and always kept once seen.
    """
    documents: Counter[str] = Counter()
    seen_in: defaultdict[str, set[str]] = defaultdict(set)
    for row, group in zip(rows, groups, strict=True):
        for name in row:
            documents[name] += 1
            seen_in[name].add(group)
    kept = [
        name
        for name, count in documents.items()
        if not name.startswith("word:") or (count >= min_documents and len(seen_in[name]) >= min_groups)
    ]
    return sorted(kept)


def design_matrix(rows: Sequence[dict[str, float]], features: Sequence[str]) -> Any:
    """A sparse documents x features matrix (CSR)."""
    from scipy.sparse import csr_matrix

    index = {name: i for i, name in enumerate(features)}
    data: list[float] = []
    columns: list[int] = []
    pointers = [0]
    for row in rows:
        for name, value in row.items():
            j = index.get(name)
            if j is not None:
                data.append(value)
                columns.append(j)
        pointers.append(len(data))
    return csr_matrix((data, columns, pointers), shape=(len(rows), len(features)), dtype=np.float64)


def targets(labels: Sequence[Sequence[str]], classes: Sequence[str], first_share: float) -> FloatArray:
    """Soft targets: ``first_share`` on the first acceptable class, the rest spread over the others listed."""
    position = {class_id: i for i, class_id in enumerate(classes)}
    out = np.zeros((len(labels), len(classes)))
    for i, acceptable in enumerate(labels):
        known = [position[c] for c in acceptable if c in position]
        if not known:
            raise ClassificationError(f"training document {i} has no class of the model ({', '.join(acceptable)})")
        if len(known) == 1:
            out[i, known[0]] = 1.0
            continue
        out[i, known[0]] = first_share
        for j in known[1:]:
            out[i, j] += (1.0 - first_share) / (len(known) - 1)
    return out


def fit(
    matrix: Any,
    soft_targets: FloatArray,
    sample_weights: FloatArray,
    *,
    l2: float,
    prior_weights: FloatArray | None = None,
    prior_bias: FloatArray | None = None,
    bias_l2_share: float = 0.01,
    start: tuple[FloatArray, FloatArray] | None = None,
    max_iterations: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """Weights and bias minimising weighted cross-entropy + l2/2 * |W - prior|^2 (L-BFGS).

    ``start`` (weights, bias) is where the search begins (default: the prior). The bias is pulled
    ``bias_l2_share`` as hard: barely from scratch (class frequencies are data), fully when adjusting a model
    to a few reviewed documents (a handful of one class must not make it the default).
    """
    from scipy.optimize import minimize

    n_features, n_classes = matrix.shape[1], soft_targets.shape[1]
    prior_w = np.zeros((n_features, n_classes)) if prior_weights is None else prior_weights
    prior_b = np.zeros(n_classes) if prior_bias is None else prior_bias
    transposed = matrix.T.tocsr()
    weights_column = sample_weights[:, None]

    def objective(flat: FloatArray) -> tuple[float, FloatArray]:
        weights = flat[: n_features * n_classes].reshape(n_features, n_classes)
        bias = flat[n_features * n_classes :]
        logits = matrix @ weights + bias
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_p = shifted - log_norm
        loss = -float((weights_column * soft_targets * log_p).sum())
        residual = weights_column * (np.exp(log_p) - soft_targets)  # targets sum to 1 per row
        drift = weights - prior_w
        bias_drift = bias - prior_b
        loss += 0.5 * l2 * float((drift * drift).sum()) + 0.5 * l2 * bias_l2_share * float((bias_drift**2).sum())
        grad_w = transposed @ residual + l2 * drift
        grad_b = residual.sum(axis=0) + l2 * bias_l2_share * bias_drift
        return loss, np.concatenate([np.asarray(grad_w).ravel(), grad_b])

    # Starting from a nearby solution (the same data less one fold) converges in a fraction of the steps.
    initial = (
        np.concatenate([prior_w.ravel(), prior_b]) if start is None else np.concatenate([start[0].ravel(), start[1]])
    )
    result = minimize(objective, initial, jac=True, method="L-BFGS-B", options={"maxiter": max_iterations})
    flat = result.x
    return flat[: n_features * n_classes].reshape(n_features, n_classes), flat[n_features * n_classes :]


def fit_temperature(logits: FloatArray, right: Sequence[Sequence[int]]) -> float:
    """The temperature whose softmax gives held-out documents' acceptable classes the highest likelihood."""
    best, best_loss = 1.0, math.inf
    for temperature in _TEMPERATURES:
        probabilities = softmax(logits / temperature)
        loss = -sum(math.log(max(1e-12, float(probabilities[i, ok].sum()))) for i, ok in enumerate(right) if ok)
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def review_threshold(
    confidences: Iterable[float], correct: Iterable[bool], *, target_precision: float, floor: float
) -> float:
    """The lowest confidence at which the documents accepted (confidence >= it) are right often enough.

    Scans thresholds from the most confident document down and keeps the lowest one at which the accepted
    documents are still at least ``target_precision`` right; never below ``floor``. With nothing qualifying,
    everything goes to review (threshold above 1).
    """
    pairs = sorted(zip(confidences, correct, strict=True), key=lambda pair: -pair[0])
    chosen = math.inf
    right = 0
    for count, (confidence, ok) in enumerate(pairs, start=1):
        right += ok
        # Only cut between distinct confidences: equal scores are accepted or flagged together.
        if count < len(pairs) and pairs[count][0] == confidence:
            continue
        if right / count >= target_precision:
            chosen = confidence
    return max(floor, chosen) if chosen != math.inf else 1.01
