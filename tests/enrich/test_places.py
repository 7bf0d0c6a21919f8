"""Places found after travel and residence phrases, where the small model leaves them untagged."""

from __future__ import annotations

import pytest

from docintel.enrich.analyzer import TextAnalyzer
from docintel.enrich.places import place_spans


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Mr Leiva flew to LEPPEN on Tuesday morning.", ["LEPPEN"]),
        ("He grew up in Riverlea.", ["Riverlea"]),
        ("He moved to Stratford upon Avon in 2019.", ["Stratford upon Avon"]),
        ("Place of birth: Kędzierzyn-Koźle", ["Kędzierzyn-Koźle"]),
        ("She moved to Flat 3 last year.", []),  # a flat, not a place
        ("He was born in May 1980.", []),  # a month
        ("They were at Home on Monday.", []),
        ("She returned to the office.", []),  # lower case
    ],
)
def test_place_table(text: str, places: list[str]) -> None:
    assert [text[start:end] for start, end in place_spans(text)] == places


def test_rule_places_are_gpe_entities(analyzer: TextAnalyzer) -> None:
    entities, _ = analyzer.analyze("Mr Leiva flew to LEPPEN on Tuesday morning.")
    assert ("GPE", "LEPPEN") in {(e.label, e.text) for e in entities}


def test_date_of_birth_is_not_an_organisation(analyzer: TextAnalyzer) -> None:
    entities, findings = analyzer.analyze("She was born on 04/03/1974.")
    assert ("DATE_OF_BIRTH", "04/03/1974") in {(f.entity_type, f.text) for f in findings}
    assert not [e for e in entities if e.text == "04/03/1974" and e.label != "DATE"]
