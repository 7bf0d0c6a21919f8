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

from docintel.defaults import LABEL_SEGMENT_CACHE_SIZE
from docintel.enrich.hashing import pii_hash
from docintel.models import PiiFinding

if TYPE_CHECKING:
    from docintel.enrich.analyzer import TextAnalyzer

LabelField = Literal["name", "path", "title", "locator"]

# Characters file names use for spaces: seen as spaces by the recognizers (same length, so offsets hold).
_NAME_SEPARATORS = re.compile(r"[_+]")
# The dot before a file's extension, seen as a space too: NER misses "Olivia Smith" in "Notes on Olivia Smith.pdf".
_EXTENSION_DOT = re.compile(r"\.(?=[A-Za-z0-9]{1,5}$)")
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
        self._segments: dict[tuple[str, bool], tuple[str, list[PiiFinding]]] = {}

    def _segment(self, segment: str, file_name: bool) -> tuple[str, list[PiiFinding]]:
        """One name or path segment masked, and its findings (offsets into the segment, no field yet)."""
        cached = self._segments.get((segment, file_name))
        if cached is not None:
            return cached
        # Names spaCy recognises are findings already (PERSON), as in the text; only the findings are kept.
        # Their text (in memory only) is the separator-spaced form, so "Olivia_Smith" hashes as "Olivia Smith".
        spaced = _NAME_SEPARATORS.sub(" ", segment)
        findings = self._analyzer.analyze(spaced)[1] if segment.strip() else []
        if file_name and _EXTENSION_DOT.search(spaced):
            # NER is sensitive to what follows a name ("Olivia Smith.pdf" vs "Olivia Smith 9434765919.pdf"):
            # read the name a second time with its extension split off and keep what only that reading found.
            for extra in self._analyzer.analyze(_EXTENSION_DOT.sub(" ", spaced))[1]:
                if not any(f.start < extra.end and extra.start < f.end for f in findings):
                    findings.append(extra)
        findings.sort(key=lambda f: f.start)
        pieces, cursor = [], 0
        for finding in findings:
            if finding.start < cursor:
                continue
            pieces += [segment[cursor : finding.start], MASK_FORMAT.format(finding.entity_type)]
            cursor = finding.end
        pieces.append(segment[cursor:])
        outcome = ("".join(pieces), findings)
        if len(self._segments) >= LABEL_SEGMENT_CACHE_SIZE:
            self._segments.clear()
        self._segments[(segment, file_name)] = outcome
        return outcome

    def mask(self, label: str | None, where: LabelField) -> MaskedLabel:
        """``label`` masked segment by segment ("/" separates path and locator segments)."""
        if not label:
            return MaskedLabel(label or "")
        segments = [label] if where in ("name", "title") else label.split("/")
        masked_segments: list[str] = []
        findings: list[PiiFinding] = []
        offset = 0
        for index, segment in enumerate(segments):
            # A name, and the last segment of a locator, end in a file extension; folders and titles do not.
            file_name = where == "name" or (where == "locator" and index == len(segments) - 1)
            masked, found = self._segment(segment, file_name)
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
