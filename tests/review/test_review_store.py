"""ReviewStore on SQLite and PostgreSQL: accounts, holds, decisions, audit, dashboard; and the user commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_fixtures import ADMIN, CONFIG_DIR, PASSWORD, READER, REVIEWER, document, populate, schedule

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.errors import ConfigError
from docintel.models import PiiFinding
from docintel.pipeline import Engines, retain_stage
from docintel.review.auth import (
    ReviewSettings,
    Role,
    SessionCodec,
    hash_password,
    load_review_settings,
    load_session_secret,
    verify_password,
)
from docintel.review.commands import user_command
from docintel.review.store import (
    Action,
    AuditFilter,
    DisposalWindow,
    FlagFilter,
    HoldFilter,
    HoldScope,
    QueueFilter,
    ReviewState,
    ReviewStore,
)
from docintel.settings import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogueStore]:
    """A populated catalogue on each backend (a fresh PostgreSQL database per test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    with open_catalogue(url) as opened:
        populate(opened)
        yield opened


@pytest.fixture
def review(catalogue: CatalogueStore) -> ReviewStore:
    """The review store over the populated catalogue."""
    return ReviewStore(catalogue)


def all_ids(review: ReviewStore, queue_filter: QueueFilter) -> set[str]:
    """Every id a queue filter matches."""
    return set(review.matching_ids(queue_filter, 1000))


# -- passwords, sessions, settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [(PASSWORD, True), (PASSWORD + " ", False), ("", False), (PASSWORD.upper(), False)],
)
def test_password_hash_round_trip(given: str, expected: bool) -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(given, stored) is expected


@pytest.mark.parametrize("stored", [None, "", "bcrypt$x", "scrypt$1$2$3$!!$!!", "plain-text"])
def test_verify_rejects_missing_or_malformed_hashes(stored: str | None) -> None:
    assert verify_password(PASSWORD, stored) is False


def test_session_codec_rejects_tampering_and_expiry() -> None:
    codec = SessionCodec("s" * 32, max_age_seconds=60)
    value = codec.dumps({"user": "rita", "csrf": "t"})
    assert codec.loads(value) == {"user": "rita", "csrf": "t"}
    assert codec.loads(value[:-2] + "xx") == {}
    assert SessionCodec("o" * 32, 60).loads(value) == {}
    assert SessionCodec("s" * 32, max_age_seconds=-1).loads(value) == {}
    assert codec.loads(None) == {}


def test_review_settings_from_yaml_and_environment(tmp_path: Path) -> None:
    (tmp_path / "review.yaml").write_text("page_size: 20\ntrusted_header_enabled: true\n", encoding="utf-8")
    settings = load_review_settings(tmp_path, environ={"DOCINTEL_REVIEW__PAGE_SIZE": "30"})
    assert settings.page_size == 30 and settings.trusted_header_enabled
    assert load_review_settings(Path(__file__).resolve().parents[2] / "config", environ={}) == ReviewSettings()


