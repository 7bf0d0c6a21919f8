"""Running the recognizers over one shared Doc: what Presidio's ``AnalyzerEngine.analyze`` does for docintel.

For each text: every recognizer's results, context words (:mod:`docintel.enrich.recognizers.context`), each
recognizer's threshold (its own entity or default threshold from ``pii.yaml``, else the engine default), then
Presidio's ``remove_duplicates`` (a result inside another of the same type with at least its score goes). The
recognizers are Presidio's classes from Presidio's registry; what is left out of ``AnalyzerEngine`` is what docintel
never asks of it (its own NLP pass, ad-hoc recognizers, allow-lists by regex, decision-process traces) and the cost
of its per-call bookkeeping: a deep copy of every result for context scoring, a context walk over every token and a
recognizer lookup per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from docintel.enrich.recognizers.context import ContextScorer

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerRegistry
    from spacy.tokens import Doc


class PiiEngine:
    """The registry's recognizers for the configured entities, run over texts docintel has parsed already."""

    def __init__(
        self,
        registry: RecognizerRegistry,
        entities: list[str],
        language: str,
        default_score_threshold: float,
        context_scorer: ContextScorer,
    ) -> None:
        self.registry = registry
        self.entities = list(entities)
        self.language = language
        self.default_score_threshold = default_score_threshold
        self.context_scorer = context_scorer
        # The registry's selection (a set) in registration order, so runs are repeatable.
        selected = set(registry.get_recognizers(language=language, entities=self.entities)) if entities else set()
        self.recognizers = [recognizer for recognizer in registry.recognizers if recognizer in selected]
        for recognizer in self.recognizers:
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
        self._by_id = {recognizer.id: recognizer for recognizer in self.recognizers}
        self._thresholds = {recognizer.id: recognizer.score_thresholds for recognizer in self.recognizers}

    def analyze(self, text: str, doc: Doc) -> list[RecognizerResult]:
        """Results over ``text``, which ``doc`` is the parse (or tokenization) of, at each recognizer's threshold."""
        # No recognizer docintel registers reads entities or lemmas from the artifacts: names come from the Doc.
        artifacts = NlpArtifacts(
            entities=[], tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=None, language=self.language
        )
        results: list[RecognizerResult] = []
        for recognizer in self.recognizers:
            found = recognizer.analyze(text=text, entities=self.entities, nlp_artifacts=artifacts)
            for result in found or ():
                if not result.recognition_metadata:
                    result.recognition_metadata = {}
                metadata = result.recognition_metadata
                if RecognizerResult.RECOGNIZER_IDENTIFIER_KEY not in metadata:
                    metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = recognizer.id
                if RecognizerResult.RECOGNIZER_NAME_KEY not in metadata:
                    metadata[RecognizerResult.RECOGNIZER_NAME_KEY] = str(getattr(recognizer, "name", ""))
                results.append(result)
        self.context_scorer.score(text, doc, results, self._by_id)
        kept = [result for result in results if result.score >= self._threshold(result)]
        return EntityRecognizer.remove_duplicates(kept)

    def _threshold(self, result: RecognizerResult) -> float:
        thresholds = self._thresholds.get(
            (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
        )
        if not thresholds:
            return self.default_score_threshold
        own = thresholds.get(result.entity_type)
        if own is not None:
            return own
        default = thresholds.get("default")
        return default if default is not None else self.default_score_threshold
