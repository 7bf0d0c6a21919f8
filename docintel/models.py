"""The record that flows through the pipeline, and its parts.

Each stage takes a :class:`DocumentRecord` and returns an updated copy. The record carries the
document's identity and provenance, what each stage found, and a log of the stage runs.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DocumentStatus(StrEnum):
    """Where a document stands after a run."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    DELETED = "deleted"


class PageMethod(StrEnum):
    """How a page's text was obtained."""

    TEXT_LAYER = "text_layer"
    OCR = "ocr"


class StageStatus(StrEnum):
    """Outcome of one stage on one document."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid")


class ErrorInfo(_Model):
    """Why a document failed: the error class name and a safe message."""

    type: str
    message: str


class Provenance(_Model):
    """Where a document came from and which version of it we read."""

    source: str  # connector name: "local", "sharepoint", "onedrive", "mailbox", "mail", "child"
    locator: str  # how the connector finds it again (path, drive/item id, parent id + member)
    name: str  # file name as the source shows it
    path: str = ""  # folder path within the source, for per-folder reports
    parent_id: str | None = None  # for attachments and archive members
    drive_id: str | None = None
    item_id: str | None = None
    etag: str | None = None
    ctag: str | None = None
    web_url: str | None = None
    size: int | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    # The unmasked locator, set only when masking personal data in ``locator`` changed it (a local path or an
    # archive member named after a person): kept for re-reading the file, never exported or shown.
    source_locator: str | None = None


class Page(_Model):
    """One page (or sheet, slide, message body) of extracted text."""

    number: int  # 1-based
    text: str
    method: PageMethod = PageMethod.TEXT_LAYER
    ocr_confidence: float | None = None  # mean word confidence 0-100, OCR pages only
    start: int = 0  # offset of this page's text in DocumentRecord.text
    end: int = 0


class Entity(_Model):
    """A named entity from spaCy NER; offsets index into DocumentRecord.text."""

    label: str
    start: int
    end: int
    text: str
    page: int | None = None
    value_hash: str | None = None  # keyed hash of the normalised text; the catalogue never stores text


class PiiFinding(_Model):
    """A piece of personal data; ``text`` lives in memory only, the catalogue stores ``value_hash``."""

    entity_type: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = None
    value_hash: str | None = None  # HMAC-SHA256 of the normalised value
    recognizer: str | None = None
    # The string the offsets index: the text, or the file name, folder path, title (e-mail subject) or locator,
    # which the catalogue keeps masked.
    field: Literal["text", "name", "path", "title", "locator"] = "text"


class Retention(_Model):
    """What the retention schedule says about this document."""

    period: str  # human form, e.g. "6 years", "permanent", "DOB + 75 years"
    trigger: str  # e.g. "end_of_financial_year", "expiry", "closure", "date_of_birth", "creation"
    action: str  # "destroy", "review", "transfer_to_archive", "retain"
    disposal_date: dt.date | None = None  # None when permanent or the trigger date is unknown
    authority: str | None = None


class ClassEvidence(_Model):
    """One passage that weighed in a classification: where it is, never its words, and what it counted for."""

    where: Literal["title", "text", "path", "name"]  # the document's title, its text, its folder path, its file name
    page: int = 0  # 1-based page of `start` in the text; 0 when `where` is not "text" or the text has no pages
    start: int  # character offsets into that string (the text as extracted, the title, the path or the name)
    end: int
    record_class: str  # the class this passage counted for
    feature: str  # what the passage is, in the classifier's terms, e.g. "title phrase", "heading", "document kind"
    weight: float  # how much it counted, in the classifier's own units (larger counts more)


class Classification(_Model):
    """The retention class a classifier chose, how sure it is, and why."""

    record_class: str
    confidence: float
    explanation: str
    classifier: str = ""
    retention: Retention | None = None
    needs_review: bool = False  # confidence below the review threshold: the class is a suggestion, not a decision
    evidence: list[ClassEvidence] = Field(default_factory=list)  # the passages that decided, strongest first


class StageRun(_Model):
    """One stage's run on one document: what ran, how long, and how it ended."""

    stage: str
    component: str
    version: str = ""
    started_at: dt.datetime
    seconds: float
    status: StageStatus
    error: ErrorInfo | None = None


class Attachment(_Model):
    """A child document found inside another (mail attachment, archive member)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    content: bytes
    modified_at: dt.datetime | None = None


class Extraction(_Model):
    """What an extractor returns: pages of text, child documents and document metadata."""

    pages: list[Page] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    title: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    component: str = ""
    notes: list[str] = Field(default_factory=list)  # non-fatal issues, e.g. "3 pages truncated"


class DocumentRecord(_Model):
    """A document and everything the pipeline learned about it."""

    id: str
    provenance: Provenance
    sha256: str | None = None
    size: int | None = None
    mime_type: str | None = None
    file_type: str | None = None
    status: DocumentStatus = DocumentStatus.PENDING
    error: ErrorInfo | None = None
    title: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    pages: list[Page] = Field(default_factory=list)
    text: str = ""
    entities: list[Entity] = Field(default_factory=list)
    pii: list[PiiFinding] = Field(default_factory=list)
    classification: Classification | None = None
    children: list[DocumentRecord] = Field(default_factory=list)
    stage_runs: list[StageRun] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    depth: int = 0  # 0 for top-level documents, +1 per attachment / archive level
    # MinHash of the text (64 ints, classifiers.signals.text_signature) for near-duplicate detection: the
    # catalogue keeps this, never the text. None when the document has no words or was not read.
    minhash: list[int] | None = None
    # The text with every personal-data finding and name masked, offsets unchanged: set by the enrich stage
    # only when catalogue.keep_text is on and the whole kept text was searched for personal data.
    kept_text: str | None = None
    # The year of the latest date of birth found in the text (the youngest person), set by the retain stage: the
    # catalogue keeps this year alone, never the date, so a "DOB + N years" class keeps a date after review.
    birth_year: int | None = None

    def page_at(self, offset: int) -> int | None:
        """The page number holding a text offset, or None when the text has no pages."""
        for page in self.pages:
            if page.start <= offset < max(page.end, page.start + 1):
                return page.number
        return self.pages[-1].number if self.pages else None


PAGE_SEPARATOR = "\n\n"


def join_pages(pages: list[Page]) -> tuple[list[Page], str]:
    """Concatenate page texts with a separator and set each page's offsets into the whole."""
    parts: list[str] = []
    placed: list[Page] = []
    offset = 0
    for page in pages:
        if parts:
            parts.append(PAGE_SEPARATOR)
            offset += len(PAGE_SEPARATOR)
        parts.append(page.text)
        placed.append(page.model_copy(update={"start": offset, "end": offset + len(page.text)}))
        offset += len(page.text)
    return placed, "".join(parts)
