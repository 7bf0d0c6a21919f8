"""A requester's identifiers as the keyed hashes a case keeps, in every form documents write them.

Nothing here is stored in clear. Each identifier becomes one or more :class:`IdentifierHash` rows: a name becomes
every variant :mod:`docintel.enrich.name_variants` lists (title, initials, "Smith, Olivia", diacritics,
nicknames), a date of birth every way UK documents write a date ("3/3/1984", "03.03.84", "3rd March 1984"), since
the catalogue hashes a date of birth as written. Numbers, e-mails, phones and postcodes are normalised by
:func:`docintel.enrich.hashing.normalise` before hashing, so one form each suffices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from docintel.enrich.hashing import normalise, pii_hash
from docintel.enrich.name_variants import name_variants, parse_person_name
from docintel.enrich.recognizers import checksums
from docintel.errors import DocintelError

# Identifier kind -> the entity type its value is catalogued under.
ENTITY_TYPES: dict[str, str] = {
    "name": "PERSON",
    "date_of_birth": "DATE_OF_BIRTH",
    "address": "STREET_ADDRESS",
    "postcode": "UK_POSTCODE",
    "nhs_number": "UK_NHS",
    "nino": "UK_NINO",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "account_number": "UK_BANK_ACCOUNT",
}
# Kinds that single one person out on their own: a document holding one of them is about the requester.
UNIQUE_KINDS = frozenset({"nhs_number", "nino", "email", "phone", "account_number"})
# Kinds that single a person out only with their name: many people share a birthday, an address or a postcode.
CORROBORATING_KINDS = frozenset({"date_of_birth", "address", "postcode"})
# How much a match of each kind adds to a document's score (a name adds its variant's strength, up to 1).
KIND_WEIGHTS: dict[str, float] = {
    "nhs_number": 1.0,
    "nino": 1.0,
    "email": 0.9,
    "phone": 0.8,
    "account_number": 0.8,
    "date_of_birth": 0.7,
    "address": 0.6,
    "postcode": 0.4,
}
# Kinds whose presence with another value in a document (a different date of birth or NHS number next to the same
# name) says the document is probably about someone else.
CONFLICTING_KINDS = frozenset({"date_of_birth", "nhs_number", "nino"})

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class InvalidIdentifier(DocintelError):
    """A requester identifier that cannot be what it claims (a bad NHS check digit, a date that is no date)."""

    exit_code = 2
    http_status = 422


@dataclass(frozen=True)
class IdentifierHash:
    """One searched form of one identifier: its kind, which form, entity type, keyed hash and strength."""

    kind: str
    form: str
    entity_type: str
    value_hash: str
    strength: float


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def date_forms(born: dt.date) -> list[str]:
    """The ways UK documents write a date: numeric with / . - (two- and four-digit years), words, ISO."""
    forms: list[str] = []
    for day in dict.fromkeys((str(born.day), f"{born.day:02d}")):
        for month in dict.fromkeys((str(born.month), f"{born.month:02d}")):
            for year in (str(born.year), f"{born.year % 100:02d}"):
                forms += [f"{day}{sep}{month}{sep}{year}" for sep in "/.-"]
    month_name = _MONTHS[born.month - 1]
    for day in (str(born.day), _ordinal(born.day), f"{born.day:02d}"):
        for name in (month_name, month_name[:3], f"{month_name[:3]}."):
            forms += [
                f"{day} {name} {born.year}",
                f"{day} {name}, {born.year}",
                f"{name} {day}, {born.year}",
                f"{name} {day} {born.year}",
            ]
    forms.append(born.isoformat())
    return list(dict.fromkeys(forms))


def parse_date_of_birth(value: str) -> dt.date:
    """A date of birth given as YYYY-MM-DD or DD/MM/YYYY; InvalidIdentifier otherwise."""
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            born = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if born > dt.datetime.now(dt.UTC).date():
            raise InvalidIdentifier("the date of birth is in the future")
        return born
    raise InvalidIdentifier("give the date of birth as YYYY-MM-DD or DD/MM/YYYY")


def _validate(kind: str, value: str) -> None:
    normalised = normalise(ENTITY_TYPES[kind], value)
    if not normalised.strip():
        raise InvalidIdentifier(f"{kind} is empty")
    if kind == "nhs_number" and not checksums.nhs_is_valid(normalised):
        raise InvalidIdentifier("nhs_number is not a valid NHS number (ten digits with a mod-11 check digit)")
    if kind == "nino" and not checksums.nino_is_valid(normalised):
        raise InvalidIdentifier("nino is not a valid National Insurance number")
    if kind == "email" and "@" not in normalised:
        raise InvalidIdentifier("email is not an e-mail address")


def identifier_hashes(identifiers: Mapping[str, Sequence[str]], key: bytes) -> list[IdentifierHash]:
    """Every searched form of every identifier given (kind -> values), hashed under ``key``."""
    rows: dict[tuple[str, str], IdentifierHash] = {}

    def add(kind: str, form: str, value: str, strength: float) -> None:
        entity_type = ENTITY_TYPES[kind]
        value_hash = pii_hash(entity_type, value, key)
        rows.setdefault((entity_type, value_hash), IdentifierHash(kind, form, entity_type, value_hash, strength))

    for kind, values in identifiers.items():
        if kind not in ENTITY_TYPES:
            raise InvalidIdentifier(f"unknown identifier {kind!r}; known: {', '.join(ENTITY_TYPES)}")
        for value in values:
            if kind == "name":
                try:
                    variants = name_variants(value)
                except ValueError as exc:
                    raise InvalidIdentifier("a name is empty once titles and suffixes are removed") from exc
                for variant in variants:
                    add(kind, variant.kind, variant.text, variant.strength)
            elif kind == "date_of_birth":
                for form in date_forms(parse_date_of_birth(value)):
                    add(kind, "value", form, KIND_WEIGHTS[kind])
            else:
                _validate(kind, value)
                add(kind, "value", value, KIND_WEIGHTS[kind])
    if not any(row.kind in UNIQUE_KINDS or row.kind == "name" for row in rows.values()):
        raise InvalidIdentifier("give the requester's name or an identifier unique to them (NHS/NINO, e-mail...)")
    return list(rows.values())


def masked_label(names: Iterable[str]) -> str:
    """What the handler sees of the requester: initials ("O. S."), never the name (docs/subject-access.md)."""
    for name in names:
        try:
            parsed = parse_person_name(name)
        except ValueError:
            continue
        return " ".join(f"{word[0].upper()}." for word in (*parsed.given[:1], parsed.surname) if word)
    return "(no name)"
