"""Retention classifiers, looked up by short name (``retention.classifier`` in settings).

rules       :class:`classifiers.rules.RetentionRulesClassifier`, driven by the schedule's ``rules:``
model       :class:`classifiers.combined.EmbeddingRetentionClassifier`, the sentence-embedding model alone
combined    :class:`classifiers.combined.CombinedRetentionClassifier`, rules first, then the model
evidence    :class:`classifiers.evidence.EvidenceRetentionClassifier`, decisive rules, then the evidence model
            shipped in the package (document kind, title, heading, first page, folder...); the default
"""

from __future__ import annotations

from collections.abc import Callable

from classifiers.base import RetentionClassifier
from classifiers.rules import RetentionRulesClassifier
from docintel.errors import ConfigError
from docintel.retention import RetentionSchedule

ClassifierFactory = Callable[[RetentionSchedule], RetentionClassifier]


def _embeddings(schedule: RetentionSchedule) -> RetentionClassifier:
    # Imported on demand: the model modules pull in numpy now and torch on first use.
    from classifiers.combined import EmbeddingRetentionClassifier

    return EmbeddingRetentionClassifier(schedule)


def _combined(schedule: RetentionSchedule) -> RetentionClassifier:
    from classifiers.combined import CombinedRetentionClassifier

    return CombinedRetentionClassifier(schedule)


def _evidence(schedule: RetentionSchedule) -> RetentionClassifier:
    from classifiers.evidence import EvidenceRetentionClassifier

    return EvidenceRetentionClassifier(schedule)


_FACTORIES: dict[str, ClassifierFactory] = {
    RetentionRulesClassifier.name: RetentionRulesClassifier,
    "model": _embeddings,
    "combined": _combined,
    "evidence": _evidence,
}


def register_classifier(name: str, factory: ClassifierFactory) -> None:
    """Make a classifier available under ``name``, replacing any earlier one."""
    _FACTORIES[name] = factory


def classifier_names() -> list[str]:
    """Names of the registered classifiers."""
    return sorted(_FACTORIES)


def get_classifier(name: str, schedule: RetentionSchedule) -> RetentionClassifier:
    """A new classifier of the named kind over ``schedule``; unknown names list the known ones."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ConfigError(f"unknown classifier '{name}' (known: {', '.join(classifier_names())})") from None
    return factory(schedule)


__all__ = [
    "RetentionClassifier",
    "RetentionRulesClassifier",
    "classifier_names",
    "get_classifier",
    "register_classifier",
]
