"""Subject access name matching: titles, initials, "Smith, Olivia", diacritics and the shipped nickname table."""

from __future__ import annotations

import pytest

from docintel.enrich.hashing import normalise
from docintel.enrich.name_variants import (
    FULL_NAME_STRENGTH,
    GIVEN_AND_SURNAME_STRENGTH,
    GIVEN_NAME_STRENGTH,
    INITIALS_STRENGTH,
    NICKNAME_STRENGTH,
    SURNAME_STRENGTH,
    PersonName,
    fold,
    match_name,
    name_variants,
    nicknames,
    parse_person_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Olivia Smith", PersonName(("olivia",), "smith")),
        ("Mrs Olivia Smith", PersonName(("olivia",), "smith")),
        ("Smith, Olivia", PersonName(("olivia",), "smith")),
        ("SMITH, Olivia Jane", PersonName(("olivia", "jane"), "smith")),
        ("Dr. O. J. Smith", PersonName(("o", "j"), "smith")),
        ("Cllr Olivia van der Berg OBE", PersonName(("olivia",), "van der berg")),
        ("Olivia Smith, OBE", PersonName(("olivia",), "smith")),
        ("Seán O’Brien", PersonName(("sean",), "o'brien")),
        ("Zoë  Brontë", PersonName(("zoe",), "bronte")),
        ("Wojciech Wiśniewski", PersonName(("wojciech",), "wisniewski")),
        ("Łukasz Nowak", PersonName(("lukasz",), "nowak")),
        ("Mrs Smith", PersonName((), "smith")),
        ("Olivia Smith-Jones", PersonName(("olivia",), "smith-jones")),
    ],
)
def test_parse_person_name(text: str, expected: PersonName) -> None:
    assert parse_person_name(text) == expected


@pytest.mark.parametrize("text", ["", "Mrs", "Dr.", "  ,  "])
def test_parse_person_name_refuses_no_name(text: str) -> None:
    with pytest.raises(ValueError, match="no name"):
        parse_person_name(text)


@pytest.mark.parametrize(
    ("requester", "found", "kind", "strength"),
    [
        ("Olivia Smith", "Olivia Smith", "full", FULL_NAME_STRENGTH),
        ("Olivia Smith", "SMITH, Olivia", "full", FULL_NAME_STRENGTH),
        ("Mrs Olivia Smith", "Ms Olivia Smith", "full", FULL_NAME_STRENGTH),
        ("Zoë Brontë", "Zoe Bronte", "full", FULL_NAME_STRENGTH),
        ("Olivia Jane Smith", "Olivia Smith", "given_and_surname", GIVEN_AND_SURNAME_STRENGTH),
        ("Olivia Jane Smith", "Olivia J. Smith", "given_and_surname", GIVEN_AND_SURNAME_STRENGTH),
        ("Olivia Smith", "Liv Smith", "nickname", NICKNAME_STRENGTH),
        ("William Jones", "Bill Jones", "nickname", NICKNAME_STRENGTH),
        ("Bill Jones", "William Jones", "nickname", NICKNAME_STRENGTH),
        ("Olivia Jane Smith", "O. J. Smith", "initials", INITIALS_STRENGTH),
        ("Olivia Jane Smith", "O Smith", "initials", INITIALS_STRENGTH),
        ("Olivia Smith", "Mrs Smith", "surname", SURNAME_STRENGTH),
        ("Olivia Smith", "Olivia", "given_name", GIVEN_NAME_STRENGTH),
        ("Olivia Smith", "Liv", "given_name", GIVEN_NAME_STRENGTH),
    ],
)
def test_match_name_positive(requester: str, found: str, kind: str, strength: float) -> None:
    match = match_name(requester, found)
    assert match is not None
    assert (match.kind, match.strength) == (kind, strength)


@pytest.mark.parametrize(
    ("requester", "found"),
    [
        ("Olivia Smith", "Oliver Smith"),  # another first name
        ("Olivia Smith", "Olivia Jones"),  # another surname
        ("Olivia Jane Smith", "J. Smith"),  # initials out of order
        ("Olivia Smith", "O. J. K. Smith"),  # more initials than given names
        ("Alexander Grant", "Alexandra Grant"),  # they share "Alex", not each other
        ("Olivia Smith", "Amelia"),
        ("Olivia Smith", "Dr"),  # no name at all
        ("Olivia Jane Smith", "Olivia Ruth Smith"),  # another middle name
    ],
)
def test_match_name_negative(requester: str, found: str) -> None:
    assert match_name(requester, found) is None


def test_nicknames_from_the_shipped_table() -> None:
    assert nicknames("Olivia") == {"liv", "livvy", "livia"}
    assert "alexander" in nicknames("Alex") and "alexandra" in nicknames("Alex")
    assert "alexandra" not in nicknames("Alexander")
    assert nicknames("Kwame") == frozenset()  # not in the table: no guesses


def test_variants_cover_the_forms_documents_write() -> None:
    variants = {variant.text: variant for variant in name_variants("Mrs Zoë Anne Brontë")}
    for form in ("zoë anne brontë", "zoe anne bronte", "bronte, zoe anne", "zoe bronte", "z. bronte", "z a bronte",
                 "bronte", "zoe"):  # fmt: skip
        assert form in variants, form
    assert variants["zoe bronte"].strength > variants["z. bronte"].strength > variants["bronte"].strength
    # strongest first, each form once
    strengths = [variant.strength for variant in name_variants("Olivia Smith")]
    assert strengths == sorted(strengths, reverse=True)
    assert len({v.text for v in name_variants("Olivia Smith")}) == len(name_variants("Olivia Smith"))


@pytest.mark.parametrize(
    ("requester", "document_form"),
    [("Olivia Smith", "Smith, Olivia"), ("Olivia Smith", "Liv Smith"), ("Olivia Jane Smith", "O. J. Smith"),
     ("Zoe Bronte", "Zoe  BRONTE"), ("Zoë Brontë", "Zoë Brontë"), ("Olivia Smith", "Olivia")],
)  # fmt: skip
def test_variants_are_what_the_catalogue_hashes(requester: str, document_form: str) -> None:
    # The catalogue hashes normalise("PERSON", finding text): a search hashing the variants meets it.
    assert normalise("PERSON", document_form) in {variant.text for variant in name_variants(requester)}


def test_fold() -> None:
    assert fold("  ZOË   Brontë ") == "zoe bronte"
    assert fold("Øyvind Łukasz O’Neill") == "oyvind lukasz o'neill"
