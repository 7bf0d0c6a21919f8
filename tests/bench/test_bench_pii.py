"""bench/pii.py scoring helpers that decide what counts as a hit."""

from __future__ import annotations

import hashlib

import pytest

from bench.pii import Score, _strip_span, throughput


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


def test_throughput_takes_turns_and_pairs_the_passes() -> None:
    calls: list[str] = []

    def light(text: str) -> object:
        calls.append("light")
        digest = text.encode()
        for _ in range(20):
            digest = hashlib.sha256(digest).digest()
        return digest

    def heavy(text: str) -> object:
        calls.append("heavy")
        digest = text.encode()
        for _ in range(2000):
            digest = hashlib.sha256(digest).digest()
        return digest

    texts = ["Dear Ms Price, your NHS number is 943 476 5919.", "Ring 0113 496 0000."]
    speed = throughput({"docintel": light, "vanilla": heavy}, texts, repeat=3)
    assert calls == (["light"] * 2 + ["heavy"] * 2) * 3  # pass by pass, in turn
    assert speed["docintel"]["kb"] == speed["vanilla"]["kb"] == sum(len(t.encode()) for t in texts) / 1000
    paired = speed["docintel"]["cpu_ratio_vs_vanilla"]
    assert len(paired["pairs"]) == 3
    assert paired["min"] <= paired["median"] <= paired["max"]
    assert paired["median"] > 1  # the light system is the faster one
    assert "cpu_ratio_vs_docintel" not in speed["vanilla"]
