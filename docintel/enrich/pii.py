"""Personal-data detection settings (``config/pii.yaml``) and the step from Presidio results to findings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
    context_window: int = Field(default=5, ge=0)
    recognizers: dict[str, RecognizerSpec] = Field(default_factory=dict)

    def enabled(self) -> dict[str, RecognizerSpec]:
        """The recognizers that load, by entity type."""
        return {name: spec for name, spec in self.recognizers.items() if spec.enabled}


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
    from docintel.enrich.recognizers import RECOGNIZERS  # noqa: PLC0415 - imports presidio, keep it off the import path

    unknown = sorted(set(config.recognizers) - set(RECOGNIZERS))
    if unknown:
        raise ConfigError(f"{path}: recognizers: unknown {', '.join(unknown)}; known: {', '.join(sorted(RECOGNIZERS))}")
    return config


# Recognizers whose findings come from the statistical NER model rather than a pattern or checksum.
NER_RECOGNIZERS = frozenset({"SpacyRecognizer"})


def resolve_overlaps(findings: list[PiiFinding]) -> list[PiiFinding]:
    """Keep one finding per overlapping span: pattern matches before NER, then higher score, then longer."""
    # Presidio removes contained duplicates of the same type only; across types (a NINO whose digits also
    # look like a sort code, an NHS number that parses as a phone number) one span should mean one thing.
    # NER loses to any pattern match it overlaps: the small model tags "Reference AB" in "Reference AB 12 34
    # 56 C" as a PERSON with a flat 0.85, while the NINO pattern has checked the prefix rules.
    ranked = sorted(
        findings,
        key=lambda f: (f.recognizer in NER_RECOGNIZERS, -f.score, -(f.end - f.start), f.start, f.entity_type),
    )
    kept: list[PiiFinding] = []
    for finding in ranked:
        if all(finding.end <= other.start or finding.start >= other.end for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))


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
