"""bench/contracts.py scoring: Kleister's normal form, its pairs and the micro F1 tally."""

from __future__ import annotations

import pytest

from bench.contracts import Tally, expected_pairs, kleister_pairs, kleister_value
from docintel.contracts.extract import extract_contract


@pytest.mark.parametrize(
    ("ours", "gold"),
    [
        ("NIKE, Inc.", "NIKE_INC."),
        ("W&L Enterprises Ltd.", "W_AND_L_ENTERPRISES_LTD."),
        ("Transdigm Group Incorporated", "TRANSDIGM_GROUP_INC."),
        ("Z Capital Partners, L.L.C.", "Z_CAPITAL_PARTNERS_LLC"),
        ("Wynn Resorts, Limited", "WYNN_RESORTS_LTD."),
        ("New York", "NEW_YORK"),
    ],
)
def test_kleister_value(ours: str, gold: str) -> None:
    assert kleister_value(ours) == gold


def test_pairs_and_tally_score_like_geval() -> None:
    text = (
        "MUTUAL NON-DISCLOSURE AGREEMENT\nThis Agreement is made as of February 18, 2013, by and between Acme Widgets, "
        'Inc., a Delaware corporation ("Acme") and Example Holdings LLC (the "Recipient").\n'
        "This Agreement shall be governed by the laws of the State of New York.\n"
    )
    predicted = kleister_pairs(extract_contract(text))
    gold = expected_pairs(
        {"expected": "effective_date=2013-02-18 jurisdiction=New_York party=Acme_Widgets_Inc. term=2_years"}
    )
    tally = Tally()
    for key in predicted:
        tally.add(predicted[key], gold[key], "doc")
    # Three pairs right, the second party a false positive, the term a false negative.
    assert (tally.tp, tally.fp, tally.fn) == (3, 1, 1)
    assert tally.scores() == pytest.approx((0.75, 0.75, 0.75))
