"""The source connector interface: discover documents, then fetch their bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Protocol

from docintel.models import Provenance


def document_id(source: str, locator: str) -> str:
    """A stable id for a document: the same source and locator always give the same id."""
    return hashlib.sha256(f"{source}\x00{locator}".encode()).hexdigest()[:32]


class SourceConnector(Protocol):
    """Lists documents in a source and fetches their content."""

    name: str

    def discover(self) -> Iterator[Provenance]:
        """Yield the provenance of every document the source holds."""
        ...

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """The document's bytes; TooLarge when over ``max_bytes``, SourceError when unreachable."""
        ...


class ContentFetcher(Protocol):
    """Reads a discovered document's bytes again: what a crawled document's fetch stage needs of its source."""

    @property
    def name(self) -> str:
        """The source's name."""
        ...

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """The document's bytes; TooLarge when over ``max_bytes``, SourceError when unreachable."""
        ...
