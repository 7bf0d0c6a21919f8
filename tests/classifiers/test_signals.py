"""Governance signals: exact and near duplicates, wrong place, stale; tables of positive and negative cases."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest

from classifiers.config import SignalSettings, WrongPlaceRule, load_classifier_config
from classifiers.signals import (
    exact_duplicates,
    governance_signals,
    minhash,
    near_duplicate_texts,
    near_duplicates,
    shingles,
    similarity,
    stale,
    wrong_place,
)
from docintel import synthetic

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def _letter(seed: int, words: int = 220) -> str:
    """A long generated letter: varied enough that unrelated seeds share almost no shingles."""
    rng = random.Random(seed)
    vocabulary = [
        "council", "road", "school", "budget", "care", "plan", "meeting", "report", "waste", "library", "contract",
        "review", "officer", "service", "county", "resident", "transport", "housing", "repair", "grant", "policy",
    ]  # fmt: skip
    body = " ".join(rng.choice(vocabulary) for _ in range(words))
    return f"Dear {synthetic.person_name(rng)},\n{body}\nYours sincerely"


def _edited(text: str, changes: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = text.split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = "amended"
    return " ".join(words)


def row(doc_id: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {"id": doc_id, "sha256": None, "path": "", "record_class": None, "deleted": False}
    base.update(values)
    return base


def test_exact_duplicates_group_same_hash_and_skip_deleted_and_unhashed() -> None:
    rows = [
        row("a", sha256="1" * 64),
        row("b", sha256="1" * 64),
        row("c", sha256="1" * 64, deleted=True),
        row("d", sha256="2" * 64),
        row("e", sha256=None),
        row("f", sha256=None),
        row("g", sha256="3" * 64),
        row("h", sha256="3" * 64),
        row("i", sha256="3" * 64),
    ]
    groups = exact_duplicates(rows)
    assert [(g.key[:1], g.document_ids) for g in groups] == [("3", ("g", "h", "i")), ("1", ("a", "b"))]
    assert all(g.kind == "exact" for g in groups)


def test_shingles_and_minhash_basics() -> None:
    assert shingles("One two three", words=5) == {"one two three"}
    assert shingles("", words=5) == set()
    assert len(shingles("a b c d e f g", words=5)) == 3
    text = _letter(3)
    assert (minhash(text) == minhash(text)).all()  # deterministic, not Python's salted hash()
    assert similarity(minhash(text), minhash(text)) == 1.0
    assert similarity(minhash(text), minhash(_letter(4))) < 0.2
    assert similarity(minhash(""), minhash(text)) == 0.0


@pytest.mark.parametrize(
    ("changes", "near"),
    [
        (0, True),  # an exact copy is also near
        (1, True),  # one word changed in 220
        (3, True),  # a few edits, e.g. a corrected date and name
        (40, False),  # heavily edited: most shingles change
        (120, False),  # rewritten
    ],
)
def test_near_duplicates_by_amount_of_editing(changes: int, near: bool) -> None:
    original = _letter(11)
    texts = {"orig": original, "copy": _edited(original, changes), "other": _letter(99)}
    groups = near_duplicate_texts(texts, SignalSettings(near_duplicate_similarity=0.8))
    grouped = {doc_id for group in groups for doc_id in group.document_ids}
    assert ("copy" in grouped and "orig" in grouped) is near
    assert "other" not in grouped


def test_near_duplicates_joins_chains() -> None:
    base = np.arange(64, dtype=np.uint64)
    step = base.copy()
    step[:12] += 1000  # 52/64 equal to base
    further = step.copy()
    further[12:24] += 1000  # 52/64 equal to step, 40/64 to base
    signatures = {"a": base, "b": step, "c": further, "far": base + 5000}
    groups = near_duplicates(signatures, threshold=0.8)
    assert [g.document_ids for g in groups] == [("a", "b", "c")]  # a~b and b~c: one group
    assert similarity(base, further) < 0.8


def test_near_duplicate_texts_ignores_empty_documents() -> None:
    assert near_duplicate_texts({"a": "", "b": "   ", "c": "..."}) == []


SOCIAL_CARE_RULE = WrongPlaceRule(
    name="social care outside social care sites",
    classes=[r"social_care\..*"],
    allowed_paths=["social care", "children'?s services", "safeguarding"],
)


@pytest.mark.parametrize(
    ("record_class", "path", "misplaced"),
    [
        ("social_care.adult", "sites/Finance/Shared Documents", True),
        ("social_care.child_protection", "Users/jsmith/Desktop", True),
        ("social_care.adoption", "", True),
        ("social_care.adult", "sites/Adult Social Care/Case Files", False),
        ("social_care.child_protection", "sites/Childrens Services/Safeguarding", False),
        ("social_care.children_looked_after", "sites/Children's Services/CIC", False),
        ("finance.invoice", "sites/Finance/Shared Documents", False),  # rule is about social care only
        ("social_care_like.other", "sites/Finance", False),  # class pattern must match the whole id
        (None, "sites/Finance", False),  # unclassified rows are not judged
    ],
)
def test_wrong_place_table(record_class: str | None, path: str, misplaced: bool) -> None:
    found = wrong_place([row("d1", record_class=record_class, path=path)], [SOCIAL_CARE_RULE])
    assert bool(found) is misplaced
    if misplaced:
        assert found[0].rule == SOCIAL_CARE_RULE.name
        assert found[0].document_id == "d1"


def test_wrong_place_rules_from_shipped_config() -> None:
    settings = load_classifier_config(CONFIG_DIR, environ={}).signals
    rows = [
        row("hr-in-hr", record_class="hr.personnel", path="sites/HR/Personnel Files"),
        row("hr-in-highways", record_class="hr.personnel", path="sites/Highways/Shared"),
        row("pupil-in-finance", record_class="education.pupil_record", path="sites/Finance"),
        row("care-in-care", record_class="social_care.adult", path="sites/Adult Services/Reviews"),
    ]
    assert {m.document_id for m in wrong_place(rows, settings.wrong_place)} == {"hr-in-highways", "pupil-in-finance"}


@pytest.mark.parametrize(
    ("modified", "is_stale"),
    [
        (dt.datetime(2010, 1, 1, tzinfo=dt.UTC), True),
        (dt.datetime(2020, 5, 1, tzinfo=dt.UTC), True),  # just over six years
        (dt.datetime(2020, 7, 1, tzinfo=dt.UTC), False),  # just under
        (dt.datetime(2026, 1, 1), False),  # naive timestamps are taken as UTC
        (None, False),  # unknown age is not stale
    ],
)
def test_stale_table(modified: dt.datetime | None, is_stale: bool) -> None:
    found = stale([row("d", modified_at=modified)], years=6, now=NOW)
    assert bool(found) is is_stale
    if is_stale:
        assert found[0].years > 6


def test_governance_signals_flags_per_document() -> None:
    rows = [
        row("a", sha256="f" * 64, record_class="social_care.adult", path="sites/Finance", modified_at=NOW),
        row("b", sha256="f" * 64, record_class="finance.invoice", path="sites/Finance",
            modified_at=dt.datetime(2001, 1, 1, tzinfo=dt.UTC)),
    ]  # fmt: skip
    signals = governance_signals(rows, SignalSettings(stale_years=6, wrong_place=[SOCIAL_CARE_RULE]), now=NOW)
    flags = signals.by_document()
    assert flags["a"] == ["duplicate x2", f"wrong place: {SOCIAL_CARE_RULE.name}"]
    assert flags["b"] == ["duplicate x2", "stale: 25 years"]
