"""The retention classifier interface: a named component that maps a document to a retention class."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from docintel.models import Classification, DocumentRecord


@runtime_checkable
class RetentionClassifier(Protocol):
    """Chooses a retention class for a document, with a confidence, an explanation and the retention."""

    name: str

    def classify(self, record: DocumentRecord) -> Classification:
        """The class this record belongs to; never None (``unclassified`` when nothing fits)."""
        ...
