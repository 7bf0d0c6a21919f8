"""Parsers for contract values: legal-style dates, durations written in words and figures, notice periods."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from docintel.invoices.parse import MONTHS, ParsedDate, find_dates

# Numbers as contracts write them ("three (3) years", "twelve months"); larger ones are written in figures.
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-one": 21,
    "twenty-four": 24, "thirty": 30, "thirty-six": 36, "forty": 40, "forty-five": 45, "forty-eight": 48,
    "fifty": 50, "sixty": 60, "ninety": 90, "one hundred and twenty": 120, "one hundred and eighty": 180,
}  # fmt: skip
UNITS = {"day": "days", "business day": "business days", "working day": "working days", "week": "weeks",
         "month": "months", "year": "years", "calendar month": "months", "calendar year": "years"}  # fmt: skip
_NUMBER_WORD = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_UNIT = r"(?:calendar\s+|business\s+|working\s+)?(?:day|week|month|year)s?"
# "three (3) years", "3 years", "thirty-six (36) months", "a period of one year", "(5) years", "1.5 years"
DURATION = re.compile(
    rf"(?<![\w.])(?:(?P<word>{_NUMBER_WORD})\s*(?:\(\s*(?P<paren>\d+(?:\.\d+)?)\s*\)\s*)?|\(?(?P<digits>\d+(?:\.\d+)?)\)?\s*)"
    rf"(?:-|\s)?(?P<unit>{_UNIT})\b",
    re.IGNORECASE,
)
_DAY_OF_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+day\s+of\s+({'|'.join(sorted(MONTHS, key=len, reverse=True))})\.?,?\s+"
    rf"(?:in\s+the\s+year\s+)?(\d{{4}})\b",
    re.IGNORECASE,
)
# Plausible contract years: older papers are scanned archives, later ones typos.
MIN_YEAR = 1950
MAX_YEAR = 2099


@dataclass(frozen=True)
class Duration:
    """A length of time as the document states it: a number and a unit (days, weeks, months, years)."""

    number: float
    unit: str  # plural: days, business days, working days, weeks, months, years
    start: int
    end: int

    @property
    def text(self) -> str:
        """Human form, singular for one: "3 years", "1 year", "18 months"."""
        number = f"{self.number:g}"
        unit = self.unit if self.number != 1 else self.unit[:-1]
        return f"{number} {unit}"

    def months(self) -> float | None:
        """The length in months, when it is months or years."""
        if self.unit == "years":
            return self.number * 12
        if self.unit == "months":
            return self.number
        return None


def find_durations(text: str) -> list[Duration]:
    """Every duration in ``text`` ("three (3) years", "18 months"), figures preferred over words when both."""
    found: list[Duration] = []
    for match in DURATION.finditer(text):
        raw = match.group("paren") or match.group("digits")
        number = float(raw) if raw else float(NUMBER_WORDS[match.group("word").lower()])
        if number <= 0:
            continue
        unit = re.sub(r"\s+", " ", match.group("unit").lower()).removesuffix("s")
        found.append(Duration(number, UNITS.get(unit, unit + "s"), match.start(), match.end()))
    return found


def find_contract_dates(text: str, *, day_first: bool = True) -> list[ParsedDate]:
    """Every plausible date in ``text``, legal forms included ("the 4th day of May, 2005"); numeric ones day-first
    unless told otherwise, or written with a dot between month and day."""
    found = [date for date in find_dates(text, day_first=day_first) if MIN_YEAR <= date.value.year <= MAX_YEAR]
    for match in _DAY_OF_MONTH.finditer(text):
        try:
            value = dt.date(int(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
        except ValueError:
            continue
        found.append(ParsedDate(value, False, match.start(), match.end()))
    found.sort(key=lambda parsed: (parsed.start, -parsed.end))
    # Keep the longest reading at each place ("4th day of May 2005" over "May 2005" read alone).
    kept: list[ParsedDate] = []
    for date in found:
        if kept and date.start < kept[-1].end:
            continue
        kept.append(date)
    return kept


def add_duration(start: dt.date, duration: Duration) -> dt.date | None:
    """The last day of a term starting on ``start`` and running ``duration`` (months clamp to month end)."""
    if duration.unit in ("years", "months"):
        months = duration.months()
        if months is None or months != int(months):
            return None
        total = start.month - 1 + int(months)
        year, month = start.year + total // 12, total % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day) - dt.timedelta(days=1)
    if duration.unit == "weeks":
        return start + dt.timedelta(weeks=duration.number) - dt.timedelta(days=1)
    if duration.unit == "days":
        return start + dt.timedelta(days=duration.number) - dt.timedelta(days=1)
    return None  # business and working days need a calendar of holidays
