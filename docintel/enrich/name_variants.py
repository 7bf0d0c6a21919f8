"""A requester's name in the forms documents write it, for subject access searches, and how strongly a name matches.

Documents name a person many ways: "Mrs Olivia Smith", "Smith, Olivia" (Outlook), "O. Smith", "Liv Smith",
"Zoë Brontë" typed "Zoe Bronte", "Dear Mrs Smith" (the PERSON finding is then "Smith"), "Olivia" alone. The
catalogue holds only keyed hashes of each finding's text (casefolded, spaces collapsed: docintel.enrich.hashing), so
a search hashes each form this module lists. Each form carries how much it alone ties a document to the requester:
the full name is strong, a nickname or initial a little less, a surname or a first name alone weak (many people
share them); a caller ranks documents by the strongest form found, plus other identifiers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from docintel.enrich.names import HONORIFICS

# How strongly one form of the name, found alone, ties a document to the requester (0-1).
FULL_NAME_STRENGTH = 1.0  # every given name and the surname, in either order, with or without diacritics
GIVEN_AND_SURNAME_STRENGTH = 0.9  # first given name and surname, middle names left out
NICKNAME_STRENGTH = 0.8  # a known short form of the first name with the surname ("Liv Smith")
INITIALS_STRENGTH = 0.6  # initials with the surname ("O. Smith", "O J Smith"): others share them
SURNAME_STRENGTH = 0.3  # the surname alone, as "Dear Mrs Smith" leaves it
GIVEN_NAME_STRENGTH = 0.2  # the first name alone, as case notes use it after the first mention

# Letters after a name that are not part of it.
SUFFIXES = frozenset({"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "obe", "mbe", "cbe", "kc", "qc",
                      "phd", "msc", "ba", "bsc", "ma", "mp", "jp", "esq"})  # fmt: skip
# Surname particles kept with the surname: "van der Berg", "de Souza", "O'Brien" needs none.
SURNAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "bin",
                               "binti", "al", "el", "ap", "mac", "st"})  # fmt: skip

# Short forms of common first names in the UK, one group per formal name; a nickname may sit in several groups
# ("Alex": Alexander and Alexandra). Small on purpose: the common ones, not every possible diminutive.
NICKNAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("alexander", "alex", "al", "sandy", "xander"), ("alexandra", "alex", "lexi", "sandra", "sasha"),
    ("andrew", "andy", "drew"), ("anthony", "tony", "ant"), ("benjamin", "ben", "benny"), ("catherine", "cathy", "kate",
    "katie", "cath"), ("katherine", "kathy", "kate", "katie", "kath", "kat"), ("charles", "charlie", "chas", "chuck"),
    ("charlotte", "charlie", "lottie", "lotte"), ("christopher", "chris", "kit"), ("christine", "chris", "chrissie",
    "tina"), ("daniel", "dan", "danny"), ("david", "dave", "davy", "dai"), ("deborah", "debbie", "deb", "debs"),
    ("edward", "ed", "eddie", "ted", "ned"), ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "bess"),
    ("eleanor", "ellie", "nell", "nora", "elle"), ("frederick", "fred", "freddie"), ("gareth", "gaz"),
    ("harriet", "hattie"), ("henry", "harry", "hal", "hank"), ("isabella", "bella", "izzy", "isa"),
    ("isabel", "izzy", "bel"), ("james", "jim", "jimmy", "jamie", "jem"), ("jennifer", "jen", "jenny"),
    ("john", "jack", "johnny", "jonny"), ("jonathan", "jon", "jonny"), ("joseph", "joe", "joey"),
    ("josephine", "jo", "josie"), ("joanne", "jo"), ("margaret", "maggie", "meg", "peggy", "mags"),
    ("matthew", "matt", "matty"), ("michael", "mike", "mick", "mickey", "micky"), ("nicholas", "nick", "nicky"),
    ("nicola", "nicky", "nikki"), ("olivia", "liv", "livvy", "livia"), ("patrick", "pat", "paddy"),
    ("patricia", "pat", "patsy", "trish"), ("peter", "pete"), ("rebecca", "becky", "becca", "bex"),
    ("richard", "rich", "richie", "rick", "dick"), ("robert", "rob", "robbie", "bob", "bobby", "bert"),
    ("samuel", "sam", "sammy"), ("samantha", "sam", "sammy"), ("sarah", "sally", "sadie"),
    ("stephen", "steve", "stevie"), ("steven", "steve", "stevie"), ("susan", "sue", "suzy", "susie"),
    ("thomas", "tom", "tommy"), ("timothy", "tim", "timmy"), ("victoria", "vicky", "vikki", "tori"),
    ("william", "will", "bill", "billy", "liam", "willie"), ("zachary", "zach", "zak"),
    ("mohammed", "mohammad", "muhammad", "mohamed", "mo"), ("siobhan", "shiv"), ("gwendolyn", "gwen"),
    ("dafydd", "dai", "dave"), ("llewellyn", "llew"), ("angharad", "angie"), ("agnieszka", "aga"),
    ("aleksander", "olek", "alek"), ("wojciech", "wojtek"), ("stanislaw", "stan", "stas"),
)  # fmt: skip

_NAME_SEPARATORS = re.compile(r"[\s.]+")
_NOT_NAME_CHARS = re.compile(r"[^\w'’\- ]")


@dataclass(frozen=True)
class PersonName:
    """A name split into given names and surname, lower case, titles and suffixes removed."""

    given: tuple[str, ...]
    surname: str


@dataclass(frozen=True)
class NameVariant:
    """One form of a name as a document may write it (casefolded), and how strongly it alone ties to the person."""

    text: str
    kind: str  # "full", "given_and_surname", "nickname", "initials", "surname", "given_name"
    strength: float


@dataclass(frozen=True)
class NameMatch:
    """Why a name found in a document matches the requester's, and how strongly."""

    kind: str
    strength: float


