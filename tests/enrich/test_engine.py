"""The recognizer engine and context scoring: the same scores Presidio's AnalyzerEngine and lemma enhancer give."""

from __future__ import annotations

from typing import Any

import pytest
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.language import Language

from docintel.enrich.analyzer import TextAnalyzer
from docintel.enrich.recognizers.context import ContextScorer, cheap_lemma
from docintel.enrich.recognizers.engine import PiiEngine
from docintel.enrich.recognizers.registry import build_recognizer

PREFIX, SUFFIX = 8, 2


class _PresidioOverOurDoc(SpacyNlpEngine):
    """Presidio's own spaCy engine holding docintel's pipeline, so its NlpArtifacts see the same Doc."""

    def __init__(self, nlp: Language) -> None:
        super().__init__(models=[{"lang_code": "en", "model_name": nlp.meta.get("name", "")}])
        self.nlp = {"en": nlp}  # type: ignore[assignment]

    def artifacts(self, text: str) -> NlpArtifacts:
        doc = self.nlp["en"](text)  # type: ignore[index]
        return NlpArtifacts(
            entities=[], tokens=doc, tokens_indices=[token.idx for token in doc],
            lemmas=[cheap_lemma(token.text) for token in doc], nlp_engine=self, language="en",
        )  # fmt: skip


@pytest.fixture(scope="module")
def nlp(analyzer: TextAnalyzer) -> Language:
    return analyzer.nlp


def _recognizers() -> list[Any]:
    return [build_recognizer(name, context=context) for name, context in
            (("UK_SORT_CODE", ["sort", "bank"]), ("UK_BANK_ACCOUNT", ["account", "acc"]),
             ("PHONE_NUMBER", ["phone", "tel"]), ("UK_POSTCODE", ["postcode", "address"]))]  # fmt: skip


CONTEXT_CASES = [
    "Sort code 12-34-56, account number 12345678.",
    "Bank details: the sort code of the branch that holds it is 12-34-56",  # "sort" 8 keywords back: in
    "Sort code of the branch where our council finance team holds its main current accounts: 12-34-56",  # too far
    "12-34-56 (sort code) and 12345678 (accounts)",  # "accounts" after the match, in the suffix window
    "tel:01134960000 or the sort:12-34-56 line",  # a word written with a colon is not a keyword itself
    "The sort of thing is and was 12-34-56 as it is",  # stop words are not counted in the window
    "Tel 0113 496 0000, postcode LS1 1AA, address: 12 High Street, ls6 2ab",
    "Insorted 12-34-56 records",  # whole words only: "sort" is not in "insorted"
    "",
]


@pytest.mark.parametrize("text", CONTEXT_CASES)
def test_context_scores_match_presidio_lemma_enhancer(nlp: Language, text: str) -> None:
    presidio_nlp = _PresidioOverOurDoc(nlp)
    artifacts = presidio_nlp.artifacts(text)
    recognizers = _recognizers()

    def raw() -> list[RecognizerResult]:
        results = []
        for recognizer in recognizers:
            for result in recognizer.analyze(text, recognizer.supported_entities, artifacts):
                result.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
                results.append(result)
        return results

    expected = LemmaContextAwareEnhancer(
        context_prefix_count=PREFIX, context_suffix_count=SUFFIX, context_matching_mode="whole_word"
    ).enhance_using_context(text, raw(), artifacts, recognizers)
    ours = raw()
    ContextScorer(nlp.vocab, PREFIX, SUFFIX).score(text, artifacts.tokens, ours, {r.id: r for r in recognizers})
    assert [(r.entity_type, r.start, r.end, r.score) for r in ours] == [
        (r.entity_type, r.start, r.end, r.score) for r in expected
    ]


