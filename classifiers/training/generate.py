"""The shipped training set: council-style documents generated from templates, deterministic for a seed.

Every class in :data:`classifiers.training.templates.TEMPLATES` gets ``per_class`` documents. Each one
takes one style of the class (its template or one of its :data:`~classifiers.training.templates.VARIANTS`),
draws a title, a folder, an opening and a random subset of the class's sentences, mixed with sentences any
council document holds, and fills the placeholders with invented people (from :mod:`docintel.synthetic`),
places, dates and amounts. Some documents lose their title or folder, so the model cannot lean on either.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from string import Formatter

from classifiers.training import forms
from classifiers.training import templates as tpl
from docintel import synthetic
from docintel.models import DocumentRecord, Provenance

# Seed of the shipped set; held-out calibration data uses a different one so it never repeats a training document.
TRAINING_SEED = 2026
CALIBRATION_SEED = 7
# Documents per class in the shipped set: enough for a stable linear head, small enough to embed in ~a minute.
DEFAULT_PER_CLASS = 40
# Share of documents generated without a title (the file name then carries it) or without a folder.
NO_TITLE_SHARE = 0.3
# Many documents reach a classifier without a telling folder (mail attachments, "Documents", a OneDrive root).
NO_FOLDER_SHARE = 0.35
# Share of messages without a subject line.
NO_SUBJECT_SHARE = 0.05
# Scans and photographs are read by OCR: the share of characters it gets wrong, drawn per document.
OCR_ERROR_RATE = (0.0, 0.06)
# Share of scans named as the camera or scanner names them, not after what they are.
SCAN_NAME_SHARE = 0.6
# Sentences drawn from the class and from the common pool for each document.
CLASS_SENTENCES = (3, 7)
COMMON_SENTENCES = (0, 2)

_FIELD_NAMES = re.compile(r"[^A-Za-z0-9]+")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


@dataclass(frozen=True)
class TrainingExample:
    """One labelled document: the class and what a classifier sees (title, file name, folder, text, type)."""

    class_id: str
    title: str | None
    name: str
    path: str
    text: str
    file_type: str
    origin: str = "generated"  # "generated" or "review" (a reviewer's approved correction)

    def as_record(self, doc_id: str = "training") -> DocumentRecord:
        """The example as a pipeline record, so training and classification read documents the same way."""
        locator = f"{self.path}/{self.name}" if self.path else self.name
        return DocumentRecord(
            id=doc_id,
            provenance=Provenance(source="training", locator=locator, name=self.name, path=self.path),
            title=self.title,
            text=self.text,
            file_type=self.file_type,
        )


class _Fills(dict[str, str]):
    """Placeholder values drawn on first use, so each document gets its own people, dates and amounts."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self._rng = rng

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> str:
        rng = self._rng
        if key.isupper():  # {NAME}: the same value as {name}, in capitals (CV and receipt headings)
            return self[key.lower()].upper()
        if key.startswith("name"):
            return synthetic.person_name(rng)
        if key == "officer":
            return synthetic.person_name(rng)
        if key.startswith("date"):
            return _random_date(rng, 2015, 2025).strftime(rng.choice(("%d/%m/%Y", "%d %B %Y", "%Y-%m-%d")))
        if key == "dob":
            return synthetic.date_of_birth(rng, earliest=1935, latest=2019).strftime("%d/%m/%Y")
        if key.startswith("year"):
            return str(rng.randint(2015, 2025))
        if key == "month":
            return f"{rng.choice(_MONTHS)} {rng.randint(2016, 2025)}"
        if key in ("amount", "vat", "gross"):
            return f"£{rng.randint(40, 250_000):,}.{rng.randint(0, 99):02d}"
        if key in ("price", "price2"):
            return f"{rng.choice(('£', '$', '€', ''))}{rng.randint(0, 99)}.{rng.randint(0, 99):02d}"
        if key == "garbled":  # bytes of an unknown or broken encoding, read as Latin-1
            return "".join(chr(rng.randint(0xA1, 0xFF)) for _ in range(rng.randint(20, 160)))
        if key == "hex":
            return f"{rng.getrandbits(32):08x}"
        if key == "n5":
            return str(rng.randint(10000, 99999))
        if key == "time":
            return f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}"
        if key == "card":
            return f"{rng.randint(0, 9999):04d}"
        if key == "first":
            return self["name"].split()[0]
        if key == "last":
            return self["name"].split()[-1]
        if key == "email2":
            return synthetic.email_for(self["name2"], rng)
        if key == "duty_verb_lower":
            return self["duty_verb"].lower()
        if key in ("ref", "ref2"):
            return f"{rng.choice('ABCDEFGHJKLMNPRSTW')}{rng.choice('ABCDEFGHJKLMNPRSTW')}{rng.randint(1000, 99999)}"
        if key in ("n", "q", "qty", "page", "pages"):
            return str(rng.randint(1, 12))
        if key == "phone":
            return synthetic.uk_landline(rng)
        if key == "postcode":
            return synthetic.postcode(rng)
        if key == "address":
            street = rng.choice(("High Street", "Mill Lane", "Church Road", "Park Avenue"))
            return f"{rng.randint(1, 180)} {street}, {rng.choice(tpl.TOWNS)} {synthetic.postcode(rng)}"
        if key == "email":
            return synthetic.email_for(self["name"], rng)
        if key == "account":
            return synthetic.bank_account(rng)
        if key == "sort":
            return synthetic.sort_code(rng)
        if key == "vat_number":
            return synthetic.vat_number(rng)
        pools = {
            "service": tpl.SERVICES,
            "team": tpl.TEAMS,
            "committee": tpl.COMMITTEES,
            "topic": tpl.TOPICS,
            "goods": tpl.GOODS,
            "supplier": tpl.SUPPLIERS,
            "site": tpl.SITES,
            "town": tpl.TOWNS,
            "school": tpl.SCHOOLS,
            "job": tpl.JOBS,
            "council": ("Example County Council", "Exampleshire County Council", "the County Council"),
            "shop": tpl.SHOPS,
            "item": tpl.ITEMS,
            "item2": tpl.ITEMS,
            "occupation": tpl.OCCUPATIONS,
            "employer": tpl.EMPLOYERS,
            "sector": tpl.SECTORS,
            "skill": tpl.SKILLS,
            "skill2": tpl.SKILLS,
            "skill3": tpl.SKILLS,
            "duty": tpl.DUTIES,
            "duty_verb": tpl.DUTY_VERBS,
            "achievement": tpl.ACHIEVEMENTS,
            "degree": tpl.DEGREES,
            "university": tpl.UNIVERSITIES,
            "certificate": tpl.CERTIFICATES,
            "language": tpl.LANGUAGES,
            "interest": tpl.INTERESTS,
            "chat": tpl.CHATS,
            "board": tpl.BOARDS,
            "weekday": tpl.WEEKDAYS,
            "company": tpl.COMPANIES,
            "event": tpl.EVENTS,
        }
        if key in pools:
            # A pool value may hold placeholders of its own ("managing a team of {n} staff").
            return _fill(rng.choice(pools[key]), self)
        raise KeyError(f"template placeholder '{{{key}}}' has no filler")


