"""The council's retention schedule: classes, periods, triggers, and the disposal-date arithmetic.

``config/retention_schedule.yaml`` describes every retention class in one place: what it is, how long
it is kept, what starts the clock, what happens at the end, on whose authority, and the rules that
recognise it (used by :mod:`classifiers.rules`). :func:`load_schedule` validates that file and fails with
a :class:`ConfigError` naming the file and the key. :func:`disposal_date` and :func:`retention_for`
turn a class plus a document's dates into a :class:`docintel.models.Retention`.

UK local-government financial years end on 31 March, so the Derbyshire "6+" rule (six years from the
end of the financial year in which the record was last modified) disposes of a record modified on
1 May 2024 on 31 March 2031.

The retain stage (:func:`retain`, run by :func:`docintel.pipeline.retain_stage` after classify, by a reviewer's
class change and by anything that re-classifies a catalogued document) is the one place a disposal date is
chosen. Classes counted from a date of birth need that date after the document's text is gone, so the
catalogue keeps the *birth year* only (``documents.birth_year``): the year of the latest date of birth found
in the document (the youngest person, kept longest). Never the day or month, and never the finding's text:
a year alone does not single anyone out. The clock of a date-of-birth class then starts on 31 December of
that year, so a record is kept at most a year longer than its exact date would allow and never shorter;
the disposal date the catalogue shows reveals the birth year and nothing more.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docintel.enrich.dates import parse_date
from docintel.errors import ConfigError
from docintel.extract.base import FileType
from docintel.models import PiiFinding, Retention
from docintel.settings import Settings, load_yaml_file

logger = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"
TRANSITORY_CORRESPONDENCE = "correspondence.transitory"

# Every schedule docintel runs with must define these: reports, the classifier's fallbacks and the
# evaluation sets refer to them by id.
REQUIRED_CLASS_IDS: tuple[str, ...] = (
    "finance.invoice",
    "finance.budget",
    "contracts.simple",
    "contracts.deed",
    "procurement.tender",
    "governance.committee",
    "governance.management_minutes",
    "meetings.team_notes",
    "foi.request",
    "complaints.case",
    "planning.decision",
    "planning.supporting",
    "social_care.children_looked_after",
    "social_care.adoption",
    "social_care.child_protection",
    "social_care.adult",
    "hr.personnel",
    "hr.payroll",
    "hr.recruitment_unsuccessful",
    "health_safety.accident",
    "health_safety.inspection",
    "insurance.policy",
    "policy.corporate",
    "risk.register",
    "projects.file",
    "consultation.response",
    "education.pupil_record",
    TRANSITORY_CORRESPONDENCE,
    UNCLASSIFIED,
)

# The financial year of English local authorities ends on 31 March.
FINANCIAL_YEAR_END_MONTH = 3
FINANCIAL_YEAR_END_DAY = 31

# Document timestamps arrive in UTC; the financial year and the calendar day are the council's, so a
# file saved at 23:30 UTC on 31 March 2025 (00:30 BST on 1 April) belongs to the next financial year.
try:
    LOCAL_TIMEZONE: dt.tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - only on systems without a tz database
    LOCAL_TIMEZONE = dt.UTC

_CLASS_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_EVENT_TRIGGER = re.compile(r"^event:[a-z][a-z0-9_]*$")


class Trigger(StrEnum):
    """What starts a class's retention clock (``event:<name>`` triggers are strings beside these)."""

    CREATION = "creation"
    LAST_MODIFIED = "last_modified"
    END_OF_FINANCIAL_YEAR = "end_of_financial_year"  # of the last modification: the "6+" rule
    CLOSURE = "closure"
    EXPIRY = "expiry"
    DECISION = "decision"
    DATE_OF_BIRTH = "date_of_birth"


# Triggers whose date the document itself carries; every other trigger waits for an outside date.
DOCUMENT_DATE_TRIGGERS = frozenset({Trigger.CREATION, Trigger.LAST_MODIFIED, Trigger.END_OF_FINANCIAL_YEAR})