@pytest.mark.parametrize(
    ("text", "where"), [("pag_size: 5\n", "pag_size"), ("page_size: -1\n", "page_size"), ("- a\n", "mapping")]
)
def test_bad_review_settings_name_the_key(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "review.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=where):
        load_review_settings(tmp_path, environ={})


def test_session_secret_from_environment(tmp_path: Path) -> None:
    assert load_session_secret({"DOCINTEL_REVIEW_SECRET": "x" * 20}) == "x" * 20
    secret_file = tmp_path / "secret"
    secret_file.write_text("y" * 20 + "\n", encoding="utf-8")
    assert load_session_secret({"DOCINTEL_REVIEW_SECRET_FILE": str(secret_file)}) == "y" * 20
    with pytest.raises(ConfigError):
        load_session_secret({"DOCINTEL_REVIEW_SECRET": "short"})
    assert len(load_session_secret({})) >= 32


# -- accounts ---------------------------------------------------------------------------------------


def test_accounts(review: ReviewStore) -> None:
    review.create_user("rita", PASSWORD, Role.REVIEWER, by="test")
    with pytest.raises(ConfigError, match="already exists"):
        review.create_user("rita", PASSWORD, Role.ADMIN, by="test")
    with pytest.raises(ConfigError, match="at least"):
        review.create_user("sam", "short", Role.REVIEWER, by="test")
    with pytest.raises(ConfigError, match="user name"):
        review.create_user("<b>", PASSWORD, Role.REVIEWER, by="test")
    assert review.authenticate("rita", PASSWORD) == REVIEWER
    assert review.authenticate("rita", "nope-nope-nope") is None
    review.set_role("rita", Role.ADMIN, by="test")
    assert review.account_role("rita") == (Role.ADMIN, False)
    review.set_disabled("rita", True, by="test")
    assert review.authenticate("rita", PASSWORD) is None
    actions = [entry.action for entry in review.iter_audit(AuditFilter(user_name="test"))]
    assert actions == ["user_create", "user_role", "user_disable"]


# -- queue ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queue_filter", "expected"),
    [
        (QueueFilter(state=ReviewState.ALL, prefix="Finance/"), {"inv-1", "inv-2", "inv-3", "inv-4"}),
        (QueueFilter(state=ReviewState.ALL, folder="HR/Personnel"), {"hr-1", "hr-2"}),
        (QueueFilter(state=ReviewState.ALL, record_class="(unclassified)"), {"odd-1"}),
        (QueueFilter(state=ReviewState.ALL, max_confidence=0.3), {"hr-1"}),
        (QueueFilter(state=ReviewState.ALL, disposal=DisposalWindow.DAYS_365), {"inv-1", "inv-2"}),
        (QueueFilter(state=ReviewState.ALL, disposal=DisposalWindow.OVERDUE), set()),
        (QueueFilter(state=ReviewState.ALL, prefix="100%_"), set()),  # LIKE wildcards are literal
    ],
)
def test_queue_filters(review: ReviewStore, queue_filter: QueueFilter, expected: set[str]) -> None:
    assert all_ids(review, queue_filter) == expected


def test_queue_order_and_count(review: ReviewStore) -> None:
    page = review.queue(QueueFilter(), page=1, page_size=3)
    assert page.total == 9 and page.pages == 3
    assert [row.document_id for row in page.rows] == ["odd-1", "hr-1", "inv-1"]


def test_queue_takes_turns_over_predicted_classes_least_sure_first(review: ReviewStore) -> None:
    rows = review.queue(QueueFilter(), page=1, page_size=50).rows
    # Round one: every class's least sure document (unclassified first); then each class's next, and so on.
    assert [row.document_id for row in rows] == [
        "odd-1", "hr-1", "inv-1", "case-1", "minutes-1",  # turn 1, least sure first
        "inv-2", "hr-2",  # turn 2
        "inv-4",  # turn 3
        "inv-3",  # turn 4
    ]  # fmt: skip
    second = review.queue(QueueFilter(), page=2, page_size=4).rows
    assert [row.document_id for row in second] == ["minutes-1", "inv-2", "hr-2", "inv-4"]


def test_queue_filters_on_the_classifier_verdict(review: ReviewStore) -> None:
    flagged = review.queue(QueueFilter(flag=FlagFilter.FLAGGED), page_size=50)
    assert [row.document_id for row in flagged.rows] == ["odd-1", "hr-1", "inv-1", "inv-2"]
    assert all(row.flagged for row in flagged.rows)
    accepted = review.queue(QueueFilter(flag=FlagFilter.ACCEPTED), page_size=50)
    # In id order: ids are hashes of where documents live, so the first decided are a fair sample.
    assert [row.document_id for row in accepted.rows] == sorted(["inv-3", "inv-4", "hr-2", "case-1", "minutes-1"])
    assert not any(row.flagged for row in accepted.rows)


def test_dashboard_shows_the_workload_the_classifier_leaves(review: ReviewStore) -> None:
    board = review.dashboard()
    assert (board.flagged, board.accepted) == (4, 5)
    assert board.flagged + board.accepted == board.to_review
    assert not board.accepted_precision.measured and board.accepted_precision.precision is None
    # Reviewers check three accepted documents (two right, one wrong) and a flagged one (not counted).
    review.decide(["inv-3", "hr-2"], Action.ACCEPT, by=REVIEWER, schedule=schedule())
    review.decide(["case-1", "hr-1"], Action.CHANGE, by=REVIEWER, schedule=schedule(), to_class="hr.payroll")
    board = review.dashboard()
    assert (board.flagged, board.accepted) == (3, 2)
    precision = board.accepted_precision
    assert (precision.checked, precision.right) == (3, 2)
    assert precision.precision == pytest.approx(2 / 3)
    assert precision.lower_bound is not None and 0.0 < precision.lower_bound < 2 / 3


