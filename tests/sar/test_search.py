"""How a document's matches decide its tie to the requester: a table of cases, look-alikes included."""

from __future__ import annotations

import pytest

from docintel.enrich.name_variants import FULL_NAME_STRENGTH, INITIALS_STRENGTH, SURNAME_STRENGTH
from docintel.sar.search import DocumentTie


@pytest.mark.parametrize(
    ("name_strength", "name_form", "kinds", "conflicts", "tie", "brought_in"),
    [
        (0.0, None, {"nhs_number"}, set(), "strong", True),  # a unique identifier alone
        (0.0, None, {"email"}, {"date_of_birth"}, "strong", True),  # unique beats another person's birth date
        (FULL_NAME_STRENGTH, "full", {"date_of_birth"}, set(), "strong", True),
        (INITIALS_STRENGTH, "initials", {"postcode"}, set(), "strong", True),
        (0.0, None, {"date_of_birth", "postcode"}, set(), "strong", True),  # unnamed, but singled out
        (SURNAME_STRENGTH, "surname", {"postcode"}, set(), "weak", True),  # "Dear Mrs Smith" at the postcode
        (FULL_NAME_STRENGTH, "full", set(), set(), "weak", True),  # the name alone
        (FULL_NAME_STRENGTH, "full", set(), {"date_of_birth"}, "conflict", True),  # a look-alike
        (FULL_NAME_STRENGTH, "full", set(), {"nhs_number", "date_of_birth"}, "conflict", True),
        (FULL_NAME_STRENGTH, "full", {"postcode"}, {"date_of_birth"}, "strong", True),
        (SURNAME_STRENGTH, "surname", set(), set(), "weak", False),  # every Smith: not brought in
        (0.0, None, {"postcode"}, set(), "weak", False),  # the neighbours: not brought in
    ],
)
def test_tie(
    name_strength: float, name_form: str | None, kinds: set[str], conflicts: set[str], tie: str, brought_in: bool
) -> None:
    document = DocumentTie("doc", name_strength, name_form, kinds, conflicts)
    assert (document.tie, document.brought_in) == (tie, brought_in)
    assert document.reasons()  # always says why


def test_conflicts_rank_below_the_same_name_alone() -> None:
    alone = DocumentTie("a", FULL_NAME_STRENGTH, "full")
    lookalike = DocumentTie("b", FULL_NAME_STRENGTH, "full", conflicts={"date_of_birth"})
    assert lookalike.score < alone.score
    assert lookalike.reasons() == ["name (full)", "another date of birth next to the name"]
