"""A Presidio NLP engine around a spaCy pipeline docintel already loaded, so Presidio never parses again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# spaCy entities Presidio sees: only names. ORG, GPE, DATE... are docintel entities, not personal data,
# and mapping them would make Presidio's SpacyRecognizer report them as LOCATION, DATE_TIME and so on.
PRESIDIO_NER_MAPPING = {"PERSON": "PERSON"}


class SharedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's SpacyNlpEngine over an already-loaded pipeline; it turns our parsed Doc into NlpArtifacts."""

    def __init__(self, nlp: Language, language: str = "en") -> None:
        ner_labels: tuple[str, ...] = getattr(nlp.get_pipe("ner"), "labels", ()) if nlp.has_pipe("ner") else ()
        configuration = NerModelConfiguration(
            model_to_presidio_entity_mapping=dict(PRESIDIO_NER_MAPPING),
            # Listing the other labels keeps Presidio from warning "not mapped" for every CARDINAL it sees.
            labels_to_ignore=[label for label in ner_labels if label not in PRESIDIO_NER_MAPPING],
        )
        super().__init__(
            models=[{"lang_code": language, "model_name": nlp.meta.get("name", "")}],
            ner_model_configuration=configuration,
        )
        self.nlp = {language: nlp}  # type: ignore[assignment]  # Presidio annotates it None until load()
        self.language = language

    def load(self) -> None:
        """Nothing to load: the pipeline was handed in (and Presidio must never download a model)."""

    def artifacts(self, doc: Doc) -> NlpArtifacts:
        """Presidio's NlpArtifacts (entities, tokens, offsets, lemmas) for a Doc we parsed ourselves."""
        # Same conversion SpacyNlpEngine.process_text applies after its own nlp(text) call.
        return self._doc_to_nlp_artifact(doc, self.language)

    def tokens_only_artifacts(self, doc: Doc) -> NlpArtifacts:
        """NlpArtifacts for a tokenized-only Doc: no entities, lower-cased tokens standing in for lemmas."""
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=self.language,
        )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Refuse a second parse: every caller must pass the NlpArtifacts of the shared Doc."""
        raise RuntimeError("SharedSpacyNlpEngine does not parse; pass nlp_artifacts built from the shared Doc")
