"""What a reviewer sees of a document itself: its first pages and the passages that decided its class.

The catalogue keeps no document text (at most a masked copy) and no pictures. When a reviewer allowed to see
contents opens a document's page, :class:`DocumentReader` reads the document again from its source (a local
path, or Graph through the source named in ``config/sources.yaml``), renders its first pages under a pixel
cap, and cuts the passages that decided its class out of the text by the offsets ``class_evidence`` kept.
Everything lives for one request: nothing is written to disk or the catalogue, and nothing read is logged.
When the classifier left no evidence, the page shows the title and the first lines of page 1 with the phrases
the schedule's rules look for in the predicted class highlighted.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from docintel.errors import ConfigError, DocintelError
from docintel.extract.base import FileType
from docintel.extract.pictures import RENDERABLE_TYPES, render_first_pages
from docintel.models import ClassEvidence, DocumentRecord, DocumentStatus
from docintel.pipeline import Engines, catalogued_record, extract_stage, new_record, sniff_stage
from docintel.retention import UNCLASSIFIED, ClassRules, RetentionSchedule, WeightedPattern
from docintel.settings import Settings
from docintel.sources.base import SourceConnector

log = logging.getLogger(__name__)

# Characters of text shown either side of a passage, so a reviewer reads it in its sentence.
PASSAGE_CONTEXT_CHARS = 90
# Passages shown at most: the strongest decide, the rest repeat them.
MAX_PASSAGES = 8
# The opening shown when there is no evidence: this many non-empty lines of page 1, at most this many characters.
OPENING_LINES = 12
OPENING_CHARS = 1500
LOCAL_SOURCE = "local"
# Sources catalogued from Microsoft Graph (GraphSource names its documents' source by the source's kind).
GRAPH_SOURCES = frozenset({"sharepoint", "onedrive", "mailbox"})
# Locators of attachments and archive members carry their parent's locator, then this, then the member's name.
MEMBER_SEPARATOR = "!/"

# (text, highlighted)
Segment = tuple[str, bool]
ConnectorFor = Callable[[str], SourceConnector]


@dataclass(frozen=True)
class Passage:
    """One piece of evidence shown in its context: the words that counted are the highlighted segment."""

    where: str
    feature: str
    record_class: str
    weight: float
    page: int
    segments: list[Segment]


@dataclass
class DocumentView:
    """What the page shows of the document: pictures of its first pages, passages, or its opening lines."""

    pictures: list[str] = field(default_factory=list)  # data: URIs of PNGs, never stored
    passages: list[Passage] = field(default_factory=list)
    opening: list[Segment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def source_connectors(settings: Settings) -> ConnectorFor:
    """The connector that fetches a catalogued document again, by the source the catalogue recorded.

    Local files are read from their path; SharePoint, OneDrive and mail through Graph with the tenant settings of
    ``config/sources.yaml`` and the credentials in the environment, as ``docintel crawl`` uses.
    """

    def connector_for(source: str) -> SourceConnector:
        if source == LOCAL_SOURCE:
            from docintel.sources.local import LocalFolderSource

            return LocalFolderSource([])
        from docintel.sources.graph import GraphSource, GraphSourceConfig, sources_config

        if source not in GRAPH_SOURCES:
            raise ConfigError(f"documents from source '{source}' cannot be fetched again for review")
        # A Graph document is catalogued under its kind and fetched by drive and item id: the tenant's settings
        # and credentials (environment) are all it needs, not one source's include rules.
        kind = cast(Literal["sharepoint", "onedrive", "mailbox"], source)
        graph = sources_config(settings).graph
        graph_source = GraphSource(GraphSourceConfig(name=f"review-{source}", kind=kind), graph)
        return cast(SourceConnector, graph_source)  # its name is typed as its kind (a Literal)

    return connector_for


def highlight(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    """``text`` cut into plain and highlighted segments; overlapping spans merge."""
    segments: list[Segment] = []
    position = 0
    for span_start, end in sorted(spans):
        start = max(span_start, position)
        if end <= start:
            continue
        if start > position:
            segments.append((text[position:start], False))
        segments.append((text[start:end], True))
        position = end
    if position < len(text):
        segments.append((text[position:], False))
    return segments


def rule_patterns(rules: ClassRules) -> list[re.Pattern[str]]:
    """The phrases a class's rules look for: keywords that count for it, title and decisive patterns."""
    patterns = [
        re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)", re.IGNORECASE)
        for keyword, weight in rules.keywords.items()
        if weight > 0
    ]
    for item in [*rules.title_patterns, *rules.decisive_patterns, *rules.decisive_body_patterns]:
        pattern = item.pattern if isinstance(item, WeightedPattern) else item
        patterns.append(re.compile(pattern, re.IGNORECASE | re.MULTILINE))
    return patterns


