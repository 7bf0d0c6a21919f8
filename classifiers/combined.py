"""The combined retention classifier: explicit rules first, the embedding model for everything else.

    a decisive rule matched (e.g. an out-of-office reply)                         -> its class, the rule named
    rules result strong (confidence >= strong_rule_confidence, a specific class)  -> the rule wins, named
    an email the model cannot read (another language, no body, broken encoding)   -> the rules' class (transitory
                                                                                     unless a weak rule names one),
                                                                                     needs review
    otherwise                                                                     -> the model's class, with the
                                                                                     nearest labelled examples and
                                                                                     the terms behind it
    model confidence < review_threshold, or a document the model cannot read      -> class kept, needs_review set,
                                                                                     "needs review" in the text

Retention and disposal dates are not chosen here: the pipeline's retain stage (docintel.retention.retain) sets
them after classify, for every classifier and for reviewers alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from classifiers.config import ClassifierConfig, load_classifier_config
from classifiers.embeddings import EmbeddingHead, Prediction, TextEncoder, encoder_for, known_words, record_input
from classifiers.rules import RetentionRulesClassifier
from classifiers.structure import file_type_of, is_email, readable_words, without_mail_headers
from docintel.errors import ClassificationError
from docintel.models import Classification, DocumentRecord
from docintel.retention import (
    TRANSITORY_CORRESPONDENCE,
    UNCLASSIFIED,
    RetentionSchedule,
)

logger = logging.getLogger(__name__)

NEEDS_REVIEW = "needs review"

_HEADS: dict[tuple[Path, tuple[str, ...], str, float, float], EmbeddingHead] = {}
_HEADS_LOCK = threading.Lock()


def _drop_head_cache() -> None:
    """Forget loaded heads (after training writes a new one)."""
    with _HEADS_LOCK:
        _HEADS.clear()


def load_or_train_head(
    schedule: RetentionSchedule, config: ClassifierConfig, encoder: TextEncoder | None = None
) -> EmbeddingHead:
    """The head at ``config.head_path``, loaded once per process; trained from the shipped set when missing.

    A head trained on another encoder's vectors (another ``encoder`` setting or token budget) is refused.
    """
    path = config.head_path
    encoder = encoder or encoder_for(config)
    identity = encoder.identity
    key = (path.resolve(), tuple(schedule.ids), identity, config.zero_shot_scale, config.zero_shot_bias)
    with _HEADS_LOCK:
        head = _HEADS.get(key)
        if head is not None:
            return head
        if path.is_file():
            head = EmbeddingHead.load(path)
            if head.encoder != identity:
                raise ClassificationError(
                    f"{path}: head trained on '{head.encoder}', the configuration selects '{identity}': "
                    "run `docintel train`"
                )
        else:
            from classifiers.train import train_from_shipped_set

            logger.warning("no trained classifier head at %s: training one from the shipped set", path)
            head = train_from_shipped_set(schedule, config, encoder)
            head.save(path)
        unknown = [class_id for class_id in head.class_ids if class_id not in schedule.ids]
        if unknown:
            raise ClassificationError(
                f"{path}: head trained for classes the schedule lacks ({', '.join(unknown)}): run `docintel train`"
            )
        # The configuration, not the file, says how zero-shot classes score: tuning needs no retraining.
        head.zero_shot_scale, head.zero_shot_bias = config.zero_shot_scale, config.zero_shot_bias
        _add_missing_zero_shot(head, schedule, encoder)
        _HEADS[key] = head
        return head


def _add_missing_zero_shot(head: EmbeddingHead, schedule: RetentionSchedule, encoder: TextEncoder) -> None:
    """Classes added to the schedule since training are scored zero-shot until the next training."""
    import numpy as np

    from classifiers.embeddings import class_description

    covered = set(head.class_ids) | set(head.zero_shot_ids) | {UNCLASSIFIED}
    missing = [class_id for class_id in schedule.ids if class_id not in covered]
    if missing:
        vectors = encoder.encode([class_description(schedule, class_id) for class_id in missing])
        head.zero_shot_ids = head.zero_shot_ids + missing
        head.zero_shot_vectors = np.concatenate([head.zero_shot_vectors, vectors], axis=0)
        logger.info("%d schedule classes have no trained head yet: scored zero-shot", len(missing))


class EmbeddingRetentionClassifier:
    """The embedding model alone: class, calibrated confidence, nearest examples and terms; flags low confidence."""

    name = "model"
    version = "1"

    def __init__(self, schedule: RetentionSchedule, config: ClassifierConfig | None = None) -> None:
        self._schedule = schedule
        self.config = config or load_classifier_config()
        self._encoder = encoder_for(self.config)

    @property
    def head(self) -> EmbeddingHead:
        """The trained head (loaded or trained on first use, then cached for the process)."""
        return load_or_train_head(self._schedule, self.config, self._encoder)

    def warm(self) -> None:
        """Load the model and the head now (workers call this before forking)."""
        self._encoder.warm()
        _ = self.head

    def predict(self, records: Sequence[DocumentRecord]) -> list[Prediction]:
        """Model predictions for records, embedded in batches."""
        head = self.head
        inputs = [record_input(record, text_chars=head.text_chars) for record in records]
        vectors = self._encoder.encode(inputs, batch_size=self.config.batch_size)
        return head.predict(vectors, inputs)

    def classify(self, record: DocumentRecord) -> Classification:
        """The model's class for one record."""
        return self.classify_batch([record])[0]

    def classify_batch(self, records: Sequence[DocumentRecord]) -> list[Classification]:
        """The model's class for each record (one batched embedding pass)."""
        return [
            self._classification(record, prediction.record_class, prediction.confidence, prediction.explain())
            for record, prediction in zip(records, self.predict(records), strict=True)
        ]

    def _classification(self, record: DocumentRecord, class_id: str, confidence: float, why: str) -> Classification:
        needs_review = confidence < self.config.review_threshold
        if needs_review:
            why = f"{NEEDS_REVIEW} (confidence {confidence:.2f} < {self.config.review_threshold:.2f}): {why}"
        return Classification(
            record_class=class_id,
            confidence=confidence,
            explanation=why,
            classifier=self.name,
            needs_review=needs_review,
        )