def test_class_given_to_an_unclassified_document_stays_flagged(review: ReviewStore) -> None:
    review.decide(["odd-1"], Action.CHANGE, by=REVIEWER, schedule=schedule(), to_class="governance.committee")
    assert "odd-1" in all_ids(review, QueueFilter(state=ReviewState.ALL, flag=FlagFilter.FLAGGED))
    assert not review.dashboard().accepted_precision.measured


# -- decisions --------------------------------------------------------------------------------------


def test_change_recomputes_retention_and_records_everything(review: ReviewStore) -> None:
    before = review.catalogue.get("hr-1")
    assert before is not None and before["disposal_date"] is None
    outcome = review.decide(["hr-1", "gone"], Action.CHANGE, by=REVIEWER, schedule=schedule(), to_class="hr.payroll")
    assert outcome.done == 1 and dict(outcome.refused) == {"not in the catalogue (deleted, failed or unknown)": 1}
    after = review.catalogue.get("hr-1")
    assert after is not None
    expected = schedule().get("hr.payroll")
    assert after["record_class"] == "hr.payroll" and after["retention_period"] == expected.describe_period()
    assert after["disposal_date"] is not None
    decisions = review.decisions_for("hr-1")
    assert decisions[0]["from_class"] == "hr.personnel" and decisions[0]["to_class"] == "hr.payroll"
    assert decisions[0]["from_confidence"] == pytest.approx(0.2) and decisions[0]["approved"]
    assert review.approved_labels() == {"hr-1": "hr.payroll"}
    audit = list(review.iter_audit(AuditFilter(action="change")))
    assert [(a.document_id, a.outcome) for a in audit] == [("hr-1", "done"), ("gone", "refused")]
    assert "hr-1" not in all_ids(review, QueueFilter())  # reviewed: off the to-do queue
    assert "hr-1" in all_ids(review, QueueFilter(state=ReviewState.REVIEWED))


def test_change_to_a_date_of_birth_class_is_dated_from_the_kept_birth_year(review: ReviewStore) -> None:
    """The retain stage keeps the year of birth (never the date); a reviewer's change to a DOB class uses it."""
    engines = Engines(settings=Settings(config_dir=CONFIG_DIR), pii_key=b"k" * 32)
    letter = document("pupil-1", path="Schools/Letters", record_class="correspondence.transitory")
    letter = letter.model_copy(
        update={"pii": [PiiFinding(entity_type="DATE_OF_BIRTH", start=0, end=10, text="14/03/2012", score=0.85)]}
    )
    review.catalogue.save(retain_stage(letter, engines))
    review.catalogue.save(retain_stage(document("pupil-2", path="Schools/Letters"), engines))
    stored = review.catalogue.get("pupil-1")
    assert stored is not None and stored["birth_year"] == 2012
    outcome = review.decide(
        ["pupil-1", "pupil-2"], Action.CHANGE, by=REVIEWER, schedule=schedule(), to_class="education.pupil_record"
    )
    assert outcome.done == 2
    dated = review.catalogue.get("pupil-1")
    assert dated is not None
    assert dated["disposal_date"] == dt.date(2037, 12, 31)  # DOB + 25 years, counted from the birth year's end
    assert dated["retention_trigger"] == "date_of_birth" and dated["retention_period"] == "DOB + 25 years"
    undated = review.catalogue.get("pupil-2")
    assert undated is not None and undated["disposal_date"] is None
    assert undated["retention_trigger"] == "date_of_birth (awaits date of birth)"


def test_readonly_cannot_decide(review: ReviewStore) -> None:
    with pytest.raises(PermissionError):
        review.decide(["inv-1"], Action.ACCEPT, by=READER, schedule=schedule())


@pytest.mark.parametrize(
    ("doc_id", "refusal"),
    [
        ("inv-1", None),
        ("minutes-1", "kept permanently"),
        ("hr-2", "no disposal date"),
        ("odd-1", "not classified"),
    ],
)
def test_disposal_approval_rules(review: ReviewStore, doc_id: str, refusal: str | None) -> None:
    outcome = review.decide([doc_id], Action.APPROVE_DISPOSAL, by=REVIEWER, schedule=schedule())
    assert (outcome.done, dict(outcome.refused)) == ((1, {}) if refusal is None else (0, {refusal: 1}))