def test_context_word_raises_a_score_past_its_threshold(nlp: Language) -> None:
    (sort_code,) = [r for r in _recognizers() if r.supported_entities == ["UK_SORT_CODE"]]
    scorer = ContextScorer(nlp.vocab, PREFIX, SUFFIX)
    scores = {}
    for text in ("Sort code 12-34-56", "Meeting 12-34-56"):
        results = sort_code.analyze(text, ["UK_SORT_CODE"], None)
        for result in results:
            result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = sort_code.id
        scorer.score(text, nlp.make_doc(text), results, {sort_code.id: sort_code})
        (scores[text],) = [r.score for r in results]
    assert scores == {"Sort code 12-34-56": pytest.approx(0.45), "Meeting 12-34-56": pytest.approx(0.1)}


def test_result_the_recognizer_scored_for_context_is_left_alone(nlp: Language) -> None:
    (sort_code,) = [r for r in _recognizers() if r.supported_entities == ["UK_SORT_CODE"]]
    text = "Sort code 12-34-56"
    (result,) = sort_code.analyze(text, ["UK_SORT_CODE"], None)
    result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = sort_code.id
    result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
    ContextScorer(nlp.vocab, PREFIX, SUFFIX).score(text, nlp.make_doc(text), [result], {sort_code.id: sort_code})
    assert result.score == pytest.approx(0.1)


ENGINE_CASES = [
    "Please pay sort code 12-34-56, account 12345678, or ring 0113 496 0000 (tel). Postcode LS1 1AA.",
    "The meeting on 12-03-24 was postponed; reference 12345678 stands. Mobile: 07700 900123 anytime.",
    "Write to 4 Mill Close, Leeds LS6 2AB or email olivia.smith@example.org; IBAN GB82WEST12345698765432.",
    "Card 4111 1111 1111 1111 and NHS number 943 476 5919, NINO AB 12 34 56 C.",
]


@pytest.mark.parametrize("text", ENGINE_CASES)
def test_engine_gives_what_presidio_analyzer_engine_gives(nlp: Language, text: str) -> None:
    entities = ["UK_SORT_CODE", "UK_BANK_ACCOUNT", "PHONE_NUMBER", "UK_POSTCODE", "STREET_ADDRESS", "EMAIL_ADDRESS",
                "IBAN_CODE", "CREDIT_CARD", "UK_NHS", "UK_NINO"]  # fmt: skip
    thresholds = {"UK_SORT_CODE": 0.4, "UK_BANK_ACCOUNT": 0.4}

    def recognizers() -> list[Any]:
        return [build_recognizer(name, score_threshold=thresholds.get(name)) for name in entities]

    presidio_nlp = _PresidioOverOurDoc(nlp)
    artifacts = presidio_nlp.artifacts(text)
    presidio = AnalyzerEngine(
        registry=RecognizerRegistry(recognizers=recognizers(), supported_languages=["en"]),
        nlp_engine=presidio_nlp,
        supported_languages=["en"],
        default_score_threshold=0.5,
        context_aware_enhancer=LemmaContextAwareEnhancer(
            context_prefix_count=PREFIX, context_suffix_count=SUFFIX, context_matching_mode="whole_word"
        ),
    )
    expected = presidio.analyze(text=text, language="en", entities=entities, nlp_artifacts=artifacts)
    engine = PiiEngine(
        RecognizerRegistry(recognizers=recognizers(), supported_languages=["en"]), entities, "en", 0.5,
        ContextScorer(nlp.vocab, PREFIX, SUFFIX),
    )  # fmt: skip
    ours = engine.analyze(text, artifacts.tokens)

    def spans(results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
        return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)

    assert spans(ours)
    assert spans(ours) == spans(expected)


def test_engine_runs_only_the_recognizers_of_the_configured_entities(nlp: Language) -> None:
    registry = RecognizerRegistry(recognizers=[build_recognizer("UK_NHS"), build_recognizer("UK_NINO")],
                                  supported_languages=["en"])  # fmt: skip
    engine = PiiEngine(registry, ["UK_NINO"], "en", 0.5, ContextScorer(nlp.vocab, PREFIX, SUFFIX))
    text = "NHS 943 476 5919, NINO AB 12 34 56 C"
    assert [r.name for r in engine.recognizers] == ["UkNinoRecognizer"]
    assert [r.entity_type for r in engine.analyze(text, nlp.make_doc(text))] == ["UK_NINO"]
