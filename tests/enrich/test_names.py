"""Issue 20: names in UK case notes, letters and e-mails written in other styles, found without losing precision."""

from __future__ import annotations

import pytest

from docintel.enrich.analyzer import TextAnalyzer


def _names(analyzer: TextAnalyzer, text: str) -> list[str]:
    return [finding.text for finding in analyzer.analyze(text)[1] if finding.entity_type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a line that opens with a name before a possessive
        ("Olivia Smith's National Insurance number is on file.", ["Olivia Smith"]),
        ("Home visit done.\nDeclan Gallagher's tenancy ends in May.", ["Declan Gallagher"]),
        # after a phrase that brings a person in, closing a sentence or not
        ("12 March 2025 Spoke to Declan Gallagher at home.", ["Declan Gallagher"]),
        ("Home visit completed. Visited by Harpreet Sandhu.", ["Harpreet Sandhu"]),
        ("The client, Zainab Begum, declined the offer.", ["Zainab Begum"]),
        ("Telephone call from Yusuf Hussain about the bill.", ["Yusuf Hussain"]),
        ("Concerns were raised about Maisie Oduya.", ["Maisie Oduya"]),  # the model tags these two words ORG
        ("22 October 2025 Letter sent to Wojciech Atkinson. Wojciech agreed.", ["Wojciech Atkinson", "Wojciech"]),
        ("I am writing on behalf of Imran Mistry about the claim.", ["Imran Mistry"]),
        ("Case discussed in supervision with Graham Fairbairn.", ["Graham Fairbairn"]),
        ("Subject: Referral - Chloe Nowak", ["Chloe Nowak"]),
        ("Visit cancelled by Dorota Zielinska, who was unwell.", ["Dorota Zielinska"]),
        ("Notes of discussion with Fergus McAllister and his support worker, Leanne.", ["Fergus McAllister", "Leanne"]),
        ("Message left for Aoife Brennan this morning.", ["Aoife Brennan"]),
        # a police rank is a title before the surname
        ("Present: Detective Sergeant Lyons, Bernadette Hagan (School Nurse).", ["Lyons", "Bernadette Hagan"]),
        # the first name alone later, before a possessive too
        ("I spoke to Tyler Nowak today. Tyler's mobile is off.", ["Tyler Nowak", "Tyler"]),
        # salutations and signatures
        ("Dear Mrs Pritchard\n\nThank you for your letter.", ["Pritchard"]),
        ("Hi Kieran,\n\nThe form is attached.", ["Kieran"]),
        ("Morning Tanisha,\n\nSee below.", ["Tanisha"]),
        ("Good afternoon Ronan,\n\nSee below.", ["Ronan"]),
        ("The review is booked.\n\nYours sincerely,\n\nBronwen Lloyd\nHousing Officer\n", ["Bronwen Lloyd"]),
        ("See you then.\n\nThanks,\nAbdul\n", ["Abdul"]),
        ("Next review in May.\n\nConnor Price\nOccupational Therapist\n", ["Connor Price"]),
        ("Present: Bilal Wiśniewski (Chair), Police Liaison Officer", ["Bilal Wiśniewski"]),
        # e-mail headers, Outlook's "Surname, First" as one name
        ("From: Shaw, Morag <morag.shaw@example.org>\nSubject: visit", ["Shaw, Morag"]),
        ("From: Gareth Foster <gareth.foster@example.org>\nSubject: visit", ["Gareth Foster"]),
    ],
)
def test_names_in_other_styles_are_found(analyzer: TextAnalyzer, text: str, expected: list[str]) -> None:
    assert _names(analyzer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Spoke to Age UK about a befriender.",  # an organisation, not a name cut short ("Ag")
        "Universal Credit claim discussed.",
        "Early Help\nTeam Manager",  # a team over a role is not a signature
        "Present: the Chair and a Police Liaison Officer.",
        "Email received from Citizens Advice.",
        "Concerns about Christmas were raised.",
        "Hello Leeds Teaching Hospitals,",
        "Rang GP surgery.",
        "She agreed to help. Landline (01632) 960124.",
        "The report was seen by Reuters before the debate.",  # one word after "seen by": spaCy's ORG stands
        "Call from Amazon about a parcel.",  # one word after a phrase companies follow too: spaCy's ORG stands
        "Call from British Gas about the meter.",
        "The Council's decision was upheld.",
        "Monday's meeting was cancelled.",
        "Good morning Team,",
        "Thanks,\nHousing Options",
        "Best,\nFinance Team",
        "Referral - Blue Badge renewal",
        "Letter sent to Victoria Road office.",
        "Visited by Social Services.",
        "From: Housing Options <housing@example.gov.uk>",
        "Booked by Reception for Tuesday.",
        "Left for Leeds at noon.",
        "Conversation with North Yorkshire Police.",
        "Cancelled by Royal Mail.",
        "Her landlord Clarion Housing has been told.",  # landlords are often organisations: not a relation cue
        "Detective Chief Inspector",
    ],
)
def test_capitalised_words_that_are_not_names(analyzer: TextAnalyzer, text: str) -> None:
    assert _names(analyzer, text) == []
