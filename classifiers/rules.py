"""Rules classifier: scores every retention class from the ``rules:`` the schedule gives it.

First a class's ``decisive_patterns`` (over the title and the start of the body, after any mail header
block): a match decides the class outright, e.g. an out-of-office reply is transitory whatever it quotes.
Otherwise evidence, strongest first: a title or file-name pattern, a folder-path pattern, keywords in the first
``scoring.body_chars`` characters of the text, the file type. The best-scoring class wins when it reaches
``scoring.min_score``; otherwise an email becomes ``correspondence.transitory`` and anything else
``unclassified``. The explanation names every rule that fired, so a records manager can see why.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from classifiers.structure import file_type_of, fold_accents, is_email, without_mail_headers
from docintel.models import Classification, DocumentRecord
from docintel.retention import (
    TRANSITORY_CORRESPONDENCE,
    UNCLASSIFIED,
    RetentionClass,
    RetentionSchedule,
    WeightedPattern,
)

logger = logging.getLogger(__name__)

# Keywords and text are both cut into these tokens, so "amount due" matches "AMOUNT  DUE" and "amount-due"
# and never "paramount dues": word boundaries and case-insensitivity come from the tokenisation.
_TOKEN = re.compile(r"[a-z0-9]+")
# File names read as titles once separators are spaces: "Invoice_2024-07.pdf" -> "Invoice 2024 07".
_NAME_SEPARATORS = re.compile(r"[_\-.+]+")

# How many keywords and candidates an explanation lists before it stops.
_EXPLAIN_KEYWORDS = 6
_EXPLAIN_CANDIDATES = 3
# Confidence given to an email that matched nothing specific and so falls back to transitory correspondence.
_EMAIL_FALLBACK_CONFIDENCE = 0.5


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    shown: str  # the pattern as an explanation shows it, without \b noise
    weight: float


@dataclass(frozen=True)
class _Keyword:
    class_index: int
    label: str  # as the schedule writes it, for explanations
    weight: float


@dataclass(frozen=True)
class _ClassRules:
    cls: RetentionClass
    title_patterns: tuple[_Pattern, ...]
    path_patterns: tuple[_Pattern, ...]
    decisive_patterns: tuple[_Pattern, ...]
    decisive_body_patterns: tuple[_Pattern, ...]
    file_types: frozenset[str]


@dataclass
class _Evidence:
    """What fired for one class on one document, and the score it adds up to."""

    class_id: str
    score: float = 0.0
    titles: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    file_type: str | None = None
    keywords: list[tuple[str, int, float]] = field(default_factory=list)  # label, count, points

    def describe(self) -> str:
        """The fired rules in words, e.g. "title matches /invoice/; keywords: 'VAT' x3"."""
        parts: list[str] = []
        if self.titles:
            parts.append("title matches " + ", ".join(f"/{shown}/" for shown in self.titles))
        if self.paths:
            parts.append("path contains " + ", ".join(f"'{found}'" for found in self.paths))
        if self.file_type:
            parts.append(f"file type {self.file_type}")
        positive = sorted((k for k in self.keywords if k[2] > 0), key=lambda k: -k[2])
        if positive:
            shown = [f"'{label}' x{count}" if count > 1 else f"'{label}'" for label, count, _ in positive]
            extra = len(shown) - _EXPLAIN_KEYWORDS
            parts.append(
                "keywords: " + ", ".join(shown[:_EXPLAIN_KEYWORDS]) + (f" and {extra} more" if extra > 0 else "")
            )
        negative = [f"'{label}'" for label, _, points in self.keywords if points < 0]
        if negative:
            parts.append("against: " + ", ".join(negative))
        return "; ".join(parts)


def _compile(patterns: Sequence[str | WeightedPattern], default_weight: float, flags: int = 0) -> tuple[_Pattern, ...]:
    compiled = []
    for item in patterns:
        source, weight = (item, default_weight) if isinstance(item, str) else (item.pattern, item.weight)
        compiled.append(_Pattern(re.compile(source, re.IGNORECASE | flags), source.replace(r"\b", ""), weight))
    return tuple(compiled)


def _joined(tokens: tuple[str, ...] | list[str]) -> str:
    """Tokens as " a| b| c|": a phrase's needle can only match whole tokens, and repeats never share a character."""
    return " " + "| ".join(tokens) + "|" if tokens else ""