def fold(text: str) -> str:
    """Casefolded, diacritics removed, spaces collapsed: "Zoë  BRONTË" -> "zoe bronte"."""
    decomposed = unicodedata.normalize("NFKD", text)
    # Letters that do not decompose into a base letter and a mark ("ł", "ø", "ß") are mapped by hand.
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_UNDECOMPOSED)
    return " ".join(plain.casefold().replace("’", "'").split())


_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE",
                               "œ": "oe", "Œ": "OE", "ı": "i"})  # fmt: skip


def parse_person_name(text: str, keep_marks: bool = False) -> PersonName:
    """Given names and surname of ``text``: "Mrs Olivia J. Smith", "Smith, Olivia", "O Smith", "Olivia van der Berg".

    ``keep_marks``: keep diacritics and apostrophes as written (casefolded only), as the catalogue's hashes do.
    """
    normal = (lambda part: " ".join(part.casefold().split())) if keep_marks else fold
    if "," in text:
        # "Smith, Olivia" (Outlook, registers): surname first. "Olivia Smith, OBE" keeps its order.
        before, after = (part.strip() for part in text.split(",", 1))
        text = f"{after} {before}" if after and normal(after).replace(".", "") not in SUFFIXES else before
    words = [w for w in _NAME_SEPARATORS.split(_NOT_NAME_CHARS.sub(" ", normal(text))) if w]
    while words and words[0] in HONORIFICS:
        words.pop(0)
    while words and words[-1] in SUFFIXES:
        words.pop()
    if not words:
        raise ValueError("no name left after titles and suffixes")
    if len(words) == 1:
        return PersonName(given=(), surname=words[0])
    # Particles before the last word belong to the surname: "olivia van der berg" -> surname "van der berg".
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in SURNAME_PARTICLES:
        cut -= 1
    return PersonName(given=tuple(words[:cut]), surname=" ".join(words[cut:]))


@lru_cache(maxsize=1)
def _nickname_index() -> dict[str, frozenset[str]]:
    """Each name of the table -> every name that shares a group with it (itself included)."""
    index: dict[str, set[str]] = {}
    for group in NICKNAME_GROUPS:
        for name in group:
            index.setdefault(name, set()).update(group)
    return {name: frozenset(names) for name, names in index.items()}


def nicknames(given_name: str) -> frozenset[str]:
    """The other forms of a first name in the shipped table ("olivia" -> liv, livvy, livia), itself excluded."""
    folded = fold(given_name)
    return _nickname_index().get(folded, frozenset({folded})) - {folded}


