"""A requester's identifiers as keyed hashes: every form searched, bad values refused, nothing in clear."""

from __future__ import annotations

import datetime as dt

import pytest

from docintel.enrich.hashing import pii_hash
from docintel.sar.identifiers import InvalidIdentifier, date_forms, identifier_hashes, masked_label

KEY = b"sar-identifiers-test-key-0123456789"


def test_date_forms_cover_how_uk_documents_write_a_date() -> None:
    forms = date_forms(dt.date(1984, 3, 3))
    for written in (
        "3/3/1984",
        "03/03/1984",
        "03.03.84",
        "3-3-1984",
        "3 March 1984",
        "3rd March 1984",
        "03 Mar 1984",
        "March 3, 1984",
        "1984-03-03",
    ):
        assert written in forms
    assert "21st" in " ".join(date_forms(dt.date(1990, 5, 21)))
    assert "11th" in " ".join(date_forms(dt.date(1990, 5, 11)))


def test_hashes_match_what_the_catalogue_hashes_and_hold_no_value() -> None:
    rows = identifier_hashes(
        {
            "name": ["Mrs Olivia Smith"],
            "date_of_birth": ["1984-03-03"],
            "nhs_number": ["943 476 5919"],
            "postcode": ["ls6 2ab"],
        },
        KEY,
    )
    hashes = {(row.entity_type, row.value_hash) for row in rows}
    assert ("PERSON", pii_hash("PERSON", "Smith, Olivia", KEY)) in hashes
    assert ("PERSON", pii_hash("PERSON", "O. Smith", KEY)) in hashes
    assert ("PERSON", pii_hash("PERSON", "Liv Smith", KEY)) in hashes
    assert ("DATE_OF_BIRTH", pii_hash("DATE_OF_BIRTH", "03/03/1984", KEY)) in hashes
    assert ("UK_NHS", pii_hash("UK_NHS", "9434765919", KEY)) in hashes
    assert ("UK_POSTCODE", pii_hash("UK_POSTCODE", "LS6 2AB", KEY)) in hashes
    text = repr(rows).lower()
    assert "olivia" not in text and "9434765919" not in text and "1984" not in text
    strengths = {row.form: row.strength for row in rows if row.kind == "name"}
    assert strengths["full"] > strengths["initials"] > strengths["surname"]


@pytest.mark.parametrize(
    ("identifiers", "message"),
    [
        ({"nhs_number": ["943 476 5918"]}, "NHS"),
        ({"nino": ["QQ 12 34 56 Z"], "name": ["A Person"]}, "National Insurance"),
        ({"email": ["not-an-address"]}, "e-mail"),
        ({"name": ["Mrs"]}, "empty"),
        ({"name": ["Olivia Smith"], "date_of_birth": ["3rd of March"]}, "YYYY-MM-DD"),
        ({"name": ["Olivia Smith"], "date_of_birth": ["2999-01-01"]}, "future"),
        ({"postcode": ["LS6 2AB"]}, "name or an identifier unique"),
        ({"shoe_size": ["9"]}, "unknown identifier"),
    ],
)
def test_bad_identifiers_are_refused_with_a_clear_message(identifiers: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        identifier_hashes(identifiers, KEY)


def test_masked_label_shows_initials_only() -> None:
    assert masked_label(["Mrs Olivia Jane Smith"]) == "O. S."
    assert masked_label(["Smith, Olivia"]) == "O. S."
    assert masked_label([]) == "(no name)"
