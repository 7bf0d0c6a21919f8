"""Context words: a finding scores higher when one of its recognizer's words is among the words around it.

The rule is Presidio's ``LemmaContextAwareEnhancer`` in whole-word mode, applied to docintel's shared Doc:

- around a match, take the lemmas of up to ``prefix_count`` words before it and ``suffix_count`` words after it,
  counting only keywords (lemmas that are not stop words, punctuation, "-PRON-" or "be"; a keyword with a ":" in it
  stands for its parts, so "tel:" makes "tel" a keyword); the match's own first word is counted on both sides;
- when one of the recognizer's context words equals one of them, the score goes up by ``similarity_factor``, to
  at least ``min_score_with_context`` and at most 1.0 (so a result at 1.0 already, a checksum pass, is not looked at).

Presidio computes lemma and keyword lists for every token of the text, deep-copies every result, and tests each
word against the whole keyword list; here lemmas are worked out only for the words next to a match, results are
scored in place, and each word is judged once. The pipeline has no lemmatizer (NER only): ``cheap_lemma`` stands in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

# Words whose final "s" is not a plural ending; all other context words are singular nouns.
_KEEP_FINAL_S = frozenset(
    {"address", "business", "status", "bus", "gas", "nhs", "its", "this", "his", "is", "was", "has", "yes", "as", "us"}
)
# Presidio's defaults (LemmaContextAwareEnhancer): the score a context word adds, and the least score it leaves.
CONTEXT_SIMILARITY_FACTOR = 0.35
MIN_SCORE_WITH_CONTEXT = 0.4
MAX_SCORE = 1.0
# Lemmas that are never keywords besides stop words and punctuation (Presidio's NlpArtifacts.set_keywords).
_NOT_KEYWORDS = frozenset({"-PRON-", "be"})


def cheap_lemma(word: str) -> str:
    """A lower-case stand-in for a lemma, folding regular plurals ("accounts" -> "account") without a tagger."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "'s")) and word not in _KEEP_FINAL_S:
        return word[:-1]
    return word


class _DocWords:
    """The keywords of one Doc, worked out word by word as matches ask for them."""

    def __init__(self, doc: Doc, text: str, vocab: Vocab) -> None:
        self.doc = doc
        self.text = text
        self.vocab = vocab
        self.starts: list[int] = doc.to_array("IDX").tolist()
        self._keyword: dict[int, str | None] = {}
        self._colon_parts: frozenset[str] | None = None

    def token_at(self, start: int) -> int:
        """Index of the token a match starting at ``start`` begins in (or the next one, in the gap after a token)."""
        index = bisect.bisect_right(self.starts, start) - 1
        if index < 0:
            return 0
        if start < self.starts[index] + len(self.doc[index]):
            return index
        if index + 1 < len(self.starts):
            return index + 1
        raise ValueError("a match lies past the last token")

    def keyword(self, index: int) -> str | None:
        """The lemma of token ``index`` when it counts as a keyword, else None."""
        if index in self._keyword:
            return self._keyword[index]
        lemma = cheap_lemma(self.doc[index].text)
        # A lemma with a colon is never a keyword itself, only its parts are.
        found = lemma if ":" not in lemma and (self._passes(lemma) or lemma in self._colon_keyword_parts()) else None
        self._keyword[index] = found
        return found

    def _passes(self, lemma: str) -> bool:
        lexeme = self.vocab[lemma]
        return not lexeme.is_stop and not lexeme.is_punct and lemma not in _NOT_KEYWORDS

    def _colon_keyword_parts(self) -> frozenset[str]:
        """The parts of keywords written with a colon ("tel:" -> "tel", ""), which count as keywords themselves."""
        if self._colon_parts is None:
            parts: set[str] = set()
            indices = {bisect.bisect_right(self.starts, position) - 1 for position, ch in enumerate(self.text)
                       if ch == ":"}  # fmt: skip
            for index in indices:
                lemma = cheap_lemma(self.doc[index].text)
                if ":" in lemma and self._passes(lemma):
                    parts.update(lemma.split(":"))
            self._colon_parts = frozenset(parts)
        return self._colon_parts

    def around(self, index: int, before: int, after: int) -> set[str]:
        """Keywords of up to ``before`` words back from ``index`` and ``after`` words on, the word itself in both."""
        words: set[str] = set()
        for step, count in ((-1, before), (1, after)):
            remaining, position = count + 1, index
            while 0 <= position < len(self.starts) and remaining > 0:
                word = self.keyword(position)
                if word is not None:
                    words.add(word)
                    remaining -= 1
                position += step
        return words


class ContextScorer:
    """Raises the scores of results whose recognizer's context words stand next to them (see the module docstring)."""

    def __init__(
        self,
        vocab: Vocab,
        prefix_count: int,
        suffix_count: int,
        similarity_factor: float = CONTEXT_SIMILARITY_FACTOR,
        min_score_with_context: float = MIN_SCORE_WITH_CONTEXT,
    ) -> None:
        self.vocab = vocab
        self.prefix_count = prefix_count
        self.suffix_count = suffix_count
        self.similarity_factor = similarity_factor
        self.min_score_with_context = min_score_with_context

    def score(
        self, text: str, doc: Doc, results: Iterable[RecognizerResult], recognizers: dict[str, EntityRecognizer]
    ) -> None:
        """Update ``results`` (over ``text``, parsed as ``doc``) in place; ``recognizers`` by their id."""
        if len(doc) == 0:
            return
        words: _DocWords | None = None
        for result in results:
            metadata = result.recognition_metadata or {}
            recognizer = recognizers.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, ""))
            if recognizer is None or not recognizer.context:
                continue
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue  # the recognizer scored its own context already
            if result.score >= MAX_SCORE:
                continue  # a checksum-validated match: a context word cannot raise it
            if words is None:
                words = _DocWords(doc, text, self.vocab)
            nearby = words.around(words.token_at(result.start), self.prefix_count, self.suffix_count)
            supportive = next((word for word in recognizer.context if word.lower() in nearby), None)
            if supportive is None:
                continue
            result.score = min(max(result.score + self.similarity_factor, self.min_score_with_context), MAX_SCORE)
            if result.analysis_explanation is not None:
                result.analysis_explanation.set_supportive_context_word(supportive)
                result.analysis_explanation.set_improved_score(result.score)
