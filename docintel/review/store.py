"""The review workflow's catalogue queries and writes: queue, decisions, holds, accounts, audit, dashboard.

:class:`ReviewStore` wraps a :class:`~docintel.catalogue.store.CatalogueStore` and uses its engine on the
review tables (revision ``0002_review``). Every decision is written in one transaction with its audit rows,
so the audit trail never misses a change. A legal hold (on a document, a folder, a case reference or a
search term) blocks disposal approval for every document it covers, for as long as it is active: hold
coverage is evaluated when asked, so documents catalogued after the hold was placed are covered too.

Nothing here reads or stores document text or personal data values; PII appears as counts by type.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import CatalogueError, ConfigError
from docintel.governance import NO_SIGNALS, DocumentSignals
from docintel.models import ClassEvidence, DocumentStatus
from docintel.retention import UNCLASSIFIED, RetentionSchedule, local_date, retain
from docintel.review.auth import Reviewer, Role, check_password, check_user_name, hash_password, verify_password

log = logging.getLogger(__name__)

# Ids per IN (...) clause, as in the catalogue store.
ID_CHUNK = 500
# Confidence histogram buckets: ten of 0.1 each.
CONFIDENCE_BUCKETS = 10
UNCLASSIFIED_FILTER = "(unclassified)"
REVIEWER_CLASSIFIER = "reviewer"
# Duplicates and near-duplicates listed on a document's page.
RELATED_LIMIT = 50
# Audit rows listed per page and streamed per batch in the CSV export.
AUDIT_BATCH = 1000
# z for a 95% interval around the measured precision of accepted documents.
WILSON_Z = 1.96

_LIVE = and_(t.documents.c.deleted.is_(False), t.documents.c.status == DocumentStatus.OK.value)
# The classifier's verdict as it stored it: flagged when it asked for review or found no class. A reviewer's
# decision leaves needs_review alone, so the verdict and the precision of "accepted" survive review.
_FLAGGED = or_(
    t.documents.c.record_class.is_(None),
    t.documents.c.record_class == UNCLASSIFIED,
    t.documents.c.needs_review.is_(True),
)
_SIGNAL_COLUMNS = (
    t.document_signals.c.duplicate_group,
    t.document_signals.c.duplicates,
    t.document_signals.c.near_group,
    t.document_signals.c.near_duplicates,
    t.document_signals.c.wrong_place,
    t.document_signals.c.stale_years,
)


class Action(StrEnum):
    """What a reviewer decided about a document."""

    ACCEPT = "accept"
    CHANGE = "change"
    APPROVE_DISPOSAL = "approve_disposal"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"


# The audit trail's actions beyond reviewers' decisions: account changes, and retention labels written back to
# Microsoft 365 by `docintel labels`. Every one can be picked in the audit page's filter.
ACCOUNT_ACTIONS = ("user_create", "user_password", "user_role", "user_enable", "user_disable", "user_delete")
LABEL_ACTION = "label"
# Searches by GET /v1/subject-access and docintel find (docintel.subject_access.AUDIT_ACTION).
SUBJECT_ACCESS_ACTION = "subject_access"
# A key's supplier profile approved into the shared set (docintel profiles approve).
PROFILE_APPROVE_ACTION = "profile_approve"
# A records manager's override of a migration-triage recommendation, and an export of the migration task files
# (docintel.triage: those carry real folder paths).
TRIAGE_ACTIONS = ("triage_override", "triage_export")
AUDIT_ACTIONS = (
    *(action.value for action in Action),
    *ACCOUNT_ACTIONS,
    LABEL_ACTION,
    SUBJECT_ACCESS_ACTION,
    PROFILE_APPROVE_ACTION,
    *TRIAGE_ACTIONS,
)


class HoldScope(StrEnum):
    """What a legal hold covers."""

    DOCUMENT = "document"  # one document (and its attachments)
    FOLDER = "folder"  # a folder path and everything below it
    CASE = "case"  # documents whose folder path or file name carries the case reference
    SEARCH = "search"  # documents whose name, title or folder path contains the search term


class DisposalWindow(StrEnum):
    """Queue filter on the disposal date."""

    ANY = ""
    OVERDUE = "overdue"
    DAYS_90 = "90"
    DAYS_365 = "365"
    NONE = "none"  # permanent, or waiting for a trigger date


class ReviewState(StrEnum):
    """Queue filter on whether a reviewer has confirmed the class."""

    TODO = "todo"
    REVIEWED = "reviewed"
    ALL = "all"


class HoldFilter(StrEnum):
    """Queue filter on legal holds."""

    ANY = ""
    HELD = "held"
    FREE = "free"


class FlagFilter(StrEnum):
    """Queue filter on the classifier's verdict: flagged for review (or unclassified), or accepted."""

    ANY = ""
    FLAGGED = "flagged"
    ACCEPTED = "accepted"


class SignalFilter(StrEnum):
    """Queue filter on governance signals (docintel.governance), read from the ``document_signals`` table."""

    ANY = ""
    DUPLICATE = "duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    WRONG_PLACE = "wrong_place"
    STALE = "stale"


@dataclass(frozen=True)
class QueueFilter:
    """The review queue's filters; empty values do not filter."""

    prefix: str = ""  # site or folder path prefix: the folder and everything below
    folder: str = ""  # exactly this folder
    record_class: str = ""  # a class id, or UNCLASSIFIED_FILTER
    min_confidence: float | None = None
    max_confidence: float | None = None
    disposal: DisposalWindow = DisposalWindow.ANY
    state: ReviewState = ReviewState.TODO
    hold: HoldFilter = HoldFilter.ANY
    signal: SignalFilter = SignalFilter.ANY
    flag: FlagFilter = FlagFilter.ANY


@dataclass(frozen=True)
class QueueRow:
    """One document in the review queue."""

    document_id: str
    name: str
    path: str
    record_class: str | None
    confidence: float | None
    classifier: str | None
    explanation: str
    disposal_date: dt.date | None
    retention_action: str | None
    reviewed_by: str | None
    disposal_approved: bool
    on_hold: bool
    signals: DocumentSignals = NO_SIGNALS
    flagged: bool = False  # the classifier asked for review (or could not classify)


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue and the total number of documents matching the filter."""

    rows: list[QueueRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the filter spans (at least one)."""
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Hold:
    """A legal hold, active while ``released_at`` is None."""

    id: int
    scope: HoldScope
    target: str
    reason: str
    placed_by: str
    placed_at: dt.datetime
    released_at: dt.datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        """Whether the hold still blocks disposal."""
        return self.released_at is None


