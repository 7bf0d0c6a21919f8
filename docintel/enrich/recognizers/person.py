"""The PERSON recognizer: names from :mod:`docintel.enrich.names` over the shared parse, as Presidio results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from presidio_analyzer import EntityRecognizer, RecognizerResult

from docintel.enrich.names import PERSON_ENTITY, name_spans

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts


class UkPersonRecognizer(EntityRecognizer):
    """PERSON from the shared spaCy parse, cleaned of roles, organisations and headings, plus honorific rules."""

    def __init__(self, score: float = 0.85, rule_score: float = 0.85) -> None:
        self.score = score
        self.rule_score = rule_score
        super().__init__(supported_entities=[PERSON_ENTITY], name=type(self).__name__, supported_language="en")

    def load(self) -> None:
        """Nothing to load: names come from the Doc in the NlpArtifacts."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """PERSON results for the Doc behind ``nlp_artifacts`` (none without it: no second parse)."""
        recognizer_name = type(self).__name__
        if PERSON_ENTITY not in entities or nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        return [
            RecognizerResult(
                entity_type=PERSON_ENTITY,
                start=span.start,
                end=span.end,
                score=self.score if span.source == "ner" else self.rule_score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: recognizer_name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    "source": span.source,
                },
            )
            for span in name_spans(nlp_artifacts.tokens, text)
        ]
