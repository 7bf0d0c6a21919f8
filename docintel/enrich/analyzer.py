"""The enrichment engine: one spaCy parse per text feeds both NER entities and Presidio's UK recognizers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from docintel.enrich import nlp as nlp_loader
from docintel.enrich.hashing import pii_hash
from docintel.enrich.pii import PiiConfig, load_pii_config, resolve_overlaps, to_findings
from docintel.errors import DocintelError, EnrichmentError
from docintel.models import Entity, PiiFinding
from docintel.settings import Settings

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer
    from spacy.language import Language
    from spacy.tokens import Doc

    from docintel.enrich.recognizers.nlp_engine import SharedSpacyNlpEngine

logger = logging.getLogger(__name__)

# Texts are parsed in chunks of at most this many characters, cut at line breaks: spaCy's memory grows
# with Doc length (its own limit is 1,000,000), and a chunk this size still keeps whole paragraphs together.
CHUNK_CHARS = 100_000
# Short text run through every recognizer at warm-up so lazy state (phone metadata, the public-suffix
# snapshot, compiled regexes) is built before a worker forks rather than in every child.
_WARM_UP_TEXT = "Mr Example Person, 1 Example Road, Leeds LS1 1AA, telephone 0113 496 0000, person@example.org."


def split_chunks(text: str, limit: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """(offset, chunk) pieces of ``text`` no longer than ``limit``, cut after a newline or space where possible."""
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            cut = text.rfind("\n", start + limit // 2, end)
            if cut == -1:
                cut = text.rfind(" ", start + limit // 2, end)
            if cut != -1:
                end = cut + 1
        yield start, text[start:end]
        start = end


class TextAnalyzer:
    """Finds named entities and UK personal data in text, with spaCy run once per chunk of text."""

    def __init__(self, settings: Settings, pii_config: PiiConfig | None = None) -> None:
        self.settings = settings
        self.pii_config = pii_config or load_pii_config(settings.config_path(settings.pii.config_file))
        self.entity_labels = frozenset(settings.nlp.entity_labels)
        self.max_chars = settings.nlp.max_chars
        self.chunk_chars = CHUNK_CHARS
        self._lock = threading.Lock()
        self._nlp: Language | None = None
        self._nlp_engine: SharedSpacyNlpEngine | None = None
        self._presidio: AnalyzerEngine | None = None

    @property
    def nlp(self) -> Language:
        """The shared spaCy pipeline, loaded on first use."""
        self._load()
        assert self._nlp is not None
        return self._nlp

    @property
    def pii_entities(self) -> list[str]:
        """The personal-data entity types this analyzer looks for."""
        return list(self.pii_config.enabled()) if self.settings.pii.enabled else []

    def recognizer_names(self) -> list[str]:
        """Names of the Presidio recognizers loaded (empty when PII detection is off)."""
        self._load()
        if self._presidio is None:
            return []
        recognizers: list[EntityRecognizer] = list(self._presidio.registry.recognizers)
        return sorted(str(getattr(recognizer, "name", "")) for recognizer in recognizers)

    def _load(self) -> None:
        if self._nlp is not None:
            return
        with self._lock:
            if self._nlp is not None:
                return
            nlp = nlp_loader.load_spacy(self.settings.nlp.models)
            if self.settings.pii.enabled:
                self._nlp_engine, self._presidio = self._build_presidio(nlp)
            self._nlp = nlp

    def _build_presidio(self, nlp: Language) -> tuple[SharedSpacyNlpEngine, AnalyzerEngine]:
        # Presidio is imported here, not at module level: it is slow to import and pulls in optional
        # NLP back-ends (transformers, when installed) that only a worker doing enrichment should pay for.
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: PLC0415
        from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer  # noqa: PLC0415

        from docintel.enrich.recognizers import build_recognizer  # noqa: PLC0415
        from docintel.enrich.recognizers.nlp_engine import SharedSpacyNlpEngine  # noqa: PLC0415

        config = self.pii_config
        language = config.language
        recognizers = [
            build_recognizer(name, context=spec.context, score=spec.score, score_threshold=spec.score_threshold)
            for name, spec in config.enabled().items()
        ]
        nlp_engine = SharedSpacyNlpEngine(nlp, language=language)
        engine = AnalyzerEngine(
            registry=RecognizerRegistry(recognizers=recognizers, supported_languages=[language]),
            nlp_engine=nlp_engine,
            supported_languages=[language],
            default_score_threshold=config.default_score_threshold,
            context_aware_enhancer=LemmaContextAwareEnhancer(context_prefix_count=config.context_window),
        )
        logger.info("Presidio ready with %d recognizers: %s", len(recognizers), ",".join(config.enabled()))
        return nlp_engine, engine

    def warm(self) -> None:
        """Load the model and recognizers and run them once, so a worker can do it before forking."""
        self.analyze(_WARM_UP_TEXT)

    def parse(self, text: str) -> Iterator[tuple[int, Doc]]:
        """(offset, Doc) for each chunk of ``text`` (capped at nlp.max_chars), from one nlp.pipe pass."""
        if len(text) > self.max_chars:
            logger.info("text of %d characters cut to the first %d for NLP", len(text), self.max_chars)
            text = text[: self.max_chars]
        chunks = list(split_chunks(text, self.chunk_chars))
        docs = self.nlp.pipe(chunk for _, chunk in chunks)
        for (offset, _), doc in zip(chunks, docs, strict=True):
            yield offset, doc

    def analyze(self, text: str, key: bytes | None = None) -> tuple[list[Entity], list[PiiFinding]]:
        """Named entities and personal-data findings in ``text``; with ``key``, each carries its keyed hash."""
        entities: list[Entity] = []
        findings: list[PiiFinding] = []
        if not text.strip():
            return entities, findings
        try:
            for offset, doc in self.parse(text):
                entities.extend(self._entities(doc, offset))
                findings.extend(self._pii(doc, offset))
        except DocintelError:
            raise
        except (ValueError, RuntimeError, MemoryError) as exc:
            # spaCy and Presidio report bad input and internal limits this way; other exceptions are bugs.
            raise EnrichmentError(f"text analysis failed: {type(exc).__name__}") from exc
        findings = resolve_overlaps(findings)
        if key is not None:
            for entity in entities:
                entity.value_hash = pii_hash(entity.label, entity.text, key)
            for finding in findings:
                finding.value_hash = pii_hash(finding.entity_type, finding.text, key)
        return entities, findings

    def _entities(self, doc: Doc, offset: int) -> list[Entity]:
        return [
            Entity(label=ent.label_, start=ent.start_char + offset, end=ent.end_char + offset, text=ent.text)
            for ent in doc.ents
            if ent.label_ in self.entity_labels
        ]

    def _pii(self, doc: Doc, offset: int) -> list[PiiFinding]:
        if self._presidio is None or self._nlp_engine is None:
            return []
        results = self._presidio.analyze(
            text=doc.text,
            language=self.pii_config.language,
            entities=self.pii_entities,
            # None lets each recognizer's own threshold from pii.yaml apply, else the engine default.
            score_threshold=None,
            nlp_artifacts=self._nlp_engine.artifacts(doc),
        )
        return to_findings(doc.text, results, offset)


_analyzers: dict[str, TextAnalyzer] = {}
_analyzers_lock = threading.Lock()


def get_analyzer(settings: Settings) -> TextAnalyzer:
    """The process's TextAnalyzer for these settings, built once."""
    # Settings is a mutable pydantic model (unhashable); its JSON plus the config folder identify it.
    key = f"{settings.config_dir}|{settings.model_dump_json()}"
    with _analyzers_lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            analyzer = _analyzers[key] = TextAnalyzer(settings)
    return analyzer
