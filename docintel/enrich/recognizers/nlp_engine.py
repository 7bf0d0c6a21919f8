"""A Presidio NLP engine around a spaCy pipeline docintel already loaded, so Presidio never parses again."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# spaCy entities Presidio sees: only names. ORG, GPE, DATE... are docintel entities, not personal data,
# and mapping them would make Presidio's SpacyRecognizer report them as LOCATION, DATE_TIME and so on.
PRESIDIO_NER_MAPPING = {"PERSON": "PERSON"}
# Words whose final "s" is not a plural ending; all other context words are singular nouns.
_KEEP_FINAL_S = frozenset(
    {"address", "business", "status", "bus", "gas", "nhs", "its", "this", "his", "is", "was", "has", "yes", "as", "us"}
)


def cheap_lemma(word: str) -> str:
    """A lower-case stand-in for a lemma, folding regular plurals ("accounts" -> "account") without a tagger."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "'s")) and word not in _KEEP_FINAL_S:
        return word[:-1]
    return word


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
        # Same conversion as SpacyNlpEngine._doc_to_nlp_artifact, except the lemmas: the pipeline runs NER only
        # (no lemmatizer, token.lemma_ is empty), so the context enhancer compares context words with cheap_lemma.
        entities, scores = self._get_updated_entities(list(doc.ents), self._get_scores_for_entities(doc))
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[cheap_lemma(token.text) for token in doc],
            nlp_engine=self,
            language=self.language,
            scores=scores,
        )

    def tokens_only_artifacts(self, doc: Doc) -> NlpArtifacts:
        """NlpArtifacts for a tokenized-only Doc: no entities, lower-cased tokens standing in for lemmas."""
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[cheap_lemma(token.text) for token in doc],
            nlp_engine=self,
            language=self.language,
        )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Refuse a second parse: every caller must pass the NlpArtifacts of the shared Doc."""
        raise RuntimeError("SharedSpacyNlpEngine does not parse; pass nlp_artifacts built from the shared Doc")


class IndexedContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer, finding a match's token by binary search instead of a walk over the Doc."""

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
        # Presidio walks every token from the start of the text for every match (and spaCy builds a Token object
        # per step): on a long letter that walk cost more than the regexes. Same answer, by bisection.
        index = bisect.bisect_right(tokens_indices, start) - 1
        if index < 0:
            return 0
        if start < tokens_indices[index] + len(tokens[index]):
            return index
        if index + 1 < len(tokens_indices):
            return index + 1
        raise ValueError("a match lies past the last token")
