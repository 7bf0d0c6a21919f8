"""The styled generated corpus (issue 20): labels point at their values, same seed same corpus, the cues are there."""

from __future__ import annotations

import re

from bench import ukdata


def test_styled_labels_point_at_their_values_and_the_seed_fixes_the_corpus() -> None:
    corpus = ukdata.generate_styled_corpus(3, 40)
    assert [doc.text for doc in corpus] == [doc.text for doc in ukdata.generate_styled_corpus(3, 40)]
    assert {doc.kind for doc in corpus} == {"styled_case_note", "styled_letter", "styled_email", "styled_meeting"}
    for doc in corpus:
        for span in doc.spans:
            assert doc.text[span.start : span.end] == span.value
            assert span.label in ukdata.LABELS


def test_styled_corpus_holds_the_cases_the_issue_names() -> None:
    corpus = ukdata.generate_styled_corpus(ukdata.DEV_SEED, 200)
    text = "\n".join(doc.text for doc in corpus)
    phones = [span.value for doc in corpus for span in doc.spans if span.label == "PHONE_NUMBER"]
    names = {span.value for doc in corpus for span in doc.spans if span.label == "PERSON"}
    assert any(p.replace(" ", "").replace("-", "").startswith("07700900") for p in phones)
    assert any("1632" in p and p.lstrip("(").startswith("0") for p in phones)  # national 01632 960xxx
    assert any(p.startswith("+44") for p in phones)
    assert any(re.search(rf"(?m)^{re.escape(name)}'s ", text) for name in names)  # a line opening with a possessive
    assert any(re.search(rf"From: {re.escape(name)} <", text) for name in names if ", " in name)  # Outlook's order
    for cue in ("Spoke to ", "Dear ", "The client, ", "Hi ", "Thanks,\n"):
        assert cue in text
    # phone-shaped references carry no label
    references = 0
    for doc in corpus:
        starts = {span.start for span in doc.spans}
        for match in re.finditer(r"(?:Claim reference|Case number|Payment ID|Invoice|UPRN|File ref) (\d+)", doc.text):
            references += 1
            assert match.start(1) not in starts
    assert references
    # the styled names share nothing with the lists the other corpus and the tests draw from
    assert not set(ukdata.STYLED_FIRST_NAMES) & set(ukdata.synthetic.FIRST_NAMES)