def rule_spans(text: str, patterns: list[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Where any of the patterns matches in ``text`` (empty matches left out)."""
    return [match.span() for pattern in patterns for match in pattern.finditer(text) if match.end() > match.start()]


def opening_text(record: DocumentRecord) -> str:
    """The title and the first non-empty lines of page 1, as a reviewer would glance at them."""
    first_page = record.pages[0].text if record.pages else record.text
    lines = [line.strip() for line in first_page.splitlines() if line.strip()][:OPENING_LINES]
    body = "\n".join(lines)[:OPENING_CHARS]
    title = (record.title or "").strip()
    return f"{title}\n\n{body}" if title and not body.startswith(title) else body


def _passage(evidence: ClassEvidence, text: str) -> Passage | None:
    """The evidence in its context, or None when its offsets do not fit the text (the document changed)."""
    if not 0 <= evidence.start < evidence.end <= len(text):
        return None
    before_start = max(0, evidence.start - PASSAGE_CONTEXT_CHARS)
    after_end = min(len(text), evidence.end + PASSAGE_CONTEXT_CHARS)
    # The context starts and ends on whole words.
    if before_start > 0 and (space := text.find(" ", before_start, evidence.start)) != -1:
        before_start = space + 1
    if after_end < len(text) and (space := text.rfind(" ", evidence.end, after_end)) != -1:
        after_end = space
    segments: list[Segment] = [
        (("…" if before_start else "") + text[before_start : evidence.start], False),
        (text[evidence.start : evidence.end], True),
        (text[evidence.end : after_end] + ("…" if after_end < len(text) else ""), False),
    ]
    return Passage(
        where=evidence.where,
        feature=evidence.feature,
        record_class=evidence.record_class,
        weight=evidence.weight,
        page=evidence.page,
        segments=[segment for segment in segments if segment[0]],
    )


class DocumentReader:
    """Reads a catalogued document again from its source, for one review page, and keeps nothing."""

    def __init__(
        self,
        settings: Settings,
        schedule: RetentionSchedule,
        *,
        pages: int,
        max_pixels: int,
        connector_for: ConnectorFor | None = None,
    ) -> None:
        self.settings = settings
        self.schedule = schedule
        self.pages = pages
        self.max_pixels = max_pixels
        self.connector_for = connector_for or source_connectors(settings)

    def view(self, row: Mapping[str, Any], evidence: list[ClassEvidence]) -> DocumentView:
        """Pictures, passages (or the opening with the rules' phrases) of one catalogued document."""
        view = DocumentView()
        stored = {"title": row.get("title") or "", "path": row.get("path") or "", "name": row.get("name") or ""}
        record = self._read(row, view)
        texts = dict(stored)
        if record is not None and (not row.get("sha256") or record.sha256 == row["sha256"]):
            texts["text"] = record.text  # offsets into another version's text would point at other words
        shown = 0
        for item in evidence:
            if shown >= MAX_PASSAGES:
                break
            text = texts.get(item.where)
            if text is None:
                continue
            passage = _passage(item, text)
            if passage is None:
                view.notes.append("Some passages no longer line up with the document's text and are left out.")
                continue
            view.passages.append(passage)
            shown += 1
        if not evidence and record is not None:
            opening = opening_text(record)
            record_class = row.get("record_class")
            patterns: list[re.Pattern[str]] = []
            if record_class and record_class != UNCLASSIFIED and record_class in self.schedule.ids:
                patterns = rule_patterns(self.schedule.get(record_class).rules)
            view.opening = highlight(opening, rule_spans(opening, patterns))
        view.notes = list(dict.fromkeys(view.notes))
        return view

    def _read(self, row: Mapping[str, Any], view: DocumentView) -> DocumentRecord | None:
        """The document read again (pictures added to ``view``), or None with a note saying why not."""
        if row.get("parent_id") or MEMBER_SEPARATOR in str(row["locator"]):
            view.notes.append("An attachment or archive member: open the document it is inside to see it.")
            return None
        provenance = catalogued_record(dict(row)).provenance
        try:
            content = self.connector_for(provenance.source).fetch(provenance, self.settings.limits.max_file_bytes)
        except DocintelError as error:
            log.info("document %s could not be re-read for review: %s", row["id"], error.kind)
            view.notes.append(f"The document could not be read from its source ({error.kind}).")
            return None
        record = sniff_stage(new_record(provenance), content)
        if record.status is DocumentStatus.FAILED:
            view.notes.append(f"The document could not be read ({record.error.type if record.error else 'error'}).")
            return None
        if row.get("sha256") and record.sha256 != row["sha256"]:
            view.notes.append(
                "The document has changed since it was classified: what is shown is the file today, "
                "without the passages, which were found in the earlier version."
            )
        file_type = FileType(record.file_type or FileType.UNKNOWN.value)
        if file_type in RENDERABLE_TYPES:
            try:
                pictures = render_first_pages(
                    content, file_type, pages=self.pages, max_pixels=self.max_pixels, limits=self.settings.limits
                )
            except DocintelError as error:
                view.notes.append(f"Its pages could not be drawn ({error.kind}).")
                pictures = []
            view.pictures = ["data:image/png;base64," + base64.b64encode(png).decode("ascii") for png in pictures]
        record, _ = extract_stage(record, content, Engines(self.settings))
        if record.status is DocumentStatus.FAILED:
            view.notes.append(f"Its text could not be read ({record.error.type if record.error else 'error'}).")
            return None
        log.info("document %s re-read for review (%d pictures)", row["id"], len(view.pictures))
        return record


# Model internals the classifier's explanation may carry that mean nothing to a records manager: the generated
# training documents nearest to this one.
_NEAREST_EXAMPLES = re.compile(r";?\s*nearest labelled examples: .*?(?=; terms: |; runner-up |$)")


def explanation_for_reviewers(explanation: str) -> str:
    """The classifier's explanation without its nearest generated training examples."""
    return _NEAREST_EXAMPLES.sub("", explanation).strip()
