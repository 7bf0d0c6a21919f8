"""Personal-data detection settings (``config/pii.yaml``) and the step from Presidio results to findings."""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from docintel.enrich.hashing import normalise
from docintel.enrich.stack import import_nlp_stack
from docintel.errors import ConfigError
from docintel.models import PiiFinding
from docintel.settings import load_yaml_file

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerResult

logger = logging.getLogger(__name__)


class RecognizerSpec(BaseModel):
    """How one recognizer loads: on or off, its threshold, context words and base score."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    context: list[str] | None = None
    score: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("context")
    @classmethod
    def _single_words(cls, words: list[str] | None) -> list[str] | None:
        # Presidio compares each context word with one lemma at a time: "sort code" could never match.
        if words is not None:
            phrases = [word for word in words if len(word.split()) != 1]
            if phrases:
                raise ValueError(f"context words must be single words, not phrases: {phrases}")
        return words


class PiiConfig(BaseModel):
    """The recognizers to load and the default score a finding needs."""

    model_config = ConfigDict(extra="forbid")

    language: str = "en"
    default_score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    context_window: int = Field(default=8, ge=0)  # words before a match searched for context words
    context_suffix_window: int = Field(default=2, ge=0)  # words after ("07700 900123 (mobile)")
    recognizers: dict[str, RecognizerSpec] = Field(default_factory=dict)
    # Values that are never personal data here, by entity type: the council's own switchboard, its address
    # postcode, generic mailboxes. Compared after normalisation (so "0113 496 0000" matches "+441134960000");
    # entries with "*" are shell-style patterns over the normalised value ("foi@*").
    allow_list: dict[str, list[str]] = Field(default_factory=dict)

    def enabled(self) -> dict[str, RecognizerSpec]:
        """The recognizers that load, by entity type."""
        return {name: spec for name, spec in self.recognizers.items() if spec.enabled}

    def is_allowed(self, entity_type: str, value: str) -> bool:
        """True when ``value`` is on the allow-list for its type (so it is not reported)."""
        entries = self.allow_list.get(entity_type)
        if not entries:
            return False
        normalised = normalise(entity_type, value)
        for entry in entries:
            if "*" in entry or "?" in entry:
                if fnmatch.fnmatchcase(normalised, entry.lower() if entity_type == "EMAIL_ADDRESS" else entry):
                    return True
            elif normalise(entity_type, entry) == normalised:
                return True
        return False


def load_pii_config(path: Path) -> PiiConfig:
    """Read ``pii.yaml``; a bad key or value raises a ConfigError naming the file and the key."""
    data = load_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    try:
        config = PiiConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg']}") from exc
    import_nlp_stack()
    from docintel.enrich.recognizers.registry import RECOGNIZERS

    unknown = sorted(set(config.recognizers) - set(RECOGNIZERS))
    if unknown:
        raise ConfigError(f"{path}: recognizers: unknown {', '.join(unknown)}; known: {', '.join(sorted(RECOGNIZERS))}")
    unknown = sorted(set(config.allow_list) - set(RECOGNIZERS))
    if unknown:
        raise ConfigError(f"{path}: allow_list: unknown {', '.join(unknown)}; known: {', '.join(sorted(RECOGNIZERS))}")
    return config


# Recognizers whose findings come from the statistical NER model rather than a pattern or checksum.
NER_RECOGNIZERS = frozenset({"SpacyRecognizer", "UkPersonRecognizer"})
# Characters trimmed from the ends of a name that lost part of itself to a pattern match.
_TRIM = " \t\n\r,.;:()[]{}\"'-/"
# A trimmed name shorter than this (in letters) is a fragment, not a name.
MIN_NAME_LETTERS = 2


def _overlaps(a: PiiFinding, b: PiiFinding) -> bool:
    return a.start < b.end and b.start < a.end


def _trim_around(finding: PiiFinding, blockers: list[PiiFinding]) -> PiiFinding | None:
    """The longest part of ``finding`` outside every blocker, trimmed of punctuation; None if nothing useful."""
    pieces = [(finding.start, finding.end)]
    for blocker in blockers:
        next_pieces = []
        for start, end in pieces:
            if blocker.end <= start or blocker.start >= end:
                next_pieces.append((start, end))
                continue
            if blocker.start > start:
                next_pieces.append((start, blocker.start))
            if blocker.end < end:
                next_pieces.append((blocker.end, end))
        pieces = next_pieces
    best: tuple[int, int] | None = None
    for piece_start, piece_end in pieces:
        piece = finding.text[piece_start - finding.start : piece_end - finding.start]
        lead = len(piece) - len(piece.lstrip(_TRIM))
        start, end = piece_start + lead, piece_start + len(piece.rstrip(_TRIM))
        if best is None or end - start > best[1] - best[0]:
            best = (start, end)
    if best is None or best[1] <= best[0]:
        return None
    text = finding.text[best[0] - finding.start : best[1] - finding.start]
    if sum(ch.isalpha() for ch in text) < MIN_NAME_LETTERS or not text[0].isupper():
        return None
    return finding.model_copy(update={"start": best[0], "end": best[1], "text": text})


def resolve_overlaps(findings: list[PiiFinding]) -> list[PiiFinding]:
    """One finding per span: pattern matches first (higher score, then longer); NER names are trimmed around them."""
    # Presidio removes contained duplicates of the same type only; across types (a NINO whose digits also
    # look like a sort code, an NHS number that parses as a phone number) one span should mean one thing.
    # A NER name that overlaps a pattern match loses the overlapping part rather than all of itself: the small
    # model tags "Olivia Smith NHS 943 476 5919" as one PERSON, and "Olivia Smith" is still a name.
    patterns = [f for f in findings if f.recognizer not in NER_RECOGNIZERS]
    names = [f for f in findings if f.recognizer in NER_RECOGNIZERS]
    kept: list[PiiFinding] = []
    for finding in sorted(patterns, key=lambda f: (-f.score, -(f.end - f.start), f.start, f.entity_type)):
        if not any(_overlaps(finding, other) for other in kept):
            kept.append(finding)
    placed_names: list[PiiFinding] = []
    for finding in sorted(names, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        blockers = [other for other in kept if _overlaps(finding, other)]
        trimmed = _trim_around(finding, blockers) if blockers else finding
        if trimmed is not None and not any(_overlaps(trimmed, other) for other in placed_names):
            placed_names.append(trimmed)
    return sorted(kept + placed_names, key=lambda f: (f.start, f.end))


def to_findings(text: str, results: list[RecognizerResult], offset: int = 0) -> list[PiiFinding]:
    """PiiFindings from Presidio results over ``text``, shifted by ``offset`` into the whole document."""
    findings = []
    for result in results:
        metadata = result.recognition_metadata or {}
        findings.append(
            PiiFinding(
                entity_type=result.entity_type,
                start=result.start + offset,
                end=result.end + offset,
                text=text[result.start : result.end],
                score=round(float(result.score), 4),
                recognizer=metadata.get("recognizer_name"),
            )
        )
    return findings
