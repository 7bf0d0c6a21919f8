"""bench/pii.py scoring helpers that decide what counts as a hit."""

from __future__ import annotations

import pytest

from bench.pii import Score, _strip_span


@pytest.mark.parametrize(
    ("text", "span", "stripped"),
    [
        ("Number AB 12 34 56 C", (6, 20), (7, 20)),  # an expected span that starts with a space
        ("AB 12 34 56 C \n", (0, 15), (0, 13)),
        ("AB123456C", (0, 9), (0, 9)),
        ("   ", (0, 3), (3, 3)),
    ],
)
def test_span_ends_are_compared_without_whitespace(text: str, span: tuple[int, int], stripped: tuple[int, int]) -> None:
    assert _strip_span(text, *span) == stripped


def test_stripped_gold_and_prediction_agree() -> None:
    text = "Here is my NINO AB 12 34 56 C"
    score = Score()
    score.add({_strip_span(text, 15, 29)}, {_strip_span(text, 16, 29)})
    assert (score.tp, score.fp, score.fn) == (1, 0, 0)