class DisposalAction(StrEnum):
    """What happens when the retention period ends."""

    DESTROY = "destroy"
    REVIEW = "review"
    TRANSFER_TO_ARCHIVE = "transfer_to_archive"
    RETAIN = "retain"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetentionPeriod(_Config):
    """How long a class is kept: a span of years and months, permanently, or not known."""

    years: int = Field(default=0, ge=0, le=200)
    months: int = Field(default=0, ge=0, le=1200)
    permanent: bool = False
    unknown: bool = False  # only for classes no one has decided yet ("unclassified")

    @model_validator(mode="before")
    @classmethod
    def _from_word(cls, value: Any) -> Any:
        # Records managers write "period: permanent" rather than "period: {permanent: true}".
        if isinstance(value, str) and value.strip().lower() in {"permanent", "unknown"}:
            return {value.strip().lower(): True}
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> RetentionPeriod:
        has_span = bool(self.years or self.months)
        if sum([has_span, self.permanent, self.unknown]) != 1:
            raise ValueError("give exactly one of: years/months, permanent, unknown")
        return self

    @property
    def is_span(self) -> bool:
        """True when the period is a number of years/months (so a disposal date can exist)."""
        return not (self.permanent or self.unknown)

    def describe(self) -> str:
        """Human form: "6 years", "6 months", "1 year 6 months", "permanent", "unknown"."""
        if self.permanent:
            return "permanent"
        if self.unknown:
            return "unknown"
        parts = []
        if self.years:
            parts.append(f"{self.years} year{'s' if self.years != 1 else ''}")
        if self.months:
            parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        return " ".join(parts)


class WeightedPattern(_Config):
    """A regular expression with its own weight, for patterns stronger or weaker than the default."""

    pattern: str
    weight: float