def _random_date(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    start = dt.date(first_year, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randint(start, dt.date(last_year, 12, 31).toordinal()))


def _fill(template: str, fills: _Fills) -> str:
    return Formatter().vformat(template, (), fills)


def _file_name(title: str, file_type: str, rng: random.Random) -> str:
    stem = _FIELD_NAMES.sub(rng.choice(("_", "-", " ")), title).strip("_- ")[:80] or "document"
    return f"{stem}.{file_type}"


def class_styles(class_id: str, held_out_style: bool | None = None) -> tuple[tpl.ClassTemplate, ...]:
    """The styles (template and variants) of a class that generation draws from.

    ``held_out_style`` splits them to measure how the model does on a kind of document it never saw: False
    gives every style but the class's last one, True only that last one (nothing for a one-style class).
    """
    if class_id not in tpl.TEMPLATES:
        return ()
    styles = (tpl.TEMPLATES[class_id], *tpl.VARIANTS.get(class_id, ()))
    if held_out_style is None or len(styles) == 1:
        return () if held_out_style else styles
    return styles[-1:] if held_out_style else styles[:-1]


def generate_class(
    class_id: str, count: int, rng: random.Random, *, held_out_style: bool | None = None
) -> list[TrainingExample]:
    """``count`` generated documents of one class; an unknown class id gives none (see :func:`class_styles`)."""
    styles = class_styles(class_id, held_out_style)
    if not styles:
        return []
    return [_document(class_id, styles[0] if len(styles) == 1 else rng.choice(styles), rng) for _ in range(count)]


def _document(class_id: str, template: tpl.ClassTemplate, rng: random.Random) -> TrainingExample:
    """One generated document of ``template``, laid out as the file type it is drawn as."""
    fills = _Fills(rng)
    title = _fill(rng.choice(template.titles), fills)
    file_type = rng.choice(template.file_types)
    folder = "" if rng.random() < NO_FOLDER_SHARE else _fill(rng.choice(template.folders), fills)
    low, high = template.sentence_range or CLASS_SENTENCES
    chosen = rng.sample(template.sentences, min(len(template.sentences), rng.randint(low, high)))
    if template.common_sentences:
        chosen += rng.sample(tpl.COMMON_SENTENCES, rng.randint(*COMMON_SENTENCES))
    rng.shuffle(chosen)
    body = [_fill(line, fills) for line in [rng.choice(template.openings), *chosen] if line]
    if template.closings:
        body.append(_fill(rng.choice(template.closings), fills))

    shown_title: str | None
    if file_type in forms.MAIL_TYPES:
        subject = None if rng.random() < NO_SUBJECT_SHARE else title
        shown_title, text = forms.as_message(rng, subject, body, fills["council"])
        name = forms.message_name(rng, shown_title, file_type, _file_name(shown_title or title, file_type, rng))
    elif file_type in forms.SCAN_TYPES:
        # An image has no title; OCR reads the page, heading included, with its errors.
        shown_title = None
        text = forms.ocr_noise("\n".join([title, *body]), rng, rng.uniform(*OCR_ERROR_RATE))
        name = forms.scan_name(rng, file_type) if rng.random() < SCAN_NAME_SHARE else _file_name(title, file_type, rng)
    else:
        shown_title = None if rng.random() < NO_TITLE_SHARE else title
        text = "\n".join([title, *body])
        name = _file_name(title, file_type, rng)
    return TrainingExample(class_id=class_id, title=shown_title, name=name, path=folder, text=text, file_type=file_type)


def generate_examples(
    class_ids: list[str] | None = None,
    *,
    per_class: int = DEFAULT_PER_CLASS,
    seed: int = TRAINING_SEED,
    held_out_style: bool | None = None,
) -> list[TrainingExample]:
    """Generated documents for the given classes (default: every templated class), the same for the same seed."""
    rng = random.Random(seed)
    ids = class_ids if class_ids is not None else list(tpl.TEMPLATES)
    examples: list[TrainingExample] = []
    for class_id in ids:
        examples.extend(generate_class(class_id, per_class, rng, held_out_style=held_out_style))
    return examples


def templated_classes() -> list[str]:
    """Class ids the shipped set has templates for."""
    return list(tpl.TEMPLATES)