def name_variants(text: str) -> list[NameVariant]:
    """Every form of the name to search for, strongest first, each once, casefolded.

    Each form comes without diacritics ("zoe bronte") and, where the requester's name has them, also as written
    ("zoë brontë"): the catalogue hashes a name as its document wrote it, and writers do both.
    """
    found: dict[str, NameVariant] = {}
    for keep_marks in (True, False):
        _add_variants(parse_person_name(text, keep_marks), found)
    return sorted(found.values(), key=lambda v: -v.strength)


def _add_variants(name: PersonName, found: dict[str, NameVariant]) -> None:
    """Add the forms of ``name`` to ``found`` (a form already there keeps its first reading)."""

    def add(form: str, kind: str, strength: float) -> None:
        if form and form not in found:
            found[form] = NameVariant(form, kind, strength)

    given, surname = name.given, name.surname
    if given:
        add(" ".join((*given, surname)), "full", FULL_NAME_STRENGTH)
        add(f"{surname}, {' '.join(given)}", "full", FULL_NAME_STRENGTH)
        add(f"{given[0]} {surname}", "given_and_surname", GIVEN_AND_SURNAME_STRENGTH)
        add(f"{surname}, {given[0]}", "given_and_surname", GIVEN_AND_SURNAME_STRENGTH)
        for nickname in sorted(nicknames(given[0])):
            add(f"{nickname} {surname}", "nickname", NICKNAME_STRENGTH)
            add(f"{surname}, {nickname}", "nickname", NICKNAME_STRENGTH)
        initials = [word[0] for word in given]
        for letters in (initials[:1], initials):
            add(" ".join((*letters, surname)), "initials", INITIALS_STRENGTH)
            add(" ".join((*(f"{letter}." for letter in letters), surname)), "initials", INITIALS_STRENGTH)
            add(f"{''.join(letters)} {surname}", "initials", INITIALS_STRENGTH)
    add(surname, "surname", SURNAME_STRENGTH)
    if given:
        add(given[0], "given_name", GIVEN_NAME_STRENGTH)


def match_name(requester: str, found: str) -> NameMatch | None:
    """How a name found in a document matches the requester's name (None: it does not), strongest reading."""
    try:
        wanted, seen = parse_person_name(requester), parse_person_name(found)
    except ValueError:
        return None
    if wanted.surname != seen.surname:
        # A first name alone: "Olivia" in a case note about Olivia Smith.
        if not seen.given and wanted.given and seen.surname in {wanted.given[0], *nicknames(wanted.given[0])}:
            return NameMatch("given_name", GIVEN_NAME_STRENGTH)
        return None
    if not seen.given:
        return NameMatch("surname", SURNAME_STRENGTH)
    if not wanted.given:
        return NameMatch("surname", SURNAME_STRENGTH)
    if seen.given == wanted.given:
        return NameMatch("full", FULL_NAME_STRENGTH)
    first_wanted, first_seen = wanted.given[0], seen.given[0]
    if first_seen == first_wanted and _given_consistent(wanted.given, seen.given):
        return NameMatch("given_and_surname", GIVEN_AND_SURNAME_STRENGTH)
    if first_seen in nicknames(first_wanted) and _given_consistent(wanted.given[1:], seen.given[1:]):
        return NameMatch("nickname", NICKNAME_STRENGTH)
    if all(len(word) == 1 for word in seen.given) and _initials_agree(wanted.given, seen.given):
        return NameMatch("initials", INITIALS_STRENGTH)
    return None


def _given_consistent(wanted: tuple[str, ...], seen: tuple[str, ...]) -> bool:
    """True when the names seen are the wanted ones in order, some left out or reduced to initials."""
    remaining = list(wanted)
    for word in seen:
        while remaining and not (remaining[0] == word or (len(word) == 1 and remaining[0][0] == word)):
            remaining.pop(0)
        if not remaining:
            return False
        remaining.pop(0)
    return True


def _initials_agree(wanted: tuple[str, ...], seen: tuple[str, ...]) -> bool:
    """True when the initials seen start the wanted given names' initials in order ("O" or "O J" for Olivia Jane)."""
    return len(seen) <= len(wanted) and all(word == name[0] for word, name in zip(seen, wanted, strict=False))
