"""The enrichment engine: one spaCy parse per text feeds both NER entities and Presidio's UK recognizers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from docintel.enrich import nlp as nlp_loader
from docintel.enrich.hashing import pii_hash
from docintel.enrich.names import PERSON_ENTITY, name_spans
from docintel.enrich.pii import PiiConfig, load_pii_config, resolve_overlaps, to_findings
from docintel.enrich.places import place_spans
from docintel.enrich.stack import import_nlp_stack
from docintel.errors import DocintelError, EnrichmentError
from docintel.models import Entity, PiiFinding
from docintel.settings import Settings

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from docintel.enrich.recognizers.engine import PiiEngine

logger = logging.getLogger(__name__)

# Texts are parsed in chunks of at most this many characters, cut at line breaks: spaCy's memory grows
# with Doc length (its own limit is 1,000,000), and a chunk this size still keeps whole paragraphs together.
CHUNK_CHARS = 50_000
# Short text run through every recognizer at warm-up so lazy state (phone metadata, the public-suffix
# snapshot, compiled regexes) is built before a worker forks rather than in every child.
# Finding types that do not make an overlapping spaCy entity wrong (a DATE entity on a date of birth is right).
NAME_OR_DATE_TYPES = frozenset({"PERSON", "DATE_OF_BIRTH"})
DATE_OF_BIRTH_ENTITY = "DATE_OF_BIRTH"
DATE_LABEL = "DATE"
# The label of places found by docintel's own rules (docintel.enrich.places).
PLACE_LABEL = "GPE"
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
        self._engine: PiiEngine | None = None

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
        if self._engine is None:
            return []
        return sorted(str(getattr(recognizer, "name", "")) for recognizer in self._engine.recognizers)

    def _load(self) -> None:
        if self._nlp is not None:
            return
        with self._lock:
            if self._nlp is not None:
                return
            nlp = nlp_loader.load_spacy(self.settings.nlp.models, self.settings.nlp.blas)
            if self.settings.pii.enabled:
                self._engine = self._build_engine(nlp)
            self._nlp = nlp

    def _build_engine(self, nlp: Language) -> PiiEngine:
        # Presidio is imported here, not at module level: it is slow to import, and only a worker doing
        # enrichment should pay for it (docintel.enrich.stack keeps its optional back-ends out).
        import_nlp_stack()
        from presidio_analyzer import RecognizerRegistry

        from docintel.enrich.recognizers.context import ContextScorer
        from docintel.enrich.recognizers.engine import PiiEngine
        from docintel.enrich.recognizers.registry import build_recognizer

        config = self.pii_config
        language = config.language
        recognizers = [
            build_recognizer(name, context=spec.context, score=spec.score, score_threshold=spec.score_threshold)
            for name, spec in config.enabled().items()
        ]
        engine = PiiEngine(
            registry=RecognizerRegistry(recognizers=recognizers, supported_languages=[language]),
            entities=self.pii_entities,
            language=language,
            default_score_threshold=config.default_score_threshold,
            # Whole words only: Presidio's default "substring" mode lets "ni" match "opinion" and "acc" match "accept".
            context_scorer=ContextScorer(
                nlp.vocab, prefix_count=config.context_window, suffix_count=config.context_suffix_window
            ),
        )
        logger.info("Presidio ready with %d recognizers: %s", len(recognizers), ",".join(config.enabled()))
        return engine

    def warm(self) -> None:
        """Load the model and recognizers and run them once, so a worker can do it before forking."""
        self.analyze(_WARM_UP_TEXT)

    def parse(self, text: str) -> Iterator[tuple[int, Doc]]:
        """(offset, Doc) for each chunk of ``text`` (capped at nlp.max_chars), from one nlp.pipe pass."""
        for offset, _, doc in self._parse_chunks(text):
            yield offset, doc

    def _parse_chunks(self, text: str) -> Iterator[tuple[int, str, Doc]]:
        """(offset, chunk, Doc) for each chunk: the chunk string is the Doc's text (doc.text rebuilds it per call)."""
        text = text[: self.max_chars]
        chunks = list(split_chunks(text, self.chunk_chars))
        # One chunk per batch: spaCy batches 1,000 texts by default, and a batch of nine 100k-character chunks
        # held 2.9 GB of activations at once (an 872-page handbook).
        docs = self.nlp.pipe((chunk for _, chunk in chunks), batch_size=1)
        for (offset, chunk), doc in zip(chunks, docs, strict=True):
            yield offset, chunk, doc

    def _blas_threads(self) -> AbstractContextManager[object]:
        """Numpy's BLAS on one thread while the model runs on it (nlp.blas numpy); nothing to do for blis."""
        return nlp_loader.single_threaded_blas if self.settings.nlp.blas == "numpy" else nullcontext()

    def tokenize_rest(self, text: str) -> Iterator[tuple[int, Doc]]:
        """(offset, Doc) for the text past nlp.max_chars, tokenized only: no tagger, lemmatizer or NER."""
        for offset, chunk in split_chunks(text[self.max_chars :], self.chunk_chars):
            yield self.max_chars + offset, self.nlp.make_doc(chunk)

    def analyze(self, text: str, key: bytes | None = None) -> tuple[list[Entity], list[PiiFinding]]:
        """Named entities and personal-data findings in ``text``; with ``key``, each carries its keyed hash."""
        entities: list[Entity] = []
        findings: list[PiiFinding] = []
        if not text.strip():
            return entities, findings
        try:
            with self._blas_threads():
                for offset, chunk_text, doc in self._parse_chunks(text):
                    chunk_findings = resolve_overlaps(self._pii(doc, offset, chunk_text=chunk_text))
                    entities.extend(self._entities(doc, offset, chunk_findings, chunk_text))
                    findings.extend(chunk_findings)
            if len(text) > self.max_chars:
                # Past the NLP budget, identifiers are still found (patterns and checksums cost little);
                # names, which need the model, are not. Cutting silently would hide an NHS number on page 900.
                logger.warning(
                    "text of %d characters is over nlp.max_chars=%d: NER skipped past it, pattern recognizers only",
                    len(text),
                    self.max_chars,
                )
                for offset, doc in self.tokenize_rest(text):
                    findings.extend(resolve_overlaps(self._pii(doc, offset)))
        except DocintelError:
            raise
        except (ValueError, RuntimeError, MemoryError) as exc:
            # spaCy and Presidio report bad input and internal limits this way; other exceptions are bugs.
            raise EnrichmentError(f"text analysis failed: {type(exc).__name__}") from exc
        findings = [f for f in findings if not self.pii_config.is_allowed(f.entity_type, f.text)]
        if key is not None:
            for entity in entities:
                entity.value_hash = pii_hash(entity.label, entity.text, key)
            for finding in findings:
                finding.value_hash = pii_hash(finding.entity_type, finding.text, key)
        return entities, findings

    def _entities(self, doc: Doc, offset: int, findings: list[PiiFinding], chunk_text: str) -> list[Entity]:
        """spaCy entities of the kept labels, with names cleaned and identifiers no longer mistaken for dates."""
        # The small model tags phone numbers and account numbers as DATE or CARDINAL: an entity overlapping an
        # identifier found by a checked pattern goes. Names come from the same filter the PERSON finding uses.
        identifiers = [(f.start, f.end) for f in findings if f.entity_type not in NAME_OR_DATE_TYPES]
        names = name_spans(doc, chunk_text) if PERSON_ENTITY in self.entity_labels else []
        # "Baker" in "221B Baker Street" is part of an address, not a person: identifiers beat names here too.
        names = [
            span
            for span in names
            if not any(start <= span.start + offset and span.end + offset <= end for start, end in identifiers)
        ]
        # "Cllr Amelia Hughes" tagged ORG: the name wins over any other label on the same words.
        identifiers += [(span.start + offset, span.end + offset) for span in names]
        # A date of birth is a DATE; the model's ORG or GPE on the same characters is wrong.
        births = [(f.start, f.end) for f in findings if f.entity_type == DATE_OF_BIRTH_ENTITY]
        entities = []
        for ent in doc.ents:
            if ent.label_ not in self.entity_labels or ent.label_ == PERSON_ENTITY:
                continue
            start, end = ent.start_char + offset, ent.end_char + offset
            if any(start < other_end and other_start < end for other_start, other_end in identifiers):
                continue
            if ent.label_ != DATE_LABEL and any(start < b_end and b_start < end for b_start, b_end in births):
                continue
            entities.append(Entity(label=ent.label_, start=start, end=end, text=ent.text))
        if PLACE_LABEL in self.entity_labels:
            # Places the model missed after "flew to", "grew up in"...: only where nothing else was found.
            taken = identifiers + [(e.start, e.end) for e in entities]
            for place_start, place_end in place_spans(chunk_text):
                start, end = place_start + offset, place_end + offset
                if not any(start < other_end and other_start < end for other_start, other_end in taken):
                    entities.append(
                        Entity(label=PLACE_LABEL, start=start, end=end, text=chunk_text[place_start:place_end])
                    )
        for span in names:
            text = chunk_text[span.start : span.end]
            entities.append(Entity(label=PERSON_ENTITY, start=span.start + offset, end=span.end + offset, text=text))
        return sorted(entities, key=lambda e: (e.start, e.end))

    def _pii(self, doc: Doc, offset: int, chunk_text: str | None = None) -> list[PiiFinding]:
        if self._engine is None:
            return []
        chunk_text = doc.text if chunk_text is None else chunk_text
        return to_findings(chunk_text, self._engine.analyze(chunk_text, doc), offset)


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