def _keyword_points(weight: float, count: int) -> float:
    """Points for a keyword seen ``count`` times: the weight once, saturating at twice the weight.

    Repeats add half, then a quarter, ... of the weight, so a long document that says "invoice" fifty times
    does not drown a title match.
    """
    return weight * 2.0 * (1.0 - 0.5**count)


class RetentionRulesClassifier:
    """Scores every class of the schedule from its rules and picks the best; explains which rules fired."""

    name = "rules"
    version = "1"

    def __init__(self, schedule: RetentionSchedule) -> None:
        # Both fallbacks must exist; get() raises a ConfigError listing the known ids otherwise.
        schedule.get(UNCLASSIFIED)
        schedule.get(TRANSITORY_CORRESPONDENCE)
        self._schedule = schedule
        self._scoring = schedule.scoring
        self._classes: list[_ClassRules] = []
        # Keyword index: single-token keywords by their token, phrases by their needle in the joined token
        # string (see _count_keywords); a keyword several classes share is counted once for all of them.
        self._keywords: list[_Keyword] = []
        self._single: dict[str, list[int]] = {}
        phrases: dict[tuple[str, ...], list[int]] = {}
        for index, cls in enumerate(schedule.classes):
            rules = cls.rules
            self._classes.append(
                _ClassRules(
                    cls=cls,
                    title_patterns=_compile(rules.title_patterns, self._scoring.title_weight),
                    path_patterns=_compile(rules.path_patterns, self._scoring.path_weight),
                    decisive_patterns=_compile(rules.decisive_patterns, 0.0),
                    decisive_body_patterns=_compile(rules.decisive_body_patterns, 0.0, re.MULTILINE),
                    file_types=frozenset(rules.file_types),
                )
            )
            for label, weight in rules.keywords.items():
                tokens = tuple(_TOKEN.findall(label.lower()))
                self._keywords.append(_Keyword(index, label, weight))
                keyword_id = len(self._keywords) - 1
                if len(tokens) == 1:
                    self._single.setdefault(tokens[0], []).append(keyword_id)
                else:
                    phrases.setdefault(tokens, []).append(keyword_id)
        self._phrases = [(tokens, _joined(tokens), ids) for tokens, ids in phrases.items()]
        self._decisive = [rules for rules in self._classes if rules.decisive_patterns or rules.decisive_body_patterns]

    def decisive(self, record: DocumentRecord) -> Classification | None:
        """The class a decisive pattern chooses for the record (the first class in schedule order), or None."""
        if not self._decisive:
            return None
        file_type = file_type_of(record)
        title_text = self._title_text(record)
        body = without_mail_headers(record.text)[: self._scoring.decisive_chars]
        for rules in self._decisive:
            if rules.file_types and file_type not in rules.file_types:
                continue
            tests = [("title", pattern, title_text) for pattern in rules.decisive_patterns]
            tests += [("text", pattern, body) for pattern in rules.decisive_body_patterns]
            for where, pattern, text in tests:
                if text and pattern.regex.search(text):
                    return self._classification(
                        record,
                        rules.cls.id,
                        self._scoring.decisive_confidence,
                        f"decisive: {where} matches /{pattern.shown}/",
                    )
        return None

    def classify(self, record: DocumentRecord) -> Classification:
        """The best class for the record, its confidence, the rules that fired, and its retention."""
        decided = self.decisive(record)
        return decided if decided is not None else self.classify_by_evidence(record)

    def classify_by_evidence(self, record: DocumentRecord) -> Classification:
        """The best-scoring class for the record from its weighed evidence (decisive rules not consulted)."""
        evidence = self._score(record)
        ranked = sorted(evidence, key=lambda e: e.score, reverse=True)  # stable: ties keep schedule order
        min_score = self._scoring.min_score
        specific = [e for e in ranked if e.class_id != TRANSITORY_CORRESPONDENCE]
        transitory = next(e for e in evidence if e.class_id == TRANSITORY_CORRESPONDENCE)

        # Email is filed with the record it concerns, so a specific class that reaches the threshold wins over
        # transitory correspondence even when the email's generic evidence scores higher.
        chosen: _Evidence | None = None
        if specific and specific[0].score >= min_score:
            chosen = specific[0]
        elif transitory.score >= min_score:
            chosen = transitory

        if chosen is not None:
            runner_up = max((e.score for e in evidence if e is not chosen), default=0.0)
            confidence = self._confidence(chosen.score, runner_up)
            explanation = f"{chosen.describe()}; score {chosen.score:.1f}"
            if runner_up > 0:
                second = next(e for e in ranked if e is not chosen)
                explanation += f", runner-up {second.class_id} {second.score:.1f}"
            class_id = chosen.class_id
        elif is_email(file_type_of(record)):
            class_id = TRANSITORY_CORRESPONDENCE
            confidence = _EMAIL_FALLBACK_CONFIDENCE
            explanation = (
                f"email with no strong evidence for a specific class: top candidates {self._candidates(ranked)}"
            )
        else:
            class_id = UNCLASSIFIED
            # Nothing was chosen, so there is nothing to be confident about; reviewers see these first.
            confidence = 0.0
            explanation = f"no rule matched strongly: top candidates {self._candidates(ranked)}"

        return self._classification(record, class_id, confidence, explanation)

    def _classification(
        self, record: DocumentRecord, class_id: str, confidence: float, explanation: str
    ) -> Classification:
        self._schedule.get(class_id)  # an unknown class is a ConfigError here, not a bad row later
        logger.debug("document %s classified as %s (confidence %.2f)", record.id, class_id, confidence)
        return Classification(
            record_class=class_id,
            confidence=confidence,
            explanation=explanation,
            classifier=self.name,
        )

    def _confidence(self, best: float, runner_up: float) -> float:
        """Confidence in [0, 1] from absolute evidence and the margin over the runner-up.

        evidence = 1 - exp(-best / evidence_scale): 0 with no evidence, 0.63 at the scale, towards 1 beyond it.
        margin   = (best - max(runner_up, 0)) / best: 1 when no other class scored, 0 on a tie.
        confidence = evidence * (0.5 + 0.5 * margin): a tie halves the confidence, a clear winner keeps it all.
        """
        if best <= 0:
            return 0.0
        evidence = 1.0 - math.exp(-best / self._scoring.evidence_scale)
        margin = (best - max(runner_up, 0.0)) / best
        return round(min(1.0, max(0.0, evidence * (0.5 + 0.5 * margin))), 3)

    @staticmethod
    def _candidates(ranked: list[_Evidence]) -> str:
        shown = [f"{e.class_id} ({e.score:.1f}: {e.describe()})" for e in ranked[:_EXPLAIN_CANDIDATES] if e.score > 0]
        return "; ".join(shown) if shown else "none"

    def _score(self, record: DocumentRecord) -> list[_Evidence]:
        title_text = self._title_text(record)
        path_text = record.provenance.path.replace("\\", "/")
        file_type = file_type_of(record)
        evidence = [_Evidence(rules.cls.id) for rules in self._classes]

        for rules, found in zip(self._classes, evidence, strict=True):
            for pattern in rules.title_patterns:
                if title_text and pattern.regex.search(title_text):
                    found.titles.append(pattern.shown)
                    found.score += pattern.weight
            for pattern in rules.path_patterns:
                match = pattern.regex.search(path_text) if path_text else None
                if match:
                    found.paths.append(match.group(0))
                    found.score += pattern.weight
            if file_type and file_type in rules.file_types:
                found.file_type = file_type
                found.score += self._scoring.file_type_weight

        body = fold_accents(record.text[: self._scoring.body_chars])
        for keyword_id, count in self._count_keywords(body).items():
            keyword = self._keywords[keyword_id]
            points = _keyword_points(keyword.weight, count)
            found = evidence[keyword.class_index]
            found.keywords.append((keyword.label, count, points))
            found.score += points
        return evidence

    def _count_keywords(self, text: str) -> dict[int, int]:
        """How often each keyword (by id) occurs in the text, on token boundaries."""
        tokens = _TOKEN.findall(text.lower())
        token_counts = Counter(tokens)
        counts: dict[int, int] = {}
        for token, keyword_ids in self._single.items():
            seen = token_counts.get(token)
            if seen:
                for keyword_id in keyword_ids:
                    counts[keyword_id] = seen
        joined: str | None = None
        for phrase, needle, keyword_ids in self._phrases:
            # Most phrases fail on a missing word, which costs a few dict lookups instead of a text scan.
            if all(token in token_counts for token in phrase):
                if joined is None:
                    joined = _joined(tokens)
                seen = joined.count(needle)
                if seen:
                    for keyword_id in keyword_ids:
                        counts[keyword_id] = seen
        return counts

    @staticmethod
    def _title_text(record: DocumentRecord) -> str:
        name = record.provenance.name
        stem = PurePosixPath(name.replace("\\", "/")).stem if name else ""
        parts = [record.title or "", _NAME_SEPARATORS.sub(" ", stem)]
        return fold_accents("\n".join(part for part in parts if part))
