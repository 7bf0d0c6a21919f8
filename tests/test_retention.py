"""The retention schedule file, its validation, and the disposal-date arithmetic."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from docintel.errors import ConfigError
from docintel.models import Classification, DocumentRecord, DocumentStatus, PiiFinding, Provenance
from docintel.pipeline import Engines, keep_reviewed_class, retain_stage
from docintel.retention import (
    REQUIRED_CLASS_IDS,
    DisposalAction,
    RetentionClass,
    RetentionPeriod,
    RetentionSchedule,
    Trigger,
    add_period,
    birth_year_in,
    disposal_date,
    financial_year_end,
    load_schedule,
    retention_for,
    schedule_from_settings,
)
from docintel.settings import Settings

SCHEDULE_PATH = Path(__file__).resolve().parents[1] / "config" / "retention_schedule.yaml"
UTC = dt.UTC


@pytest.fixture(scope="module")
def schedule() -> RetentionSchedule:
    return load_schedule(SCHEDULE_PATH)


@pytest.fixture(scope="module")
def raw_schedule() -> dict[str, Any]:
    return yaml.safe_load(SCHEDULE_PATH.read_text(encoding="utf-8"))


def make_class(period: dict[str, Any] | str, trigger: str, action: str = "destroy") -> RetentionClass:
    return RetentionClass.model_validate(
        {"id": "test.class", "title": "Test", "period": period, "trigger": trigger, "action": action, "authority": "x"}
    )


def write_schedule(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "retention_schedule.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the shipped schedule


def test_schedule_has_every_required_class(schedule: RetentionSchedule) -> None:
    assert set(REQUIRED_CLASS_IDS) <= set(schedule.ids)
    assert len(schedule.ids) == len(set(schedule.ids))


def test_schedule_loads_through_settings() -> None:
    settings = Settings(config_dir=SCHEDULE_PATH.parent)
    assert "finance.invoice" in schedule_from_settings(settings).ids


@pytest.mark.parametrize("class_id", [c for c in REQUIRED_CLASS_IDS if c != "unclassified"])
def test_every_class_is_complete_and_recognisable(schedule: RetentionSchedule, class_id: str) -> None:
    cls = schedule.get(class_id)
    assert cls.title and cls.authority and cls.description
    rules = cls.rules
    assert rules.keywords or rules.title_patterns or rules.file_types
    assert any(weight > 0 for weight in rules.keywords.values())
    if cls.period.is_span:
        # Nothing in the source schedule is kept less than 6 months or more than 100 years.
        months = cls.period.years * 12 + cls.period.months
        assert 6 <= months <= 100 * 12
    else:
        assert cls.period.permanent
        assert cls.action in (DisposalAction.RETAIN, DisposalAction.TRANSFER_TO_ARCHIVE)


@pytest.mark.parametrize(
    ("class_id", "period", "trigger", "action"),
    [
        ("finance.invoice", "6 years", "end_of_financial_year", "destroy"),
        ("finance.budget", "6 years", "end_of_financial_year", "destroy"),
        ("contracts.simple", "6 years", "expiry", "destroy"),
        ("contracts.deed", "12 years", "expiry", "review"),
        ("governance.committee", "permanent", "creation", "transfer_to_archive"),
        ("governance.management_minutes", "permanent", "closure", "transfer_to_archive"),
        ("meetings.team_notes", "6 years", "end_of_financial_year", "destroy"),
        ("foi.request", "3 years", "closure", "destroy"),
        ("complaints.case", "6 years", "closure", "destroy"),
        ("planning.decision", "permanent", "decision", "retain"),
        ("social_care.children_looked_after", "DOB + 75 years", "date_of_birth", "review"),
        ("social_care.adoption", "100 years", "event:adoption_order", "review"),
        ("social_care.child_protection", "35 years", "event:last_contact", "destroy"),
        ("hr.payroll", "6 years", "end_of_financial_year", "destroy"),
        ("hr.recruitment_unsuccessful", "6 months", "decision", "destroy"),
        ("health_safety.accident", "3 years", "closure", "destroy"),
        ("health_safety.inspection", "6 years", "end_of_financial_year", "destroy"),
        ("policy.corporate", "permanent", "closure", "transfer_to_archive"),
        ("risk.register", "permanent", "closure", "retain"),
        ("education.pupil_record", "DOB + 25 years", "date_of_birth", "review"),
        ("unclassified", "unknown", "event:manual_classification", "review"),
    ],
)
def test_class_periods_follow_the_reference_schedule(
    schedule: RetentionSchedule, class_id: str, period: str, trigger: str, action: str
) -> None:
    cls = schedule.get(class_id)
    assert (cls.describe_period(), cls.trigger, cls.action.value) == (period, trigger, action)


def test_get_unknown_class_lists_known_ids(schedule: RetentionSchedule) -> None:
    with pytest.raises(ConfigError, match=r"unknown retention class 'finance\.nope' \(known: finance\.invoice, "):
        schedule.get("finance.nope")


# ---------------------------------------------------------------- disposal dates

SIX_PLUS = make_class({"years": 6}, "end_of_financial_year")


@pytest.mark.parametrize(
    ("modified", "expected"),
    [
        (dt.date(2024, 5, 1), dt.date(2031, 3, 31)),  # FY 2024/25 ends 31 March 2025
        (dt.date(2025, 3, 31), dt.date(2031, 3, 31)),  # last day of the same financial year
        (dt.date(2025, 4, 1), dt.date(2032, 3, 31)),  # first day of the next one
        (dt.date(2024, 1, 15), dt.date(2030, 3, 31)),  # January belongs to the FY ending that March
        (dt.datetime(2025, 3, 31, 22, 30, tzinfo=UTC), dt.date(2031, 3, 31)),  # 23:30 BST, still 31 March
        (dt.datetime(2025, 3, 31, 23, 30, tzinfo=UTC), dt.date(2032, 3, 31)),  # 00:30 BST on 1 April
        (dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC), dt.date(2031, 3, 31)),  # GMT in winter: same day
    ],
)
def test_end_of_financial_year_rule(modified: dt.date | dt.datetime, expected: dt.date) -> None:
    assert disposal_date(SIX_PLUS, created=None, modified=modified) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2024, 3, 31), dt.date(2024, 3, 31)),
        (dt.date(2024, 4, 1), dt.date(2025, 3, 31)),
        (dt.date(2024, 12, 31), dt.date(2025, 3, 31)),
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
    ],
)
def test_financial_year_end(day: dt.date, expected: dt.date) -> None:
    assert financial_year_end(day) == expected


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (dt.date(2024, 2, 29), {"years": 1}, dt.date(2025, 2, 28)),  # leap day into a common year
        (dt.date(2024, 2, 29), {"years": 4}, dt.date(2028, 2, 29)),  # leap day into a leap year
        (dt.date(2023, 8, 31), {"months": 6}, dt.date(2024, 2, 29)),  # month end into a leap February
        (dt.date(2022, 8, 31), {"months": 6}, dt.date(2023, 2, 28)),
        (dt.date(2024, 1, 31), {"years": 1, "months": 1}, dt.date(2025, 2, 28)),
        (dt.date(2024, 11, 15), {"months": 2}, dt.date(2025, 1, 15)),  # across a year end
        (dt.date(2024, 3, 31), {"years": 6}, dt.date(2030, 3, 31)),
        (dt.date(1990, 6, 1), {"years": 100}, dt.date(2090, 6, 1)),
    ],
)
def test_add_period_is_month_end_safe(start: dt.date, period: dict[str, int], expected: dt.date) -> None:
    assert add_period(start, RetentionPeriod.model_validate(period)) == expected


CREATED = dt.datetime(2020, 2, 29, 12, 0, tzinfo=UTC)
MODIFIED = dt.datetime(2021, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "trigger", "action", "kwargs", "expected"),
    [
        ({"years": 2}, "creation", "destroy", {}, dt.date(2022, 2, 28)),
        ({"years": 1}, "last_modified", "destroy", {}, dt.date(2022, 6, 10)),
        ({"years": 6}, "end_of_financial_year", "destroy", {}, dt.date(2028, 3, 31)),
        ("permanent", "creation", "retain", {}, None),
        ("permanent", "closure", "transfer_to_archive", {"trigger_date": dt.date(2020, 1, 1)}, None),
        ("unknown", "event:manual_classification", "review", {}, None),
        # Event-based triggers wait for their date...
        ({"years": 3}, "closure", "destroy", {}, None),
        ({"years": 6}, "expiry", "destroy", {}, None),
        ({"months": 6}, "decision", "destroy", {}, None),
        ({"years": 7}, "event:employment_ended", "destroy", {}, None),
        ({"years": 75}, "date_of_birth", "review", {}, None),
        # ...and count from it once it is known.
        ({"years": 3}, "closure", "destroy", {"trigger_date": dt.date(2023, 5, 2)}, dt.date(2026, 5, 2)),
        ({"months": 6}, "decision", "destroy", {"trigger_date": dt.date(2024, 8, 31)}, dt.date(2025, 2, 28)),
        (
            {"years": 7},
            "event:employment_ended",
            "destroy",
            {"trigger_date": dt.date(2024, 2, 29)},
            dt.date(2031, 2, 28),
        ),
        # Only the birth year is kept: the clock starts on its last day, so never earlier than the exact date would.
        ({"years": 75}, "date_of_birth", "review", {"birth_year": 2012}, dt.date(2087, 12, 31)),
        ({"years": 25}, "date_of_birth", "review", {"birth_year": 2008}, dt.date(2033, 12, 31)),
        # A trigger date overrides the document's own date for document-dated triggers.
        ({"years": 6}, "end_of_financial_year", "destroy", {"trigger_date": dt.date(2019, 4, 2)}, dt.date(2026, 3, 31)),
    ],
)
def test_disposal_date_table(
    period: dict[str, int] | str, trigger: str, action: str, kwargs: dict[str, Any], expected: dt.date | None
) -> None:
    cls = make_class(period, trigger, action)
    assert disposal_date(cls, created=CREATED, modified=MODIFIED, **kwargs) == expected


@pytest.mark.parametrize(
    ("trigger", "created", "modified", "expected"),
    [
        # No creation date: the later modification date keeps the record longer, never shorter.
        ("creation", None, MODIFIED, dt.date(2022, 6, 10)),
        ("creation", None, None, None),
        # No modification date: the creation date would dispose too early, so no date at all.
        ("last_modified", CREATED, None, None),
        ("end_of_financial_year", CREATED, None, None),
    ],
)
def test_missing_document_dates(
    trigger: str, created: dt.datetime | None, modified: dt.datetime | None, expected: dt.date | None
) -> None:
    cls = make_class({"years": 1}, trigger)
    assert disposal_date(cls, created=created, modified=modified) == expected


def test_retention_for_a_dated_class(schedule: RetentionSchedule) -> None:
    retention = retention_for(schedule.get("finance.invoice"), created=None, modified=dt.date(2024, 5, 1))
    assert retention.period == "6 years"
    assert retention.trigger == Trigger.END_OF_FINANCIAL_YEAR
    assert retention.action == "destroy"
    assert retention.disposal_date == dt.date(2031, 3, 31)
    assert retention.authority and "6+" in retention.authority


@pytest.mark.parametrize(
    ("class_id", "trigger_text"),
    [
        ("foi.request", "closure (awaits closure date)"),
        ("contracts.simple", "expiry (awaits expiry date)"),
        ("planning.supporting", "decision (awaits decision date)"),
        ("social_care.children_looked_after", "date_of_birth (awaits date of birth)"),
        ("social_care.adoption", "event:adoption_order (awaits event 'adoption_order')"),
    ],
)
def test_retention_for_says_what_it_awaits(schedule: RetentionSchedule, class_id: str, trigger_text: str) -> None:
    retention = retention_for(schedule.get(class_id), created=CREATED, modified=MODIFIED)
    assert retention.disposal_date is None
    assert retention.trigger == trigger_text


def test_retention_for_permanent_class_has_no_date_and_no_wait(schedule: RetentionSchedule) -> None:
    retention = retention_for(schedule.get("governance.committee"), created=CREATED, modified=MODIFIED)
    assert (retention.period, retention.trigger, retention.action) == ("permanent", "creation", "transfer_to_archive")
    assert retention.disposal_date is None


# ---------------------------------------------------------------- configuration errors


def _mutate(raw: dict[str, Any], class_id: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    for entry in data["classes"]:
        if entry["id"] == class_id:
            entry.update(changes)
    return data


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda raw: _mutate(raw, "finance.budget", perod={"years": 6}), r"\(finance\.budget\)\.perod: Extra inputs"),
        (lambda raw: {**raw, "scoring": {**raw["scoring"], "min_scor": 3}}, r"scoring\.min_scor: Extra inputs"),
        (
            lambda raw: _mutate(raw, "hr.payroll", trigger="payday"),
            r"\(hr\.payroll\)\.trigger: unknown trigger 'payday'",
        ),
        (lambda raw: _mutate(raw, "hr.payroll", action="shred"), r"\(hr\.payroll\)\.action: Input should be"),
        (
            lambda raw: _mutate(raw, "risk.register", action="destroy"),
            r"\(risk\.register\): a permanent class must have action retain or transfer_to_archive",
        ),
        (
            lambda raw: _mutate(raw, "foi.request", period={"years": 3, "permanent": True}),
            r"\(foi\.request\)\.period: give exactly one of",
        ),
        (lambda raw: _mutate(raw, "foi.request", period={"years": -3}), r"\(foi\.request\)\.period\.years"),
        (
            lambda raw: _mutate(raw, "foi.request", rules={"title_patterns": ["(unclosed"]}),
            r"\(foi\.request\)\.rules\.title_patterns: bad regular expression /\(unclosed/",
        ),
        (
            lambda raw: _mutate(raw, "foi.request", rules={"file_types": ["docm"]}),
            r"\(foi\.request\)\.rules\.file_types: unknown file type 'docm'",
        ),
        (lambda raw: _mutate(raw, "foi.request", rules={"keywords": {"--": 2}}), r"keyword '--' has no letters"),
        (lambda raw: _mutate(raw, "foi.request", id="FOI Request"), r"\.id: class id 'FOI Request' must be dotted"),
        (
            lambda raw: {**raw, "classes": [*raw["classes"], copy.deepcopy(raw["classes"][0])]},
            r"classes: duplicate class id 'finance\.invoice'",
        ),
        (
            lambda raw: {**raw, "classes": [c for c in raw["classes"] if c["id"] != "hr.payroll"]},
            r"classes: required class ids missing: hr\.payroll",
        ),
        (lambda raw: ["not", "a", "mapping"], r"expected a mapping"),
    ],
)
def test_bad_schedule_names_file_and_key(
    tmp_path: Path, raw_schedule: dict[str, Any], mutation: Any, message: str
) -> None:
    path = write_schedule(tmp_path, mutation(raw_schedule))
    with pytest.raises(ConfigError, match=message) as caught:
        load_schedule(path)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 2


def test_bad_yaml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("classes: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_schedule(broken)
    with pytest.raises(ConfigError, match="file not found"):
        load_schedule(tmp_path / "absent.yaml")


def test_required_ids_can_be_relaxed_for_a_small_schedule(tmp_path: Path) -> None:
    data = {
        "classes": [
            {
                "id": "a.b",
                "title": "A",
                "period": {"years": 1},
                "trigger": "creation",
                "action": "destroy",
                "authority": "x",
            }
        ]
    }
    loaded = load_schedule(write_schedule(tmp_path, data), required_ids=())
    assert loaded.ids == ["a.b"]
    with pytest.raises(ConfigError, match=r"required class ids missing: finance\.invoice"):
        load_schedule(write_schedule(tmp_path, data))


# ---------------------------------------------------------------- the retain stage


def dob(text: str, score: float = 0.85) -> PiiFinding:
    return PiiFinding(entity_type="DATE_OF_BIRTH", start=0, end=len(text), text=text, score=score)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([dob("14/03/2012")], 2012),
        ([dob("3 March 1980"), dob("14/03/2012")], 2012),  # the youngest person: kept longest
        ([dob("2008-09-01"), dob("1 Sept 1999")], 2008),
        ([dob("14/03/2012", score=0.1)], None),  # a bare date is not a date of birth
        ([dob("31/02/2012")], None),  # not a real date
        ([dob("14/03/2999")], None),  # not born yet
        ([PiiFinding(entity_type="EMAIL_ADDRESS", start=0, end=5, text="01/01/2001", score=1.0)], None),
        ([], None),
    ],
)
def test_birth_year_in(findings: list[PiiFinding], expected: int | None) -> None:
    assert birth_year_in(findings, min_score=0.5) == expected


def pipeline_record(
    record_class: str | None, *, pii: list[PiiFinding] | None = None, birth_year: int | None = None
) -> DocumentRecord:
    modified = dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    return DocumentRecord(
        id="doc-1",
        provenance=Provenance(source="local", locator="x.pdf", name="x.pdf", created_at=modified, modified_at=modified),
        pii=pii or [],
        birth_year=birth_year,
        classification=Classification(record_class=record_class, confidence=0.9, explanation="rule", classifier="rules")
        if record_class
        else None,
    )


@pytest.fixture(scope="module")
def engines() -> Engines:
    return Engines(settings=Settings(config_dir=SCHEDULE_PATH.parent), pii_key=b"k" * 32)


def test_retain_stage_dates_a_document_from_its_provenance(engines: Engines) -> None:
    result = retain_stage(pipeline_record("finance.invoice"), engines)
    assert result.classification is not None and result.classification.retention is not None
    # Modified 1 May 2024 is in the financial year ending 31 March 2025; "6+" disposes six years later.
    assert result.classification.retention.disposal_date == dt.date(2031, 3, 31)
    assert result.classification.retention.trigger == "end_of_financial_year"
    assert [run.stage for run in result.stage_runs] == ["retain"]


def test_retain_stage_leaves_unclassified_for_review(engines: Engines) -> None:
    result = retain_stage(pipeline_record("unclassified"), engines)
    assert result.classification is not None and result.classification.retention is not None
    assert result.classification.retention.action == "review"
    assert result.classification.retention.period == "unknown"
    assert result.classification.retention.disposal_date is None


def test_retain_stage_counts_a_date_of_birth_class_from_the_birth_year(engines: Engines) -> None:
    result = retain_stage(pipeline_record("education.pupil_record", pii=[dob("14/03/2012")]), engines)
    assert result.birth_year == 2012
    assert result.classification is not None and result.classification.retention is not None
    assert result.classification.retention.disposal_date == dt.date(2037, 12, 31)  # 2012 + 25 years, year's end
    assert result.classification.retention.trigger == "date_of_birth"


def test_retain_stage_keeps_the_birth_year_for_any_class(engines: Engines) -> None:
    """An invoice naming a date of birth keeps the year, so a reviewer's later change to a DOB class is dated."""
    result = retain_stage(pipeline_record("finance.invoice", pii=[dob("1 March 1980")]), engines)
    assert result.birth_year == 1980
    unclassified = retain_stage(pipeline_record(None, pii=[dob("1 March 1980")]), engines)
    assert unclassified.birth_year == 1980 and unclassified.classification is None


def test_reviewed_class_kept_on_rescan_is_dated_by_the_retain_stage(engines: Engines) -> None:
    record = pipeline_record("finance.invoice", pii=[dob("14/03/2012")])
    kept = keep_reviewed_class(record, engines, "education.pupil_record", "rita", dt.datetime(2026, 1, 2, tzinfo=UTC))
    assert kept.classification is not None and kept.classification.classifier == "review"
    assert kept.classification.retention is not None
    assert kept.classification.retention.disposal_date == dt.date(2037, 12, 31)


def test_retain_stage_with_a_class_not_in_the_schedule_fails_the_document(engines: Engines) -> None:
    result = retain_stage(pipeline_record("no.such_class"), engines)
    assert result.status is DocumentStatus.FAILED
    assert result.error is not None and result.error.type == "ConfigError"
    assert result.stage_runs[-1].stage == "retain"