@dataclass
class DecisionOutcome:
    """What a (bulk) decision did: documents changed, and documents refused with why."""

    batch_id: str
    action: Action
    done: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    @property
    def refused_total(self) -> int:
        """How many documents were refused."""
        return sum(self.refused.values())


@dataclass(frozen=True)
class AuditEntry:
    """One audit trail row."""

    id: int
    at: dt.datetime
    user_name: str
    action: str
    document_id: str | None
    target: str | None
    from_value: str | None
    to_value: str | None
    reason: str
    outcome: str
    batch_id: str | None


@dataclass(frozen=True)
class AuditFilter:
    """Audit trail filters; empty values do not filter."""

    user_name: str = ""
    action: str = ""
    document_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True)
class AcceptedPrecision:
    """How often the classifier's accepted classes were right, measured from reviewers' decisions on them."""

    checked: int  # accepted documents a reviewer has decided on
    right: int  # of those, how many kept the classifier's class

    @property
    def measured(self) -> bool:
        """Whether any reviewer has decided on an accepted document yet."""
        return self.checked > 0

    @property
    def precision(self) -> float | None:
        """right / checked, or None before any decision."""
        return self.right / self.checked if self.checked else None

    @property
    def lower_bound(self) -> float | None:
        """The 95% Wilson lower bound: what the precision is at least, given how few may have been checked."""
        if not self.checked:
            return None
        n, p, z = self.checked, self.right / self.checked, WILSON_Z
        centre = p + z * z / (2 * n)
        spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, (centre - spread) / (1 + z * z / n))


@dataclass(frozen=True)
class Dashboard:
    """Counts behind the dashboard charts."""

    documents: int
    classified: int
    reviewed: int
    to_review: int
    flagged: int  # not reviewed yet, and the classifier asked for review or could not classify
    accepted: int  # not reviewed yet, and the classifier was sure enough not to ask
    accepted_precision: AcceptedPrecision
    on_hold: int
    disposal_approved: int
    overdue: int
    due_90_days: int
    due_year: int
    failed: int
    classes: list[tuple[str | None, int]]
    sites: list[tuple[str, int]]
    disposal_by_month: list[tuple[str, int]]  # ("2027-03", n) for the next twelve months
    confidence: list[int]  # CONFIDENCE_BUCKETS counts, lowest first
    unscored: int  # documents with no confidence (unclassified)


@dataclass(frozen=True)
class RelatedDocument:
    """Another document sharing a duplicate or near-duplicate group with the one shown."""

    document_id: str
    name: str
    path: str
    record_class: str | None


@dataclass(frozen=True)
class ReviewedExample:
    """A document of the council's own that reviewers confirmed in a class: an example of what the class holds."""

    document_id: str
    name: str
    path: str
    reviewed_by: str | None
    reviewed_at: dt.datetime | None


@dataclass(frozen=True)
class UserAccount:
    """A local account, without its password hash."""

    name: str
    role: Role
    created_at: dt.datetime
    disabled: bool
    has_password: bool


@dataclass(frozen=True)
class AccountState:
    """What each request checks of a signed-in account: its stored name, role, disabled flag, session version."""

    name: str
    role: Role
    disabled: bool
    session_version: int


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return local_date(_utcnow())


