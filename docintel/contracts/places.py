"""Places whose law can govern a contract: UK jurisdictions first, then US states and common others."""

from __future__ import annotations

import re

UK_JURISDICTIONS = ("England and Wales", "England", "Wales", "Scotland", "Northern Ireland")
US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
    "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma",
    "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
    "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "District of Columbia",
)  # fmt: skip
OTHER_JURISDICTIONS = (
    "Ireland", "Cayman Islands", "British Virgin Islands", "Bermuda", "Jersey", "Guernsey", "Isle of Man",
    "Ontario", "Quebec", "British Columbia", "Alberta", "Canada", "Germany", "France", "the Netherlands",
    "Switzerland", "Israel", "Singapore", "Hong Kong", "Japan", "Australia", "Luxembourg", "Sweden",
    "Denmark", "Norway", "Spain", "Italy", "Belgium", "India", "China", "United States",
)  # fmt: skip
ALL_PLACES = UK_JURISDICTIONS + US_STATES + OTHER_JURISDICTIONS
# Longest first, so "West Virginia" wins over "Virginia" and "England and Wales" over "England".
PLACE_PATTERN = "|".join(re.escape(place).replace(r"\ ", r"\s+") for place in sorted(ALL_PLACES, key=len, reverse=True))


def canonical_place(text: str) -> str:
    """The list's spelling of a place matched in text (case and spacing as the list has them)."""
    collapsed = re.sub(r"\s+", " ", text).strip().lower()
    for place in ALL_PLACES:
        if place.lower() == collapsed:
            return place.removeprefix("the ")
    return re.sub(r"\s+", " ", text).strip()