class CombinedRetentionClassifier:
    """Rules first (a strong rule wins and is named), then the embedding model; low confidence needs review."""

    name = "combined"
    version = "1"

    def __init__(self, schedule: RetentionSchedule, config: ClassifierConfig | None = None) -> None:
        self._schedule = schedule
        self.config = config or load_classifier_config()
        self.rules = RetentionRulesClassifier(schedule)
        self.model = EmbeddingRetentionClassifier(schedule, self.config)
        self._known: tuple[EmbeddingHead, frozenset[str]] | None = None

    def warm(self) -> None:
        """Load the embedding model and head now."""
        self.model.warm()

    def classify(self, record: DocumentRecord) -> Classification:
        """The class for one record."""
        return self.classify_batch([record])[0]

    def classify_batch(self, records: Sequence[DocumentRecord]) -> list[Classification]:
        """Classes for many records; only those without a strong rule go through the model, in one batch."""
        results: list[Classification | None] = [None] * len(records)
        ruled: dict[int, Classification] = {}
        pending: list[int] = []
        unreadable: dict[int, str] = {}
        for index, record in enumerate(records):
            decided = self.rules.decisive(record)
            if decided is not None:
                results[index] = self._from_rule(record, decided)
                continue
            rule = ruled[index] = self.rules.classify_by_evidence(record)
            if self._is_strong(rule):
                results[index] = self._from_rule(record, rule)
                continue
            reason = self._unreadable(record)
            if reason is not None and is_email(file_type_of(record)):
                # The model would only guess: the schedule's default for a message stands (transitory unless
                # weak rule evidence names a class), for a reviewer to confirm.
                results[index] = self._unread_email(record, rule, reason)
                continue
            if reason is not None:
                unreadable[index] = reason
            pending.append(index)
        if pending:
            predictions = self.model.predict([records[index] for index in pending])
            for index, prediction in zip(pending, predictions, strict=True):
                results[index] = self._from_model(records[index], ruled[index], prediction, unreadable.get(index))
        return [result for result in results if result is not None]

    def _unreadable(self, record: DocumentRecord) -> str | None:
        """Why the model cannot read the record (too few words it knows), or None when it can."""
        text = f"{record.title or ''}\n{without_mail_headers(record.text)[: self.config.text_chars]}"
        known, total = readable_words(text, self._vocabulary())
        if known < self.config.readable_min_words or known < self.config.readable_min_share * total:
            return f"little readable text ({known} of {total} words known to the model)"
        return None

    def _vocabulary(self) -> frozenset[str]:
        """Words the model reads: whole words of its WordPiece vocabulary and the head's lexical terms."""
        head = self.model.head
        if self._known is None or self._known[0] is not head:
            single = (term for term in head.lexical_terms if " " not in term)
            self._known = (head, known_words() | frozenset(single))
        return self._known[1]

    def _unread_email(self, record: DocumentRecord, rule: Classification, reason: str) -> Classification:
        why = f"{NEEDS_REVIEW}: {reason}; rules: {rule.explanation}"
        return Classification(
            record_class=rule.record_class,
            confidence=min(rule.confidence, self.config.review_threshold),
            explanation=why,
            classifier=self.name,
            needs_review=True,
        )

    def _is_strong(self, rule: Classification) -> bool:
        specific = rule.record_class not in (UNCLASSIFIED, TRANSITORY_CORRESPONDENCE)
        return specific and rule.confidence >= self.config.strong_rule_confidence

    def _from_rule(self, record: DocumentRecord, rule: Classification) -> Classification:
        return Classification(
            record_class=rule.record_class,
            confidence=rule.confidence,
            explanation=f"rule: {rule.explanation}",
            classifier=self.name,
        )

    def _from_model(
        self, record: DocumentRecord, rule: Classification, prediction: Prediction, unreadable: str | None = None
    ) -> Classification:
        class_id, confidence = prediction.record_class, prediction.confidence
        why = prediction.explain()
        if rule.record_class == class_id and rule.record_class != UNCLASSIFIED:
            # Weak rule evidence that agrees with the model is a second opinion: keep the surer of the two.
            confidence = max(confidence, rule.confidence)
            why += f"; rules agree ({rule.explanation})"
        elif rule.record_class != UNCLASSIFIED and rule.confidence > 0:
            why += f"; weak rule evidence for {rule.record_class} ({rule.confidence:.2f})"
        needs_review = confidence < self.config.review_threshold
        if unreadable is not None:
            needs_review = True
            why = f"{NEEDS_REVIEW}: {unreadable}: {why}"
        elif needs_review:
            why = f"{NEEDS_REVIEW} (confidence {confidence:.2f} < {self.config.review_threshold:.2f}): {why}"
        return Classification(
            record_class=class_id,
            confidence=round(confidence, 3),
            explanation=why,
            classifier=self.name,
            needs_review=needs_review,
        )
