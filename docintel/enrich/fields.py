"""Personal data in a document's own labels: its file name, folder path, title (an e-mail's subject) and locator.

The same recognizers as for the text (:class:`docintel.enrich.analyzer.TextAnalyzer`) run over each label,
one path segment at a time; every value found is replaced by its type (``Letter to <PERSON> re <UK_NHS>.pdf``)
and kept as a finding with its keyed hash, so a subject-access search still finds a document by an
identifier that appears only in its name. The unmasked strings stay in memory only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from docintel.enrich.hashing import pii_hash
from docintel.models import PiiFinding

if TYPE_CHECKING:
    from docintel.enrich.analyzer import TextAnalyzer

LabelField = Literal["name", "path", "title", "locator"]

# Characters file names use for spaces: seen as spaces by the recognizers (same length, so offsets hold).
_NAME_SEPARATORS = re.compile(r"[_+]")
# Distinct path segments whose outcome is remembered per process: folders repeat across thousands of files.
SEGMENT_CACHE_SIZE = 10_000
# What a masked value becomes: its entity type, as in the subject-access snippets.
MASK_FORMAT = "<{}>"


@dataclass(frozen=True)
class MaskedLabel:
    """A label with its personal data replaced by types, and the findings (offsets into the unmasked label)."""

    masked: str
    findings: list[PiiFinding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was masked."""
        return bool(self.findings)


class LabelMasker:
    """Masks personal data in names, paths, titles and locators with the text's recognizers."""

    def __init__(self, analyzer: TextAnalyzer, key: bytes) -> None:
        self._analyzer = analyzer
        self._key = key
        self._segments: dict[str, tuple[str, list[PiiFinding]]] = {}

    def _segment(self, segment: str) -> tuple[str, list[PiiFinding]]:
        """One name or path segment masked, and its findings (offsets into the segment, no field yet)."""
        cached = self._segments.get(segment)
        if cached is not None:
            return cached
        # Names spaCy recognises are findings already (PERSON), as in the text; only the findings are kept.
        # Their text (in memory only) is the separator-spaced form, so "Olivia_Smith" hashes as "Olivia Smith".
        findings = self._analyzer.analyze(_NAME_SEPARATORS.sub(" ", segment))[1] if segment.strip() else []
        findings.sort(key=lambda f: f.start)
        pieces, cursor = [], 0
        for finding in findings:
            if finding.start < cursor:
                continue
            pieces += [segment[cursor : finding.start], MASK_FORMAT.format(finding.entity_type)]
            cursor = finding.end
        pieces.append(segment[cursor:])
        outcome = ("".join(pieces), findings)
        if len(self._segments) >= SEGMENT_CACHE_SIZE:
            self._segments.clear()
        self._segments[segment] = outcome
        return outcome

    def mask(self, label: str | None, where: LabelField) -> MaskedLabel:
        """``label`` masked segment by segment ("/" separates path and locator segments)."""
        if not label:
            return MaskedLabel(label or "")
        segments = [label] if where in ("name", "title") else label.split("/")
        masked_segments: list[str] = []
        findings: list[PiiFinding] = []
        offset = 0
        for segment in segments:
            masked, found = self._segment(segment)
            masked_segments.append(masked)
            for finding in found:
                findings.append(
                    finding.model_copy(
                        update={
                            "start": finding.start + offset,
                            "end": finding.end + offset,
                            "field": where,
                            "page": None,
                            "value_hash": pii_hash(finding.entity_type, finding.text, self._key),
                        }
                    )
                )
            offset += len(segment) + 1
        return MaskedLabel("/".join(masked_segments), findings)