class ClassRules(_Config):
    """Evidence that a document belongs to a class; :mod:`classifiers.rules` scores it."""

    # Regular expressions, case-insensitive, over the title and the file name (with _ - . read as spaces).
    title_patterns: list[str | WeightedPattern] = Field(default_factory=list)
    # Regular expressions, case-insensitive, over the folder path with "/" separators.
    path_patterns: list[str | WeightedPattern] = Field(default_factory=list)
    # Decisive rules: a match decides the class outright, ahead of every other class's evidence. For kinds of
    # document that are what they are whatever they quote, e.g. an out-of-office reply, or a bounce carrying an
    # FOI request. Regular expressions, case-insensitive: ``decisive_patterns`` over the title and file name,
    # ``decisive_body_patterns`` over the start of the body after any mail header block (multi-line: ``^`` is
    # a line start, ``\A`` the body's). Only documents of the class's ``file_types`` are tested (all if none).
    decisive_patterns: list[str] = Field(default_factory=list)
    decisive_body_patterns: list[str] = Field(default_factory=list)
    # docintel file types (pdf, docx, eml, msg...) that hint at the class.
    file_types: list[str] = Field(default_factory=list)
    # Words or phrases matched case-insensitively on word boundaries in the body; negative weights
    # count against the class (e.g. "unsuccessful" against a personnel file).
    keywords: dict[str, float] = Field(default_factory=dict)

    @field_validator("title_patterns", "path_patterns", "decisive_patterns", "decisive_body_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str | WeightedPattern]) -> list[str | WeightedPattern]:
        for item in patterns:
            text = item if isinstance(item, str) else item.pattern
            try:
                re.compile(text)
            except re.error as exc:
                raise ValueError(f"bad regular expression /{text}/: {exc}") from exc
        return patterns

    @field_validator("file_types")
    @classmethod
    def _known_file_types(cls, file_types: list[str]) -> list[str]:
        known = {t.value for t in FileType}
        for name in file_types:
            if name not in known:
                raise ValueError(f"unknown file type '{name}' (known: {', '.join(sorted(known))})")
        return file_types

    @field_validator("keywords")
    @classmethod
    def _keywords_have_words(cls, keywords: dict[str, float]) -> dict[str, float]:
        for keyword in keywords:
            if not re.search(r"[A-Za-z0-9]", keyword):
                raise ValueError(f"keyword '{keyword}' has no letters or digits")
        return keywords


class RetentionClass(_Config):
    """One class of the schedule: what it is, how long it is kept, why, and how to recognise it."""

    id: str
    title: str
    description: str = ""
    period: RetentionPeriod
    trigger: str
    action: DisposalAction
    authority: str
    rules: ClassRules = Field(default_factory=ClassRules)
    # The Purview retention label `docintel labels` applies to reviewed files of this class (None: none).
    purview_label: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _CLASS_ID.match(value):
            raise ValueError(f"class id '{value}' must be dotted lower-case words, e.g. finance.invoice")
        return value

    @field_validator("trigger")
    @classmethod
    def _trigger_known(cls, value: str) -> str:
        if value in {t.value for t in Trigger} or _EVENT_TRIGGER.match(value):
            return value
        known = ", ".join(t.value for t in Trigger)
        raise ValueError(f"unknown trigger '{value}' (known: {known}, or event:<name>)")

    @model_validator(mode="after")
    def _action_fits_period(self) -> RetentionClass:
        if self.period.permanent and self.action not in (DisposalAction.RETAIN, DisposalAction.TRANSFER_TO_ARCHIVE):
            raise ValueError("a permanent class must have action retain or transfer_to_archive")
        if self.period.unknown and self.action is not DisposalAction.REVIEW:
            raise ValueError("a class with an unknown period must have action review")
        return self

    def describe_period(self) -> str:
        """The period as a records manager writes it, e.g. "6 years" or "DOB + 75 years"."""
        text = self.period.describe()
        if self.trigger == Trigger.DATE_OF_BIRTH and self.period.is_span:
            return f"DOB + {text}"
        return text


class ScoringSettings(_Config):
    """Weights and thresholds the rules classifier applies to every class's rules."""

    title_weight: float = 6.0  # a title pattern that matches (strong: people name files for what they are)
    path_weight: float = 4.0  # a folder path pattern that matches
    file_type_weight: float = 2.0  # the file type is one the class lists
    min_score: float = 4.0  # below this the document is unclassified
    evidence_scale: float = 10.0  # score at which absolute evidence reaches 63% (1 - 1/e)
    body_chars: int = Field(default=20_000, gt=0)  # how much of the text keywords are counted in
    decisive_chars: int = Field(default=400, gt=0)  # how much of the body (after mail headers) decisive rules read
    decisive_confidence: float = Field(default=0.9, ge=0, le=1)  # confidence of a class a decisive rule chose


class RetentionSchedule(_Config):
    """The council's retention schedule: classes in file order, ids unique."""

    version: str = "1"
    council: str = ""
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    classes: list[RetentionClass]

    @field_validator("classes")
    @classmethod
    def _unique_ids(cls, classes: list[RetentionClass]) -> list[RetentionClass]:
        seen: set[str] = set()
        for entry in classes:
            if entry.id in seen:
                raise ValueError(f"duplicate class id '{entry.id}'")
            seen.add(entry.id)
        return classes

    @property
    def ids(self) -> list[str]:
        """Class ids in schedule order."""
        return [cls.id for cls in self.classes]

    def get(self, class_id: str) -> RetentionClass:
        """The class with this id; an unknown id is a ConfigError listing the known ones."""
        for cls in self.classes:
            if cls.id == class_id:
                return cls
        raise ConfigError(f"unknown retention class '{class_id}' (known: {', '.join(self.ids)})")


def _error_location(data: Any, loc: tuple[int | str, ...]) -> str:
    """A validation error location with class indexes shown as their ids: classes[3](finance.budget).period."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            item = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label += f"({item['id']})"
            parts.append(label)
            node = item
        else:
            parts.append(("." if parts else "") + part)
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def load_schedule(path: Path | str, *, required_ids: tuple[str, ...] = REQUIRED_CLASS_IDS) -> RetentionSchedule:
    """Read and validate a retention schedule YAML file; any problem is a ConfigError naming file and key."""
    path = Path(path)
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'classes' list")
    try:
        schedule = RetentionSchedule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _error_location(data, tuple(first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message}") from exc
    missing = [class_id for class_id in required_ids if class_id not in schedule.ids]
    if missing:
        raise ConfigError(f"{path}: classes: required class ids missing: {', '.join(missing)}")
    logger.debug("loaded retention schedule %s with %d classes", path, len(schedule.classes))
    return schedule


def schedule_from_settings(settings: Settings) -> RetentionSchedule:
    """The schedule named by ``retention.schedule_file`` in the configuration folder."""
    return load_schedule(settings.config_path(settings.retention.schedule_file))


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """The council's calendar day of a timestamp (naive timestamps are taken as already local)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(LOCAL_TIMEZONE)
        return moment.date()
    return moment


def financial_year_end(day: dt.date) -> dt.date:
    """The last day (31 March) of the UK local-government financial year holding ``day``."""
    year = day.year if (day.month, day.day) <= (FINANCIAL_YEAR_END_MONTH, FINANCIAL_YEAR_END_DAY) else day.year + 1
    return dt.date(year, FINANCIAL_YEAR_END_MONTH, FINANCIAL_YEAR_END_DAY)


def add_period(start: dt.date, period: RetentionPeriod) -> dt.date:
    """``start`` plus the period's years and months; a day past the month's end becomes its last day (29 Feb)."""
    months = start.month - 1 + period.years * 12 + period.months
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def _clock_start(
    cls: RetentionClass,
    *,
    created: dt.datetime | dt.date | None,
    modified: dt.datetime | dt.date | None,
    trigger_date: dt.datetime | dt.date | None,
    birth_year: int | None,
) -> dt.date | None:
    """The day the retention clock starts for this class, or None when that day is not known."""
    if cls.trigger == Trigger.DATE_OF_BIRTH:
        # Only the year is kept (see the module docstring): its last day is the latest the birth can have been.
        return dt.date(birth_year, 12, 31) if birth_year is not None else None
    if trigger_date is not None:
        start = local_date(trigger_date)
        return financial_year_end(start) if cls.trigger == Trigger.END_OF_FINANCIAL_YEAR else start
    if cls.trigger == Trigger.CREATION:
        # Without a creation date the last-modified date is later, so using it keeps the record longer, never shorter.
        moment = created if created is not None else modified
        return local_date(moment) if moment is not None else None
    if cls.trigger == Trigger.LAST_MODIFIED:
        return local_date(modified) if modified is not None else None
    if cls.trigger == Trigger.END_OF_FINANCIAL_YEAR:
        return financial_year_end(local_date(modified)) if modified is not None else None
    return None  # closure, expiry, decision, event:*: the document cannot tell us when they happen


def disposal_date(
    cls: RetentionClass,
    *,
    created: dt.datetime | dt.date | None,
    modified: dt.datetime | dt.date | None,
    trigger_date: dt.datetime | dt.date | None = None,
    birth_year: int | None = None,
) -> dt.date | None:
    """When a document of this class may be disposed of; None when permanent, unknown, or awaiting its trigger.

    ``trigger_date`` is when the class's trigger happened (case closed, contract expired, decision issued,
    the named event); for the document-dated triggers it overrides the document's own date. ``birth_year`` is
    the year of the latest date of birth in the document, for classes counted from a date of birth.
    """
    if not cls.period.is_span:
        return None
    start = _clock_start(cls, created=created, modified=modified, trigger_date=trigger_date, birth_year=birth_year)
    return add_period(start, cls.period) if start is not None else None


def _awaited(trigger: str) -> str:
    if trigger.startswith("event:"):
        return f"event '{trigger.removeprefix('event:')}'"
    if trigger == Trigger.DATE_OF_BIRTH:
        return "date of birth"
    if trigger in DOCUMENT_DATE_TRIGGERS:
        return "document date"
    return f"{trigger} date"


def retention_for(
    cls: RetentionClass,
    *,
    created: dt.datetime | dt.date | None,
    modified: dt.datetime | dt.date | None,
    trigger_date: dt.datetime | dt.date | None = None,
    birth_year: int | None = None,
) -> Retention:
    """What the schedule says for a document of this class: period, trigger, action, disposal date, authority.

    When the period is a span but its start is not known, the trigger reads "<trigger> (awaits <what>)",
    e.g. "closure (awaits closure date)", so reports show why there is no disposal date.
    """
    when = disposal_date(cls, created=created, modified=modified, trigger_date=trigger_date, birth_year=birth_year)
    trigger = cls.trigger
    if when is None and cls.period.is_span:
        trigger = f"{trigger} (awaits {_awaited(trigger)})"
    return Retention(
        period=cls.describe_period(),
        trigger=trigger,
        action=cls.action.value,
        disposal_date=when,
        authority=cls.authority,
    )


DATE_OF_BIRTH_ENTITY = "DATE_OF_BIRTH"


def birth_year_in(findings: Iterable[PiiFinding], min_score: float) -> int | None:
    """The year of the latest date of birth among personal-data findings (the youngest person), or None.

    A finding below ``min_score`` is a bare date with no birth cue before it, not a date of birth.
    """
    dates = [
        day
        for day in (
            parse_date(f.text) for f in findings if f.entity_type == DATE_OF_BIRTH_ENTITY and f.score >= min_score
        )
        if day is not None
    ]
    return max(dates).year if dates else None


def retain(
    schedule: RetentionSchedule,
    record_class: str,
    *,
    created: dt.datetime | dt.date | None,
    modified: dt.datetime | dt.date | None,
    birth_year: int | None,
) -> Retention:
    """The retain stage's rule, for a document in the pipeline or a catalogued one a reviewer re-classes.

    Everything that sets a class goes through here, so a class counted from a date of birth gets the same
    date whoever set it: the classifier, a reviewer, or a re-classification after ``docintel train``.
    """
    return retention_for(schedule.get(record_class), created=created, modified=modified, birth_year=birth_year)