@pytest.mark.parametrize(
    ("scope", "target", "covered"),
    [
        (HoldScope.DOCUMENT, "inv-1", {"inv-1"}),
        (HoldScope.FOLDER, "Finance/Invoices/", {"inv-1", "inv-2", "inv-3", "inv-4"}),
        (HoldScope.FOLDER, "Finance/Inv", set()),
        (HoldScope.CASE, "case-0042", {"case-1"}),
        (HoldScope.SEARCH, "minutes", {"minutes-1"}),
    ],
)
def test_hold_scopes_block_disposal(review: ReviewStore, scope: HoldScope, target: str, covered: set[str]) -> None:
    hold = review.place_hold(scope, target, "inquiry", by=REVIEWER)
    held = all_ids(review, QueueFilter(state=ReviewState.ALL, hold=HoldFilter.HELD))
    assert held == covered
    outcome = review.decide(["inv-1", "inv-2"], Action.APPROVE_DISPOSAL, by=REVIEWER, schedule=schedule())
    blocked = len({"inv-1", "inv-2"} & covered)
    assert outcome.refused.get("on hold", 0) == blocked and outcome.done == 2 - blocked
    with pytest.raises(PermissionError):
        review.release_hold(hold.id, "over", by=REVIEWER)
    review.release_hold(hold.id, "over", by=ADMIN)
    assert all_ids(review, QueueFilter(state=ReviewState.ALL, hold=HoldFilter.HELD)) == set()
    with pytest.raises(ConfigError):
        review.release_hold(hold.id, "again", by=ADMIN)


def test_hold_covers_documents_catalogued_later(review: ReviewStore) -> None:
    review.place_hold(HoldScope.FOLDER, "Planning", "public inquiry", by=REVIEWER)
    review.catalogue.save(document("plan-1", path="Planning/2026", record_class="planning.decision"))
    assert review.holds_covering("plan-1")[0].reason == "public inquiry"


def test_approved_for_disposal_excludes_held_and_future(review: ReviewStore) -> None:
    review.decide(["inv-1", "inv-2", "inv-3"], Action.APPROVE_DISPOSAL, by=REVIEWER, schedule=schedule())
    far = dt.date.today() + dt.timedelta(days=4000)
    assert set(review.approved_for_disposal(far)) == {"inv-1", "inv-2", "inv-3"}
    assert review.approved_for_disposal(dt.date(2000, 1, 1)) == []
    review.place_hold(HoldScope.DOCUMENT, "inv-2", "complaint", by=REVIEWER)
    assert set(review.approved_for_disposal(far)) == {"inv-1", "inv-3"}
    # Changing the class voids the approval.
    review.decide(["inv-3"], Action.CHANGE, by=REVIEWER, schedule=schedule(), to_class="finance.budget")
    assert set(review.approved_for_disposal(far)) == {"inv-1"}


def test_dashboard_counts(review: ReviewStore) -> None:
    review.place_hold(HoldScope.FOLDER, "HR", "tribunal", by=REVIEWER)
    board = review.dashboard()
    assert board.documents == 9 and board.classified == 8 and board.failed == 1
    assert board.on_hold == 2 and board.due_year == 2 and board.overdue == 0
    assert sum(board.confidence) + board.unscored == 9 and board.confidence[9] == 1
    assert dict(board.sites) == {"Finance": 4, "HR": 2, "Social Care": 1, "Governance": 2}
    assert len(board.disposal_by_month) == 12 and sum(n for _, n in board.disposal_by_month) == 2


# -- commands ---------------------------------------------------------------------------------------


def test_user_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    created = runner.invoke(
        user_command, ["create", "rita", "--role", "reviewer", "--catalogue", url], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert created.exit_code == 0, created.output
    assert "created rita (reviewer)" in created.output and PASSWORD not in created.output
    again = runner.invoke(user_command, ["create", "rita", "--catalogue", url], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(user_command, ["create", "sam", "--catalogue", url], input="short\nshort\n")
    assert short.exit_code == 2
    assert runner.invoke(user_command, ["create", "pat", "--no-password", "--catalogue", url]).exit_code == 0
    assert runner.invoke(user_command, ["set-role", "rita", "admin", "--catalogue", url]).exit_code == 0
    assert runner.invoke(user_command, ["disable", "pat", "--catalogue", url]).exit_code == 0
    listing = runner.invoke(user_command, ["list", "--catalogue", url]).output
    assert "rita\tadmin" in listing and "proxy only, disabled" in listing
    assert runner.invoke(user_command, ["set-role", "nobody", "admin", "--catalogue", url]).exit_code == 2
    with open_catalogue(url) as store:
        assert ReviewStore(store).authenticate("rita", PASSWORD) is not None
