"""The evidence classifier: document kind, title, heading, first page, folder, file type and language, weighed.

    a decisive rule of the schedule matched (e.g. an out-of-office reply)  -> its class, the rule named
    otherwise                                                                -> the evidence model's class, with
                                                                                the passages that decided it
    confidence below the model's calibrated review threshold                 -> class kept, needs_review set

The model (:mod:`classifiers.linear`) ships inside the package (``classifiers/data/evidence-model.npz``):
feature names, weights and calibration, built by ``bench/classify.py --write-shipped`` from the real
uk-council-dev documents and the generated set; it holds no document and no text. ``docintel train`` learns
reviewers' approved decisions on top of it and writes ``evidence.model_path``, which is read instead when
present. Nothing is downloaded or trained on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.config import ClassifierConfig, EvidenceSettings, load_classifier_config
from classifiers.cues import Features, describe_feature, document_features
from classifiers.linear import EvidenceModel, design_matrix, fit, fit_temperature, review_threshold, targets, vocabulary
from classifiers.rules import RetentionRulesClassifier
from docintel.errors import ClassificationError
from docintel.models import ClassEvidence, Classification, DocumentRecord
from docintel.retention import UNCLASSIFIED, RetentionSchedule

logger = logging.getLogger(__name__)

SHIPPED_MODEL = Path(__file__).resolve().parent / "data" / "evidence-model.npz"
NEEDS_REVIEW = "needs review"
# Passages an explanation names and a classification's evidence lists at most.
_EXPLAIN_FEATURES = 4
_EVIDENCE_PASSAGES = 8
# Group of the generated documents when the vocabulary counts organisations: each template style is a writer.
GENERATED_GROUP = "generated"

# Document kinds that, named in the title or file name, settle which classes a document can be: a records
# manager reading "Standing Orders" on the cover does not file it as minutes however often the text says
# "meeting". The model chooses among these classes only; words elsewhere cannot overrule the title.
TITLE_KINDS: dict[str, tuple[str, ...]] = {
    "minutes": ("governance.committee", "governance.management_minutes", "meetings.team_notes"),
    "agenda": ("governance.committee", "governance.management_minutes", "meetings.team_notes"),
    "statement of accounts": ("finance.budget",),
    "bank reconciliation": ("finance.budget",),
    "budget": ("finance.budget",),
    "standing orders": ("policy.corporate",),
    "financial regulations": ("policy.corporate",),
    "code of conduct": ("policy.corporate",),
    "constitution": ("policy.corporate",),
    "policy": ("policy.corporate", "risk.register", "hr.personnel", "health_safety.inspection"),
    "privacy": ("policy.corporate",),
    "invoice": ("finance.invoice",),
    "purchase order": ("finance.invoice",),
    "newsletter": ("correspondence.transitory",),
    "freedom of information": ("foi.request", "complaints.case"),
    "decision notice": ("foi.request", "complaints.case", "planning.decision"),
    "planning decision": ("planning.decision",),
}

_MODELS: dict[tuple[Path, float], EvidenceModel] = {}
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LabelledDocument:
    """A document to learn from: the record, the classes a records manager accepts (first = most likely)."""

    record: DocumentRecord
    classes: tuple[str, ...]
    group: str  # the organisation that wrote it (GENERATED_GROUP-... for the generated set)
    weight: float = 1.0


def model_file(settings: EvidenceSettings) -> Path:
    """The model to classify with: the one `docintel train` wrote, else the shipped one."""
    return settings.model_path if settings.model_path.is_file() else SHIPPED_MODEL


def load_model(path: Path) -> EvidenceModel:
    """The evidence model at ``path``, read once per process (until the file changes)."""
    if not path.is_file():
        raise ClassificationError(f"{path}: no evidence model (the package ships one; run `docintel train`)")
    key = (path.resolve(), path.stat().st_mtime)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = EvidenceModel.load(path)
            _MODELS.clear()
            _MODELS[key] = model
        return model


class EvidenceRetentionClassifier:
    """Weighs what a document shows (kind, title, heading, first page, folder...) and names the passages."""

    name = "evidence"
    version = "1"

    def __init__(
        self,
        schedule: RetentionSchedule,
        config: ClassifierConfig | None = None,
        model: EvidenceModel | None = None,
    ) -> None:
        self._schedule = schedule
        self.config = config or load_classifier_config()
        self.rules = RetentionRulesClassifier(schedule)
        self._model = model

    @property
    def model(self) -> EvidenceModel:
        """The evidence model (given, trained by `docintel train`, or shipped)."""
        return self._model or load_model(model_file(self.config.evidence))

    def warm(self) -> None:
        """Load the model now (workers call this before forking)."""
        _ = self.model

    def classify(self, record: DocumentRecord) -> Classification:
        """The class for one record."""
        return self.classify_batch([record])[0]

    def classify_batch(self, records: Sequence[DocumentRecord]) -> list[Classification]:
        """The class for each record."""
        model = self.model
        usable = np.array([class_id in self._schedule.ids for class_id in model.classes])
        if not usable.any():
            raise ClassificationError("the evidence model shares no class with the schedule: run `docintel train`")
        results: list[Classification] = []
        for record in records:
            decided = self.rules.decisive(record)
            if decided is not None:
                results.append(self._from_rule(record, decided))
                continue
            features = document_features(record)
            logits = model.logits([features.values])[0] / model.temperature
            logits[~usable] = -np.inf
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            order = np.argsort(-probabilities)
            title_kinds = _title_kinds(features)
            allowed = {class_id for kind in title_kinds for class_id in TITLE_KINDS[kind]}
            settled = None
            if allowed and model.classes[int(order[0])] not in allowed:
                choices = [int(j) for j in order if model.classes[int(j)] in allowed]
                if choices:
                    # The title settles the class; its probability stays the model's, so it is flagged unless sure.
                    settled = title_kinds
                    order = np.array([choices[0], *(int(j) for j in order if int(j) != choices[0])])
            result = self._from_model(record, features, model, int(order[0]), int(order[1]), probabilities, settled)
            results.append(result)
        return results

    def _from_rule(self, record: DocumentRecord, rule: Classification) -> Classification:
        # Dates are the retain stage's (docintel.retention.retain), after classify: a classifier sets none.
        return Classification(
            record_class=rule.record_class,
            confidence=rule.confidence,
            explanation=f"rule: {rule.explanation}",
            classifier=self.name,
        )

    def _from_model(  # noqa: PLR0917 (one call site, every argument named by position there)
        self,
        record: DocumentRecord,
        features: Features,
        model: EvidenceModel,
        best: int,
        second: int,
        probabilities: np.ndarray,
        settled_by: list[str] | None = None,
    ) -> Classification:
        class_id = model.classes[best]
        confidence = float(probabilities[best])
        pushes = model.contributions(features.values, best, second)
        if settled_by:
            # The title's kind decided: it leads the evidence, above anything the words weighed.
            top = max((push for _, push in pushes), default=0.0) + 1.0
            pushes = [(f"kind:{kind}@title", top) for kind in settled_by] + [
                (name, push) for name, push in pushes if not any(name == f"kind:{k}@title" for k in settled_by)
            ]
        evidence = [
            ClassEvidence(
                where=span.where,
                page=(record.page_at(span.start) or 0) if span.where == "text" else 0,
                start=span.start,
                end=span.end,
                record_class=class_id,
                feature=" in the ".join(part for part in describe_feature(name) if part),
                weight=round(push, 3),
            )
            for name, push in pushes
            if (span := features.spans.get(name)) is not None
        ][:_EVIDENCE_PASSAGES]
        reasons: list[str] = []
        for item in evidence:
            if item.feature not in reasons:
                reasons.append(item.feature)
        why = "; ".join(reasons[:_EXPLAIN_FEATURES]) or "no telling passage: the most common class for documents alike"
        threshold = model.review_threshold
        needs_review = confidence < threshold or not evidence or class_id == UNCLASSIFIED
        runner_up = model.classes[second]
        if needs_review:
            why = (
                f"{NEEDS_REVIEW} (confidence {confidence:.2f}, accepted from {threshold:.2f}; "
                f"next {runner_up} {float(probabilities[second]):.2f}): {why}"
            )
        else:
            why = f"{why} (confidence {confidence:.2f}, accepted from {threshold:.2f})"
        return Classification(
            record_class=class_id,
            confidence=round(confidence, 3),
            explanation=f"evidence: {why}",
            classifier=self.name,
            needs_review=needs_review,
            evidence=evidence,
        )


def _title_kinds(features: Features) -> list[str]:
    """The settling document kinds the title or file name names."""
    return [kind for kind in TITLE_KINDS if f"kind:{kind}@title" in features.values]


def _rows(documents: Sequence[LabelledDocument]) -> list[dict[str, float]]:
    return [document_features(document.record).values for document in documents]


def _vocabulary_groups(documents: Sequence[LabelledDocument]) -> list[str]:
    return [document.group for document in documents]


def fit_model(
    documents: Sequence[LabelledDocument],
    settings: EvidenceSettings,
    rows: Sequence[dict[str, float]] | None = None,
    near: EvidenceModel | None = None,
) -> EvidenceModel:
    """A model fitted on ``documents`` (no calibration: temperature 1, the default review threshold).

    ``near``: a model fitted on similar data, where the search starts (same answer, found faster).
    """
    rows = list(rows) if rows is not None else _rows(documents)
    features = vocabulary(rows, _vocabulary_groups(documents), min_documents=settings.min_documents)
    classes = sorted({class_id for document in documents for class_id in document.classes})
    matrix = design_matrix(rows, features)
    soft = targets([d.classes for d in documents], classes, settings.first_class_share)
    start = None
    if near is not None:
        start_weights = np.zeros((len(features), len(classes)))
        start_bias = np.zeros(len(classes))
        columns = [(j, near.classes.index(c)) for j, c in enumerate(classes) if c in near.classes]
        for i, name in enumerate(features):
            row = near.index.get(name)
            if row is not None:
                for j, k in columns:
                    start_weights[i, j] = near.weights[row, k]
        for j, k in columns:
            start_bias[j] = near.bias[k]
        start = (start_weights, start_bias)
    weights, bias = fit(matrix, soft, np.array([d.weight for d in documents]), l2=settings.l2, start=start)
    return EvidenceModel(features=features, classes=classes, weights=weights, bias=bias)


def calibrate(
    documents: Sequence[LabelledDocument],
    settings: EvidenceSettings,
    rows: Sequence[dict[str, float]] | None = None,
    near: EvidenceModel | None = None,
) -> tuple[float, float, dict[str, float]]:
    """Temperature and review threshold from organisation-grouped folds over the real documents given.

    Each real organisation's documents are scored by a model trained without that organisation (generated
    documents always train); the temperature and threshold are fitted on those held-out scores only. Returns
    (temperature, threshold, figures of the held-out scores).
    """
    rows = list(rows) if rows is not None else _rows(documents)
    real_groups = sorted({d.group for d in documents if not d.group.startswith(GENERATED_GROUP)})
    if len(real_groups) < 2:
        return 1.0, settings.min_review_threshold, {}
    folds = min(settings.calibration_folds, len(real_groups))
    # Deterministic spread of organisations over folds: biggest first, each to the emptiest fold.
    sizes = {group: sum(d.group == group for d in documents) for group in real_groups}
    fold_of: dict[str, int] = {}
    load = [0] * folds
    for group in sorted(real_groups, key=lambda g: (-sizes[g], g)):
        target = load.index(min(load))
        fold_of[group] = target
        load[target] += sizes[group]
    held_logits: list[np.ndarray] = []
    held_ok: list[list[int]] = []
    held_classes: list[list[str]] = []
    for fold in range(folds):
        train = [i for i, d in enumerate(documents) if fold_of.get(d.group, -1) != fold]
        test = [i for i, d in enumerate(documents) if fold_of.get(d.group, -1) == fold]
        if not test:
            continue
        model = fit_model([documents[i] for i in train], settings, [rows[i] for i in train], near)
        logits = model.logits([rows[i] for i in test])
        for k, i in enumerate(test):
            held_logits.append(logits[k])
            held_ok.append([model.classes.index(c) for c in documents[i].classes if c in model.classes])
            held_classes.append(model.classes)
    # Folds can know different classes; pad every row to the union, unknown classes never chosen.
    union = sorted({c for classes in held_classes for c in classes})
    padded = np.full((len(held_logits), len(union)), -1e9)
    ok_union: list[list[int]] = []
    for k, (logit, classes, ok) in enumerate(zip(held_logits, held_classes, held_ok, strict=True)):
        columns = [union.index(c) for c in classes]
        padded[k, columns] = logit
        ok_union.append([union.index(classes[j]) for j in ok])
    temperature = fit_temperature(padded, ok_union)
    from classifiers.linear import softmax

    probabilities = softmax(padded / temperature)
    chosen = probabilities.argmax(axis=1)
    confidences = probabilities.max(axis=1)
    correct = [int(c) in ok for c, ok in zip(chosen, ok_union, strict=True)]
    threshold = review_threshold(
        confidences.tolist(),
        correct,
        target_precision=settings.target_precision,
        floor=settings.min_review_threshold,
    )
    accepted = confidences >= threshold
    figures = {
        "held_out_documents": float(len(correct)),
        "held_out_accuracy": float(np.mean(correct)),
        "held_out_accepted_share": float(accepted.mean()),
        "held_out_accepted_precision": float(np.mean(np.array(correct)[accepted])) if accepted.any() else 0.0,
    }
    return temperature, threshold, figures


def train_model(documents: Sequence[LabelledDocument], settings: EvidenceSettings) -> EvidenceModel:
    """Fit on every document given and calibrate on organisation-grouped folds of the real ones."""
    rows = _rows(documents)
    model = fit_model(documents, settings, rows)
    temperature, threshold, figures = calibrate(documents, settings, rows, near=model)
    model.temperature, model.review_threshold = temperature, threshold
    real = sorted({d.group for d in documents if not d.group.startswith(GENERATED_GROUP)})
    model.info = {
        "real_documents": str(sum(not d.group.startswith(GENERATED_GROUP) for d in documents)),
        "real_organisations": str(len(real)),
        "generated_documents": str(sum(d.group.startswith(GENERATED_GROUP) for d in documents)),
        **{key: f"{value:.4f}" for key, value in figures.items()},
    }
    return model


def learn_from_reviews(
    model: EvidenceModel, reviewed: Sequence[LabelledDocument], settings: EvidenceSettings
) -> EvidenceModel:
    """The model adjusted to reviewers' decisions: weights pulled towards the given model, not refitted.

    Features the reviewed documents share (at least two of them) join the vocabulary, starting at zero, so a
    council's own wording (its folder names, its headings) is learnt; calibration is kept.
    """
    if not reviewed:
        return model
    rows = _rows(reviewed)
    counts: dict[str, int] = {}
    for row in rows:
        for name in row:
            counts[name] = counts.get(name, 0) + 1
    new = sorted(name for name, count in counts.items() if count >= 2 and name not in model.index)
    classes = list(model.classes) + sorted(
        {c for d in reviewed for c in d.classes if c not in model.classes and c != UNCLASSIFIED}
    )
    features = list(model.features) + new
    prior_weights = np.zeros((len(features), len(classes)))
    prior_weights[: len(model.features), : len(model.classes)] = model.weights
    prior_bias = np.full(len(classes), -5.0)
    prior_bias[: len(model.classes)] = model.bias
    reviewed = [d for d in reviewed if any(c in classes for c in d.classes)]
    matrix = design_matrix(_rows(reviewed), features)
    soft = targets([d.classes for d in reviewed], classes, settings.first_class_share)
    weights, bias = fit(
        matrix,
        soft,
        np.array([d.weight for d in reviewed]),
        l2=settings.review_l2,
        prior_weights=prior_weights,
        prior_bias=prior_bias,
        bias_l2_share=1.0,
    )
    info = {**model.info, "reviewed_documents": str(len(reviewed))}
    return EvidenceModel(
        features=features,
        classes=classes,
        weights=weights,
        bias=bias,
        temperature=model.temperature,
        review_threshold=model.review_threshold,
        info=info,
    )
