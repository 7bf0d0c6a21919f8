"""Reading the UK-style dates the personal-data recognizers find: one parser for the recognizer and the retain stage.

Kept apart from the recognizers (which import Presidio) so the retain stage can read a date-of-birth finding's
date without loading an NLP stack or reaching into a recognizer's module.
"""

from __future__ import annotations

import datetime as dt

import regex

MONTHS_PATTERN = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    "|nov(?:ember)?|dec(?:ember)?"
)
_MONTH_NUMBERS = {name[:3]: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_DATE_PARTS = regex.compile(
    rf"(?i)^(?:(?P<d>\d{{1,2}})[/.-](?P<m>\d{{1,2}})[/.-](?P<y>\d{{2,4}})"
    rf"|(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn>{MONTHS_PATTERN})\.?,?\s+(?P<y>\d{{4}})"
    rf"|(?P<mn>{MONTHS_PATTERN})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})"
    rf"|(?P<y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}}))$"
)
# Two-digit years: above this they are 19xx, else 20xx (a person born in 2031 is not in a council file yet).
TWO_DIGIT_YEAR_PIVOT = 30
# No one in a council record was born before this year; an earlier "date" is a misread.
EARLIEST_BIRTH_YEAR = 1880


def parse_date(value: str) -> dt.date | None:
    """The date a UK-style date string names (day first), or None when it is not a real past date."""
    match = _DATE_PARTS.match(value.strip())
    if match is None:
        return None
    year = int(match.group("y"))
    if year < 100:
        year += 1900 if year > TWO_DIGIT_YEAR_PIVOT else 2000
    month = _MONTH_NUMBERS[match.group("mn").lower()[:3]] if match.group("mn") else int(match.group("m"))
    try:
        date = dt.date(year, month, int(match.group("d")))
    except ValueError:
        return None
    return date if date.year >= EARLIEST_BIRTH_YEAR and date <= dt.date.today() else None