def _chunks(items: Sequence[str], size: int = ID_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _like_escape(value: str) -> str:
    """``value`` with LIKE wildcards escaped (escape character backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, term: str) -> ColumnElement[bool]:
    return func.lower(func.coalesce(column, "")).like(f"%{_like_escape(term.lower())}%", escape="\\")


def _under_folder(column: Any, folder: str) -> ColumnElement[bool]:
    """The folder itself or anything below it ("/A/B" covers "/A/B" and "/A/B/C", not "/A/BC")."""
    folder = folder.rstrip("/")
    if not folder:
        return true()
    return or_(column == folder, column.like(f"{_like_escape(folder)}/%", escape="\\"))


def normalise_folder(path: str) -> str:
    """A folder path as the catalogue writes it: no trailing slash."""
    return path.strip().rstrip("/")


def hold_condition(holds: Sequence[Hold]) -> ColumnElement[bool]:
    """A SQL condition on ``documents`` true for documents covered by any of ``holds``, never NULL (so ~ works)."""
    d = t.documents
    conditions: list[ColumnElement[bool]] = []
    for hold in holds:
        if not hold.active:
            continue
        if hold.scope is HoldScope.DOCUMENT:
            # coalesce: a NULL parent would make the condition NULL, and NOT NULL would hide unheld documents.
            conditions.append(or_(d.c.id == hold.target, func.coalesce(d.c.parent_id, "") == hold.target))
        elif hold.scope is HoldScope.FOLDER:
            conditions.append(_under_folder(d.c.path, hold.target))
        elif hold.scope is HoldScope.CASE:
            conditions.append(or_(_contains(d.c.path, hold.target), _contains(d.c.name, hold.target)))
        else:
            conditions.append(
                or_(
                    _contains(d.c.name, hold.target),
                    _contains(d.c.title, hold.target),
                    _contains(d.c.path, hold.target),
                )
            )
    return or_(*conditions) if conditions else false()


def _hold_from_row(row: Any) -> Hold:
    return Hold(
        id=row.id,
        scope=HoldScope(row.scope),
        target=row.target,
        reason=row.reason,
        placed_by=row.placed_by,
        placed_at=row.placed_at,
        released_at=row.released_at,
        released_by=row.released_by,
        release_reason=row.release_reason,
    )


def queue_order_columns() -> list[Any]:
    """The teaching order's keys: a document's turn within its predicted class, and how unsure the class is.

    ``uncertainty_key`` sorts least sure first (unclassified documents, with no confidence, before all);
    ``class_turn`` is 1 for each class's least sure document, 2 for its next, so ordering by turn first goes
    round the classes.
    """
    d = t.documents
    uncertainty = func.coalesce(d.c.class_confidence, -1.0)
    turn = func.row_number().over(partition_by=d.c.record_class, order_by=(uncertainty, d.c.id))
    return [uncertainty.label("uncertainty_key"), turn.label("class_turn")]


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    return dt.date(day.year + month_index // 12, month_index % 12 + 1, 1)


class ReviewStore:
    """Review decisions, holds, accounts and the audit trail, stored beside the catalogue's documents."""

    def __init__(self, catalogue: CatalogueStore) -> None:
        self.catalogue = catalogue
        self._engine = catalogue.engine
        self._dialect = catalogue.dialect

    # -- plumbing ---------------------------------------------------------------------------------

    def _transaction(self, action: str, *, write: bool = False) -> AbstractContextManager[Connection]:
        return self.catalogue.transaction(f"review {action}", write=write)

    def _upsert_state(self, connection: Connection, document_id: str, values: dict[str, Any]) -> None:
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        statement = dialect_insert(t.review_state).values(document_id=document_id, **values)
        connection.execute(statement.on_conflict_do_update(index_elements=[t.review_state.c.document_id], set_=values))

    @staticmethod
    def _audit(connection: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            connection.execute(insert(t.audit), rows)

    # -- accounts ---------------------------------------------------------------------------------

    @staticmethod
    def _named(name: str) -> ColumnElement[bool]:
        """Account names compare without case ("Alice" signs in as "alice"); names made before still match."""
        return func.lower(t.users.c.name) == name.strip().lower()

    def _canonical_name(self, connection: Connection, name: str) -> str | None:
        """The stored spelling of an account name, the exact one first when old rows differ only in case."""
        query = (
            select(t.users.c.name)
            .where(self._named(name))
            .order_by((t.users.c.name == name.strip()).desc(), t.users.c.name)
            .limit(1)
        )
        stored = connection.execute(query).scalar_one_or_none()
        return None if stored is None else str(stored)

    def create_user(self, name: str, password: str | None, role: Role, *, by: str) -> UserAccount:
        """Create a local account; ``password`` None makes a proxy-only account. Fails if the name is taken."""
        name = check_user_name(name)
        password_hash = hash_password(check_password(password)) if password is not None else None
        now = _utcnow()
        try:
            with self._transaction("create user", write=True) as connection:
                if self._canonical_name(connection, name) is not None:
                    raise ConfigError(f"user '{name}' already exists (names are not case-sensitive)")
                connection.execute(
                    insert(t.users).values(
                        name=name, password_hash=password_hash, role=role.value, created_at=now, disabled=False
                    )
                )
                self._audit(
                    connection, [self._account_audit(by, "user_create", name, before=None, after=role.value, now=now)]
                )
        except CatalogueError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise ConfigError(f"user '{name}' already exists") from exc
            raise
        log.info("review account created with role %s", role.value)
        return UserAccount(name, role, now, False, password_hash is not None)

    @staticmethod
    def _account_audit(
        by: str, action: str, name: str, *, before: str | None, after: str | None, now: dt.datetime
    ) -> dict[str, Any]:
        return {
            "at": now,
            "user_name": by,
            "action": action,
            "document_id": None,
            "target": name,
            "from_value": before,
            "to_value": after,
            "reason": "",
            "outcome": "done",
            "batch_id": None,
        }

    def set_password(self, name: str, password: str, *, by: str) -> None:
        """Replace an account's password and end its existing sessions."""
        password_hash = hash_password(check_password(password))
        now = _utcnow()
        with self._transaction("set password", write=True) as connection:
            name = self._canonical_name(connection, name) or name
            result = connection.execute(
                update(t.users)
                .where(t.users.c.name == name)
                .values(password_hash=password_hash, session_version=t.users.c.session_version + 1)
            )
            if result.rowcount == 0:
                raise ConfigError(f"no user '{name}'")
            self._audit(connection, [self._account_audit(by, "user_password", name, before=None, after=None, now=now)])

    def set_role(self, name: str, role: Role, *, by: str) -> None:
        """Change an account's role."""
        now = _utcnow()
        with self._transaction("set role", write=True) as connection:
            name = self._canonical_name(connection, name) or name
            before = connection.execute(select(t.users.c.role).where(t.users.c.name == name)).scalar_one_or_none()
            if before is None:
                raise ConfigError(f"no user '{name}'")
            connection.execute(update(t.users).where(t.users.c.name == name).values(role=role.value))
            self._audit(
                connection, [self._account_audit(by, "user_role", name, before=before, after=role.value, now=now)]
            )

    def set_disabled(self, name: str, disabled: bool, *, by: str) -> None:
        """Disable (or re-enable) an account; a disabled account cannot sign in by password or proxy."""
        now = _utcnow()
        with self._transaction("disable user", write=True) as connection:
            name = self._canonical_name(connection, name) or name
            result = connection.execute(update(t.users).where(t.users.c.name == name).values(disabled=disabled))
            if result.rowcount == 0:
                raise ConfigError(f"no user '{name}'")
            action = "user_disable" if disabled else "user_enable"
            self._audit(connection, [self._account_audit(by, action, name, before=None, after=None, now=now)])

    def list_users(self) -> list[UserAccount]:
        """Every local account, by name."""
        u = t.users
        query = select(u.c.name, u.c.role, u.c.created_at, u.c.disabled, u.c.password_hash.is_not(None)).order_by(
            u.c.name
        )
        with self._transaction("list users") as connection:
            return [
                UserAccount(name, Role(role), created, bool(disabled), bool(has_password))
                for name, role, created, disabled, has_password in connection.execute(query)
            ]

    def authenticate(self, name: str, password: str) -> Reviewer | None:
        """The reviewer when ``name`` and ``password`` match an enabled account, else None (same cost either way).

        The reviewer carries the account's stored name, whatever case it was typed in.
        """
        u = t.users
        with self._transaction("read user") as connection:
            stored_name = self._canonical_name(connection, name)
            row = connection.execute(
                select(u.c.password_hash, u.c.role, u.c.disabled).where(u.c.name == stored_name)
            ).one_or_none()
        stored = row.password_hash if row is not None and not row.disabled else None
        if not verify_password(password, stored) or row is None or stored_name is None:
            return None
        return Reviewer(stored_name, Role(row.role), "password")

    def account(self, name: str) -> AccountState | None:
        """An account's stored name, role, whether disabled and its session version; None when there is none."""
        u = t.users
        with self._transaction("read user") as connection:
            stored_name = self._canonical_name(connection, name)
            row = connection.execute(
                select(u.c.role, u.c.disabled, u.c.session_version).where(u.c.name == stored_name)
            ).one_or_none()
        if row is None or stored_name is None:
            return None
        return AccountState(stored_name, Role(row.role), bool(row.disabled), int(row.session_version))

    def account_role(self, name: str) -> tuple[Role, bool] | None:
        """(role, disabled) of a local account, or None when there is no such account."""
        state = self.account(name)
        return (state.role, state.disabled) if state is not None else None

    def end_sessions(self, name: str) -> None:
        """End every session of an account (sign-out): cookies issued before carry an older session version."""
        with self._transaction("end sessions", write=True) as connection:
            connection.execute(
                update(t.users).where(self._named(name)).values(session_version=t.users.c.session_version + 1)
            )

    # -- holds ------------------------------------------------------------------------------------

    def holds(self, *, active_only: bool = False) -> list[Hold]:
        """Holds, newest first."""
        query = select(t.holds).order_by(t.holds.c.placed_at.desc(), t.holds.c.id.desc())
        if active_only:
            query = query.where(t.holds.c.released_at.is_(None))
        with self._transaction("read holds") as connection:
            return [_hold_from_row(row) for row in connection.execute(query)]

    def _active_holds(self, connection: Connection) -> list[Hold]:
        query = select(t.holds).where(t.holds.c.released_at.is_(None))
        return [_hold_from_row(row) for row in connection.execute(query)]

    def place_hold(self, scope: HoldScope, target: str, reason: str, *, by: Reviewer) -> Hold:
        """Place a legal hold; documents it covers show "on hold" and cannot be approved for disposal."""
        target = normalise_folder(target) if scope is HoldScope.FOLDER else target.strip()
        if not target:
            raise ConfigError("a hold needs a target")
        if not reason.strip():
            raise ConfigError("a hold needs a reason")
        now = _utcnow()
        values = {
            "scope": scope.value,
            "target": target,
            "reason": reason.strip(),
            "placed_by": by.name,
            "placed_at": now,
        }
        with self._transaction("place hold", write=True) as connection:
            hold_id = connection.execute(insert(t.holds).values(values).returning(t.holds.c.id)).scalar_one()
            audit_row = {
                "at": now,
                "user_name": by.name,
                "action": Action.HOLD.value,
                "document_id": target if scope is HoldScope.DOCUMENT else None,
                "target": f"{scope.value}:{target}",
                "from_value": None,
                "to_value": "on hold",
                "reason": reason.strip(),
                "outcome": "done",
                "batch_id": None,
            }
            self._audit(connection, [audit_row])
            if scope is HoldScope.DOCUMENT:
                self._record_hold_decision(connection, target, Action.HOLD, user=by.name, reason=reason, now=now)
        log.info("hold %s placed (scope %s)", hold_id, scope.value)
        return Hold(int(hold_id), scope, target, reason.strip(), by.name, now)

    def _record_hold_decision(
        self, connection: Connection, document_id: str, action: Action, *, user: str, reason: str, now: dt.datetime
    ) -> None:
        current = connection.execute(
            select(t.documents.c.record_class).where(t.documents.c.id == document_id)
        ).scalar_one_or_none()
        connection.execute(
            insert(t.review_decisions).values(
                document_id=document_id,
                user_name=user,
                at=now,
                action=action.value,
                from_class=current,
                to_class=current,
                reason=reason.strip(),
                approved=False,
            )
        )

    def release_hold(self, hold_id: int, reason: str, *, by: Reviewer) -> Hold:
        """Release an active hold (administrators only)."""
        if not by.can_release_holds:
            raise PermissionError("only an administrator can release a legal hold")
        if not reason.strip():
            raise ConfigError("releasing a hold needs a reason")
        now = _utcnow()
        with self._transaction("release hold", write=True) as connection:
            row = connection.execute(select(t.holds).where(t.holds.c.id == hold_id)).one_or_none()
            if row is None or row.released_at is not None:
                raise ConfigError(f"no active hold with id {hold_id}")
            connection.execute(
                update(t.holds)
                .where(t.holds.c.id == hold_id)
                .values(released_at=now, released_by=by.name, release_reason=reason.strip())
            )
            hold = _hold_from_row(row)
            self._audit(
                connection,
                [
                    {
                        "at": now,
                        "user_name": by.name,
                        "action": Action.RELEASE_HOLD.value,
                        "document_id": hold.target if hold.scope is HoldScope.DOCUMENT else None,
                        "target": f"{hold.scope.value}:{hold.target}",
                        "from_value": "on hold",
                        "to_value": "released",
                        "reason": reason.strip(),
                        "outcome": "done",
                        "batch_id": None,
                    }
                ],
            )
            if hold.scope is HoldScope.DOCUMENT:
                self._record_hold_decision(
                    connection, hold.target, Action.RELEASE_HOLD, user=by.name, reason=reason, now=now
                )
        log.info("hold %s released", hold_id)
        return replace(hold, released_at=now, released_by=by.name, release_reason=reason.strip())

    def hold_coverage(self, holds: Sequence[Hold]) -> dict[int, int]:
        """How many live documents each hold covers."""
        counts: dict[int, int] = {}
        with self._transaction("count held documents") as connection:
            for hold in holds:
                condition = hold_condition([replace(hold, released_at=None)])
                query = select(func.count()).select_from(t.documents).where(t.documents.c.deleted.is_(False), condition)
                counts[hold.id] = connection.execute(query).scalar_one()
        return counts

    def holds_covering(self, document_id: str) -> list[Hold]:
        """Active holds that cover one document."""
        with self._transaction("read holds") as connection:
            covering = []
            for hold in self._active_holds(connection):
                query = select(t.documents.c.id).where(t.documents.c.id == document_id, hold_condition([hold]))
                if connection.execute(query).first() is not None:
                    covering.append(hold)
        return covering

    # -- queue ------------------------------------------------------------------------------------

    def _filtered(self, query: Any, queue_filter: QueueFilter, held: ColumnElement[bool]) -> Any:
        d, s, g = t.documents, t.review_state, t.document_signals
        query = query.where(_LIVE)
        if queue_filter.prefix.strip():
            query = query.where(_under_folder(d.c.path, normalise_folder(queue_filter.prefix)))
        if queue_filter.folder.strip():
            query = query.where(d.c.path == normalise_folder(queue_filter.folder))
        if queue_filter.record_class == UNCLASSIFIED_FILTER:
            query = query.where(d.c.record_class.is_(None))
        elif queue_filter.record_class:
            query = query.where(d.c.record_class == queue_filter.record_class)
        if queue_filter.min_confidence is not None:
            query = query.where(d.c.class_confidence >= queue_filter.min_confidence)
        if queue_filter.max_confidence is not None:
            query = query.where(d.c.class_confidence <= queue_filter.max_confidence)
        today = _today()
        window = queue_filter.disposal
        if window is DisposalWindow.OVERDUE:
            query = query.where(d.c.disposal_date < today)
        elif window in (DisposalWindow.DAYS_90, DisposalWindow.DAYS_365):
            until = today + dt.timedelta(days=int(window.value))
            query = query.where(d.c.disposal_date >= today, d.c.disposal_date <= until)
        elif window is DisposalWindow.NONE:
            query = query.where(d.c.disposal_date.is_(None))
        if queue_filter.state is ReviewState.TODO:
            query = query.where(s.c.reviewed_class.is_(None))
        elif queue_filter.state is ReviewState.REVIEWED:
            query = query.where(s.c.reviewed_class.is_not(None))
        if queue_filter.hold is HoldFilter.HELD:
            query = query.where(held)
        elif queue_filter.hold is HoldFilter.FREE:
            query = query.where(~held)
        signal_column = {
            SignalFilter.DUPLICATE: g.c.duplicate_group,
            SignalFilter.NEAR_DUPLICATE: g.c.near_group,
            SignalFilter.WRONG_PLACE: g.c.wrong_place,
            SignalFilter.STALE: g.c.stale_years,
        }.get(queue_filter.signal)
        if signal_column is not None:
            query = query.where(signal_column.is_not(None))
        if queue_filter.flag is FlagFilter.FLAGGED:
            query = query.where(_FLAGGED)
        elif queue_filter.flag is FlagFilter.ACCEPTED:
            query = query.where(~_FLAGGED)
        return query

    @staticmethod
    def _joined() -> Any:
        # document_signals is one row or none per document, like review_state: the joins add no rows.
        return t.documents.outerjoin(t.review_state, t.review_state.c.document_id == t.documents.c.id).outerjoin(
            t.document_signals, t.document_signals.c.document_id == t.documents.c.id
        )

    def queue(self, queue_filter: QueueFilter, page: int = 1, page_size: int = 50) -> QueuePage:
        """One page of the review queue, in the order its first decisions teach the classifier most.

        Flagged documents (and any mix): least sure first, taking turns over the predicted classes (each class's
        least sure document, then each class's next...), so early decisions correct every class rather than
        fifty of one. Accepted documents alone: in id order, which is a hash of where the document lives, so the
        first ones decided are a fair random sample for measuring the precision of what the classifier accepted.
        """
        d, s = t.documents, t.review_state
        page = max(1, page)
        with self._transaction("read queue") as connection:
            held = hold_condition(self._active_holds(connection))
            count_query = self._filtered(select(func.count()).select_from(self._joined()), queue_filter, held)
            total = connection.execute(count_query).scalar_one()
            query = self._filtered(
                select(
                    d.c.id,
                    d.c.name,
                    d.c.path,
                    d.c.record_class,
                    d.c.class_confidence,
                    d.c.classifier,
                    d.c.class_explanation,
                    d.c.disposal_date,
                    d.c.retention_action,
                    s.c.reviewed_by,
                    s.c.disposal_approved_at,
                    case((held, True), else_=False).label("on_hold"),
                    case((_FLAGGED, True), else_=False).label("flagged"),
                    *_SIGNAL_COLUMNS,
                    *queue_order_columns(),
                ).select_from(self._joined()),
                queue_filter,
                held,
            )
            ordered = query.subquery()
            if queue_filter.flag is FlagFilter.ACCEPTED:
                order: list[Any] = [ordered.c.id]
            else:
                order = [ordered.c.class_turn, ordered.c.uncertainty_key, ordered.c.id]
            query = select(ordered).order_by(*order).limit(page_size).offset((page - 1) * page_size)
            rows = [
                QueueRow(
                    document_id=row.id,
                    name=row.name,
                    path=row.path,
                    record_class=row.record_class,
                    confidence=row.class_confidence,
                    classifier=row.classifier,
                    explanation=row.class_explanation or "",
                    disposal_date=row.disposal_date,
                    retention_action=row.retention_action,
                    reviewed_by=row.reviewed_by,
                    disposal_approved=row.disposal_approved_at is not None,
                    on_hold=bool(row.on_hold),
                    signals=DocumentSignals.from_row(row),
                    flagged=bool(row.flagged),
                )
                for row in connection.execute(query)
            ]
        return QueuePage(rows, total, page, page_size)

    def matching_ids(self, queue_filter: QueueFilter, limit: int) -> list[str]:
        """Ids of the documents a filter matches, at most ``limit + 1`` (so callers can tell it went over)."""
        with self._transaction("read queue ids") as connection:
            held = hold_condition(self._active_holds(connection))
            query = self._filtered(select(t.documents.c.id).select_from(self._joined()), queue_filter, held)
            return list(connection.execute(query.order_by(t.documents.c.id).limit(limit + 1)).scalars())

    def folder_ids(self, folder: str, limit: int) -> list[str]:
        """Ids of the live documents in one folder (not below it), at most ``limit + 1``."""
        query = (
            select(t.documents.c.id)
            .where(_LIVE, t.documents.c.path == normalise_folder(folder))
            .order_by(t.documents.c.id)
            .limit(limit + 1)
        )
        with self._transaction("read folder ids") as connection:
            return list(connection.execute(query).scalars())

    # -- decisions --------------------------------------------------------------------------------

    def decide(
        self,
        document_ids: Sequence[str],
        action: Action,
        *,
        by: Reviewer,
        schedule: RetentionSchedule,
        to_class: str | None = None,
        reason: str = "",
    ) -> DecisionOutcome:
        """Accept, change the class of, or approve disposal of documents, in one transaction with its audit rows.

        A class change recomputes retention and the disposal date from the schedule and clears an earlier
        disposal approval. Disposal approval is refused for documents on hold, without a disposal date,
        kept permanently, or not classified. Refused documents are audited with the reason.
        """
        if not by.can_decide:
            raise PermissionError(f"role {by.role.value} cannot make review decisions")
        if action not in (Action.ACCEPT, Action.CHANGE, Action.APPROVE_DISPOSAL):
            raise ConfigError(f"'{action.value}' is not a class or disposal decision: use the holds page")
        target_class = schedule.get(to_class) if action is Action.CHANGE and to_class else None
        if action is Action.CHANGE and target_class is None:
            raise ConfigError("choose the class to change to")
        outcome = DecisionOutcome(uuid.uuid4().hex, action)
        ids = list(dict.fromkeys(document_ids))
        reason = reason.strip()
        now = _utcnow()
        today = local_date(now)
        d = t.documents
        with self._transaction("decide", write=True) as connection:
            held = hold_condition(self._active_holds(connection))
            for chunk in _chunks(ids):
                query = select(
                    d.c.id,
                    d.c.record_class,
                    d.c.class_confidence,
                    d.c.created_at,
                    d.c.modified_at,
                    d.c.birth_year,
                    case((_FLAGGED, True), else_=False).label("flagged"),
                    d.c.disposal_date,
                    d.c.retention_action,
                    d.c.retention_period,
                    case((held, True), else_=False).label("on_hold"),
                ).where(_LIVE, d.c.id.in_(chunk))
                rows = {row.id: row for row in connection.execute(query)}
                decisions: list[dict[str, Any]] = []
                audits: list[dict[str, Any]] = []
                for doc_id in chunk:
                    row = rows.get(doc_id)
                    refusal = self._refusal(action, row, target_class.id if target_class else None)
                    new_class = target_class.id if target_class else (row.record_class if row else None)
                    audit_row = {
                        "at": now,
                        "user_name": by.name,
                        "action": action.value,
                        "document_id": doc_id,
                        "target": None,
                        "from_value": row.record_class if row else None,
                        "to_value": new_class if action is not Action.APPROVE_DISPOSAL else "disposal approved",
                        "reason": reason,
                        "outcome": "refused" if refusal else "done",
                        "batch_id": outcome.batch_id,
                    }
                    if refusal:
                        audit_row["reason"] = f"{refusal}. {reason}".strip() if reason else refusal
                        audits.append(audit_row)
                        outcome.refused[refusal] += 1
                        continue
                    assert row is not None  # a missing row is always refused
                    if action is Action.CHANGE and target_class is not None and new_class != row.record_class:
                        # The retain stage's rule, with the birth year the catalogue kept: a "DOB + N years" class
                        # gets the same date a classifier would have given it.
                        retention = retain(
                            schedule,
                            target_class.id,
                            created=row.created_at,
                            modified=row.modified_at,
                            birth_year=row.birth_year,
                        )
                        explanation = f"Set by reviewer {by.name} on {today.isoformat()}"
                        connection.execute(
                            update(d)
                            .where(d.c.id == doc_id)
                            .values(
                                record_class=target_class.id,
                                class_confidence=1.0,
                                class_explanation=f"{explanation}: {reason}" if reason else explanation,
                                classifier=REVIEWER_CLASSIFIER,
                                # The classifier's verdict stays as it was (a class given to an unclassified
                                # document must not turn it into one the classifier "accepted").
                                needs_review=bool(row.flagged),
                                retention_period=retention.period,
                                retention_trigger=retention.trigger,
                                retention_action=retention.action,
                                retention_authority=retention.authority,
                                disposal_date=retention.disposal_date,
                            )
                        )
                    state: dict[str, Any] = {"reviewed_class": new_class, "reviewed_by": by.name, "reviewed_at": now}
                    if action is Action.APPROVE_DISPOSAL:
                        state.update(disposal_approved_by=by.name, disposal_approved_at=now)
                    elif new_class != row.record_class:
                        state.update(disposal_approved_by=None, disposal_approved_at=None)
                    self._upsert_state(connection, doc_id, state)
                    decisions.append(
                        {
                            "document_id": doc_id,
                            "user_name": by.name,
                            "at": now,
                            "action": action.value,
                            "from_class": row.record_class,
                            "to_class": new_class,
                            "from_confidence": row.class_confidence,
                            "reason": reason,
                            "approved": True,
                            "batch_id": outcome.batch_id,
                        }
                    )
                    audits.append(audit_row)
                    outcome.done += 1
                if decisions:
                    connection.execute(insert(t.review_decisions), decisions)
                self._audit(connection, audits)
        log.info(
            "review %s by %s: %d done, %d refused (batch %s)",
            action.value,
            by.role.value,
            outcome.done,
            outcome.refused_total,
            outcome.batch_id,
        )
        return outcome

    @staticmethod
    def _refusal(action: Action, row: Any, to_class: str | None) -> str | None:
        """Why a decision cannot apply to a document, or None when it can."""
        if row is None:
            return "not in the catalogue (deleted, failed or unknown)"
        if action is Action.ACCEPT and row.record_class is None:
            return "not classified: choose a class instead"
        if action is Action.APPROVE_DISPOSAL:
            if row.on_hold:
                return "on hold"
            if row.record_class is None:
                return "not classified"
            if row.retention_action == "retain" or row.retention_period == "permanent":
                return "kept permanently"
            if row.disposal_date is None:
                return "no disposal date"
        return None

    def decisions_for(self, document_id: str) -> list[dict[str, Any]]:
        """A document's decisions, newest first."""
        r = t.review_decisions
        query = select(r).where(r.c.document_id == document_id).order_by(r.c.at.desc(), r.c.id.desc())
        with self._transaction("read decisions") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def review_state(self, document_id: str) -> dict[str, Any] | None:
        """A document's review state (reviewed class, by whom, disposal approval), or None if never reviewed."""
        query = select(t.review_state).where(t.review_state.c.document_id == document_id)
        with self._transaction("read review state") as connection:
            row = connection.execute(query).mappings().one_or_none()
        return dict(row) if row else None

    def approved_labels(self) -> dict[str, str]:
        """Document id -> the class reviewers confirmed last, for retraining the classifier."""
        s = t.review_state
        query = select(s.c.document_id, s.c.reviewed_class).where(s.c.reviewed_class.is_not(None))
        with self._transaction("read approved labels") as connection:
            return {doc_id: record_class for doc_id, record_class in connection.execute(query)}

    def approved_for_disposal(self, as_of: dt.date | None = None) -> list[str]:
        """Ids approved for disposal, due by ``as_of`` (default today) and not on hold: what write-back may act on."""
        d, s = t.documents, t.review_state
        as_of = as_of or _today()
        with self._transaction("read disposals") as connection:
            held = hold_condition(self._active_holds(connection))
            query = (
                select(d.c.id)
                .select_from(self._joined())
                .where(_LIVE, s.c.disposal_approved_at.is_not(None), d.c.disposal_date <= as_of, ~held)
                .order_by(d.c.id)
            )
            return list(connection.execute(query).scalars())

    # -- audit ------------------------------------------------------------------------------------

    @staticmethod
    def _audit_query(audit_filter: AuditFilter) -> Any:
        a = t.audit
        query = select(a)
        if audit_filter.user_name:
            query = query.where(a.c.user_name == audit_filter.user_name)
        if audit_filter.action:
            query = query.where(a.c.action == audit_filter.action)
        if audit_filter.document_id:
            query = query.where(a.c.document_id == audit_filter.document_id)
        if audit_filter.since:
            query = query.where(a.c.at >= dt.datetime.combine(audit_filter.since, dt.time(), tzinfo=dt.UTC))
        if audit_filter.until:
            end = dt.datetime.combine(audit_filter.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
            query = query.where(a.c.at < end)
        return query

    def audit_page(
        self, audit_filter: AuditFilter, page: int = 1, page_size: int = 100
    ) -> tuple[list[AuditEntry], int]:
        """A page of the audit trail, newest first, and the total matching."""
        query = self._audit_query(audit_filter)
        with self._transaction("read audit") as connection:
            total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = connection.execute(
                query.order_by(t.audit.c.id.desc()).limit(page_size).offset((max(1, page) - 1) * page_size)
            )
            return [AuditEntry(**row._asdict()) for row in rows], total

    def iter_audit(self, audit_filter: AuditFilter) -> Iterator[AuditEntry]:
        """Every matching audit row, oldest first, in batches (for the CSV export)."""
        last_id = 0
        while True:
            query = self._audit_query(audit_filter).where(t.audit.c.id > last_id).order_by(t.audit.c.id)
            with self._transaction("read audit") as connection:
                batch = [AuditEntry(**row._asdict()) for row in connection.execute(query.limit(AUDIT_BATCH))]
            if not batch:
                return
            yield from batch
            last_id = batch[-1].id

    # -- dashboard --------------------------------------------------------------------------------

    def dashboard(self, top_sites: int = 15) -> Dashboard:
        """Counts for the dashboard: classes, sites, disposal due, confidence distribution, holds, reviews."""
        d, s = t.documents, t.review_state
        today = _today()
        in_90, in_year = today + dt.timedelta(days=90), today + dt.timedelta(days=365)
        with self._transaction("read dashboard") as connection:
            held = hold_condition(self._active_holds(connection))

            def count_where(condition: ColumnElement[bool]) -> Any:
                return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

            headline = select(
                func.count(),
                func.count(d.c.record_class),
                count_where(s.c.reviewed_class.is_not(None)),
                count_where(held),
                count_where(s.c.disposal_approved_at.is_not(None)),
                count_where(and_(d.c.disposal_date < today, ~held)),
                count_where(and_(d.c.disposal_date >= today, d.c.disposal_date <= in_90, ~held)),
                count_where(and_(d.c.disposal_date >= today, d.c.disposal_date <= in_year, ~held)),
                count_where(d.c.class_confidence.is_(None)),
                count_where(and_(s.c.reviewed_class.is_(None), _FLAGGED)),
                count_where(and_(s.c.reviewed_class.is_(None), ~_FLAGGED)),
                *[
                    count_where(
                        and_(
                            d.c.class_confidence >= bucket / CONFIDENCE_BUCKETS,
                            d.c.class_confidence < (bucket + 1) / CONFIDENCE_BUCKETS
                            if bucket < CONFIDENCE_BUCKETS - 1
                            else d.c.class_confidence <= 1.0,
                        )
                    )
                    for bucket in range(CONFIDENCE_BUCKETS)
                ],
            ).select_from(self._joined())
            values = [int(value) for value in connection.execute(headline.where(_LIVE)).one()]
            documents, classified, reviewed, on_hold, approved, overdue, due_90, due_year, unscored = values[:9]
            flagged, accepted = values[9:11]
            confidence = values[11:]
            accepted_precision = self._accepted_precision(connection)
            failed = connection.execute(
                select(func.count()).where(t.documents.c.deleted.is_(False), d.c.status == DocumentStatus.FAILED.value)
            ).scalar_one()
            classes = [
                (record_class, count)
                for record_class, count in connection.execute(
                    select(d.c.record_class, func.count()).where(_LIVE).group_by(d.c.record_class)
                )
            ]
            site_counts: Counter[str] = Counter()
            for path, count in connection.execute(select(d.c.path, func.count()).where(_LIVE).group_by(d.c.path)):
                site_counts[(path or "").strip("/").split("/")[0] or "(root)"] += count
            month_counts: Counter[str] = Counter()
            due_query = (
                select(d.c.disposal_date, func.count())
                .select_from(self._joined())
                .where(
                    _LIVE, d.c.disposal_date >= today.replace(day=1), d.c.disposal_date < _add_months(today, 12), ~held
                )
                .group_by(d.c.disposal_date)
            )
            for when, count in connection.execute(due_query):
                month_counts[when.strftime("%Y-%m")] += count
        months = [_add_months(today, offset).strftime("%Y-%m") for offset in range(12)]
        return Dashboard(
            documents=documents,
            classified=classified,
            reviewed=reviewed,
            to_review=documents - reviewed,
            flagged=flagged,
            accepted=accepted,
            accepted_precision=accepted_precision,
            on_hold=on_hold,
            disposal_approved=approved,
            overdue=overdue,
            due_90_days=due_90,
            due_year=due_year,
            failed=failed,
            classes=sorted(classes, key=lambda item: (-item[1], item[0] or "")),
            sites=site_counts.most_common(top_sites),
            disposal_by_month=[(month, month_counts.get(month, 0)) for month in months],
            confidence=confidence,
            unscored=unscored,
        )

    @staticmethod
    def _accepted_precision(connection: Connection) -> AcceptedPrecision:
        """Among accepted documents a reviewer has decided on, how many kept the classifier's class.

        The classifier's class is the first decision's ``from_class`` (what the document had before anyone
        touched it); the reviewers' class is the latest one (``review_state.reviewed_class``).
        """
        d, r, s = t.documents, t.review_decisions, t.review_state
        first = (
            select(r.c.document_id, func.min(r.c.id).label("first_id"))
            .where(r.c.approved.is_(True), r.c.to_class.is_not(None))
            .group_by(r.c.document_id)
            .subquery()
        )
        query = (
            select(
                func.count(),
                func.coalesce(func.sum(case((r.c.from_class == s.c.reviewed_class, 1), else_=0)), 0),
            )
            .select_from(
                first.join(r, r.c.id == first.c.first_id)
                .join(d, d.c.id == first.c.document_id)
                .join(s, s.c.document_id == first.c.document_id)
            )
            .where(_LIVE, ~_FLAGGED, s.c.reviewed_class.is_not(None))
        )
        checked, right = connection.execute(query).one()
        return AcceptedPrecision(checked=int(checked), right=int(right))

    def signal_counts(self) -> dict[str, int]:
        """Live documents showing each governance signal, as last computed into ``document_signals``."""
        g = t.document_signals
        columns = {
            SignalFilter.DUPLICATE.value: g.c.duplicate_group,
            SignalFilter.NEAR_DUPLICATE.value: g.c.near_group,
            SignalFilter.WRONG_PLACE.value: g.c.wrong_place,
            SignalFilter.STALE.value: g.c.stale_years,
        }
        query = (
            select(*(func.count(column) for column in columns.values()))
            .select_from(g.join(t.documents, t.documents.c.id == g.c.document_id))
            .where(_LIVE)
        )
        with self._transaction("read signal counts") as connection:
            values = connection.execute(query).one()
        return {name: int(value) for name, value in zip(columns, values, strict=True)}

    def document_signals(
        self, document_id: str
    ) -> tuple[DocumentSignals, list[RelatedDocument], list[RelatedDocument]]:
        """One document's signals, its exact duplicates and its near-duplicates (other live documents)."""
        d, g = t.documents, t.document_signals
        with self._transaction("read document signals") as connection:
            row = connection.execute(select(*_SIGNAL_COLUMNS).where(g.c.document_id == document_id)).one_or_none()
            if row is None:
                return NO_SIGNALS, [], []
            signals = DocumentSignals.from_row(row)

            def members(column: Any, key: str | None) -> list[RelatedDocument]:
                if key is None:
                    return []
                query = (
                    select(d.c.id, d.c.name, d.c.path, d.c.record_class)
                    .select_from(g.join(d, d.c.id == g.c.document_id))
                    .where(column == key, d.c.id != document_id, d.c.deleted.is_(False))
                    .order_by(d.c.path, d.c.name, d.c.id)
                    .limit(RELATED_LIMIT)
                )
                return [RelatedDocument(*found) for found in connection.execute(query)]

            return (
                signals,
                members(g.c.duplicate_group, signals.duplicate_group),
                members(g.c.near_group, signals.near_group),
            )

    def class_evidence(self, document_id: str) -> list[ClassEvidence]:
        """The passages that decided a document's class, strongest first: where they are, never their words."""
        e = t.class_evidence
        query = select(e).where(e.c.document_id == document_id).order_by(e.c.rank)
        with self._transaction("read class evidence") as connection:
            return [
                ClassEvidence(
                    where=row.location,
                    page=row.page,
                    start=row.start,
                    end=row.end,
                    record_class=row.record_class,
                    feature=row.feature,
                    weight=row.weight,
                )
                for row in connection.execute(query)
            ]

    def reviewed_examples(self, record_class: str, *, exclude: str = "", limit: int = 5) -> list[ReviewedExample]:
        """The council's own documents reviewers confirmed in ``record_class``, latest first."""
        d, s = t.documents, t.review_state
        query = (
            select(d.c.id, d.c.name, d.c.path, s.c.reviewed_by, s.c.reviewed_at)
            .select_from(d.join(s, s.c.document_id == d.c.id))
            .where(_LIVE, s.c.reviewed_class == record_class, d.c.id != exclude)
            .order_by(s.c.reviewed_at.desc(), d.c.id)
            .limit(limit)
        )
        with self._transaction("read reviewed examples") as connection:
            return [ReviewedExample(*row) for row in connection.execute(query)]

    def folders(self, limit: int = 500) -> list[str]:
        """Folder paths holding live documents, for the queue's folder picker."""
        query = select(t.documents.c.path).where(_LIVE).distinct().order_by(t.documents.c.path).limit(limit)
        with self._transaction("read folders") as connection:
            return list(connection.execute(query).scalars())

    def delete_user(self, name: str, *, by: str) -> None:
        """Remove a local account (its past decisions stay in the audit trail under its name)."""
        now = _utcnow()
        with self._transaction("delete user", write=True) as connection:
            name = self._canonical_name(connection, name) or name
            result = connection.execute(delete(t.users).where(t.users.c.name == name))
            if result.rowcount == 0:
                raise ConfigError(f"no user '{name}'")
            self._audit(connection, [self._account_audit(by, "user_delete", name, before=None, after=None, now=now)])
