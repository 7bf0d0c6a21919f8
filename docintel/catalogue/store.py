"""The catalogue store: where every document's results land, in SQLite (embedded) or PostgreSQL (at scale).

:func:`open_catalogue` creates the engine and brings the schema to the newest Alembic revision. A
:class:`CatalogueStore` saves whole :class:`~docintel.models.DocumentRecord` trees (one transaction per
tree, idempotent), answers skip-unchanged lookups, streams documents for export and runs the queries the
review report needs. SQLAlchemy and driver errors become :class:`~docintel.errors.CatalogueError` here,
with a message that names neither the password nor the SQL parameters.

Personal data never reaches the database: entity and PII rows carry only type, position, score and the
keyed ``value_hash`` the enrich stage computed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import struct
import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from docintel import __version__
from docintel.catalogue import tables as t
from docintel.catalogue.contracts import contract_row
from docintel.errors import CatalogueError, ConfigError, safe_summary
from docintel.models import DocumentRecord, DocumentStatus, StageRun
from docintel.settings import get_settings

log = logging.getLogger(__name__)

# SQLite waits this long for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Documents fetched per query when streaming the catalogue; keeps memory flat on millions of rows.
ITER_BATCH_SIZE = 500
# Rows per query when reading the columns the governance signals need (small rows: no breakdowns).
SIGNAL_BATCH_SIZE = 5000
# Ids per IN (...) clause: well under SQLite's bound-parameter limit and PostgreSQL's planner sweet spot.
ID_CHUNK_SIZE = 500
# Any constant works; every docintel process takes the same advisory lock while migrating PostgreSQL.
_MIGRATION_LOCK_KEY = 0x646F63696E74656C  # "docintel"
_MIGRATIONS_DIR = "migrations"
# Connection option asking the SQLite begin hook for a write (IMMEDIATE) transaction.
_WRITE_OPTION = "docintel_write"

# Alembic keeps the running migration context in module globals: one upgrade at a time per process.
_UPGRADE_LOCK = threading.Lock()

# Report queries count documents still at their source.
_LIVE = t.documents.c.deleted.is_(False)

RUN_RUNNING = "running"
RUN_FINISHED = "finished"
# A run whose process died (kill -9, out of memory, power loss) before it could record its end.
RUN_INTERRUPTED = "interrupted"


def normalise_url(url: str) -> URL:
    """Parse a catalogue URL, sending every PostgreSQL spelling to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError("catalogue URL is not a valid database URL") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg"):
            raise ConfigError(f"catalogue URL driver {parsed.drivername!r}: use postgresql:// (psycopg 3)")
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise ConfigError(f"catalogue URL scheme {parsed.drivername!r} is not supported: use sqlite:/// or postgresql://")


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations, usable from any folder or install."""
    config = Config()
    location = str(resources.files("docintel.catalogue").joinpath(_MIGRATIONS_DIR))
    # Alembic options go through configparser interpolation, where a bare % in a path is an error.
    config.set_main_option("script_location", location.replace("%", "%%"))
    return config


def open_catalogue(url: str, *, upgrade: bool | None = None) -> CatalogueStore:
    """Open (creating if needed) the catalogue at ``url`` and upgrade its schema (see :meth:`CatalogueStore.open`)."""
    return CatalogueStore.open(url, upgrade=upgrade)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _first_line(text_: str) -> str:
    return text_.strip().splitlines()[0] if text_.strip() else ""


def _describe(exc: BaseException) -> str:
    """A short, parameter-free description of a database error."""
    # str(DBAPIError) appends the SQL and its bound parameters (file names, hashes): keep the driver's first line.
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {_first_line(str(exc.orig))}"
    return f"{type(exc).__name__}: {_first_line(str(exc))}"


def _chunks(items: Sequence[str], size: int = ID_CHUNK_SIZE) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class OperationalCounts:
    """What operators watch (the metrics endpoint): live documents by status, failures by error class, stage time."""

    documents_by_status: dict[str, int]
    failed_by_error: dict[str, int]
    stage_seconds: dict[str, tuple[int, float]]  # stage -> (runs, seconds in all)


@dataclass(frozen=True)
class CatalogueSummary:
    """Headline counts over the live (not deleted) documents."""

    documents: int
    top_level: int
    children: int
    ok: int
    failed: int
    pending: int
    pages: int
    ocr_pages: int
    ocr_documents: int
    classified: int
    pii_findings: int
    documents_with_pii: int


@dataclass(frozen=True)
class ClassCount:
    """How many documents a retention class holds (``record_class`` None: not classified)."""

    record_class: str | None
    documents: int


@dataclass(frozen=True)
class FolderSummary:
    """A folder, its document count and how its documents split across retention classes."""

    path: str
    documents: int
    classes: dict[str | None, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PiiHotspot:
    """A folder or document with many PII findings; counts by type, never values."""

    path: str
    findings: int
    by_type: dict[str, int]
    document_id: str | None = None  # None for a folder hotspot
    name: str | None = None


@dataclass(frozen=True)
class FailedDocument:
    """One failed document and its safe error message."""

    document_id: str
    path: str
    name: str
    message: str


@dataclass(frozen=True)
class FailureGroup:
    """Failed documents sharing an error class; ``documents`` may be cut short, ``count`` is the total."""

    error_type: str
    count: int
    documents: list[FailedDocument]


@dataclass(frozen=True)
class LowConfidence:
    """A classification the classifier was least sure of, with its explanation."""

    document_id: str
    path: str
    name: str
    record_class: str
    confidence: float
    explanation: str
    classifier: str


def _document_row(
    record: DocumentRecord, parent_id: str | None, run_id: str | None, now: dt.datetime
) -> dict[str, Any]:
    prov = record.provenance
    classification = record.classification
    retention = classification.retention if classification else None
    text_chars = len(record.text) if record.text else sum(len(page.text) for page in record.pages)
    return {
        "id": record.id,
        "parent_id": parent_id,
        "source": prov.source,
        "locator": prov.locator,
        "source_locator": prov.source_locator,
        "name": prov.name,
        "path": prov.path,
        "drive_id": prov.drive_id,
        "item_id": prov.item_id,
        "etag": prov.etag,
        "ctag": prov.ctag,
        "web_url": prov.web_url,
        "size": record.size if record.size is not None else prov.size,
        "sha256": record.sha256,
        "mime_type": record.mime_type,
        "file_type": record.file_type,
        "status": record.status.value,
        "error_type": record.error.type if record.error else None,
        "error_message": safe_summary(record.error.message) if record.error else None,
        "title": record.title,
        "created_at": prov.created_at,
        "modified_at": prov.modified_at,
        "first_seen_at": now,
        "processed_at": now,
        "run_id": run_id,
        "page_count": len(record.pages),
        "text_chars": text_chars,
        "record_class": classification.record_class if classification else None,
        "class_confidence": classification.confidence if classification else None,
        "class_explanation": classification.explanation if classification else None,
        "classifier": classification.classifier if classification else None,
        "retention_period": retention.period if retention else None,
        "retention_trigger": retention.trigger if retention else None,
        "retention_action": retention.action if retention else None,
        "retention_authority": retention.authority if retention else None,
        "disposal_date": retention.disposal_date if retention else None,
        "deleted": record.status == DocumentStatus.DELETED,
        "depth": record.depth,
        "minhash": _signature_bytes(record.minhash),
        "needs_review": classification.needs_review if classification else None,
        "birth_year": record.birth_year,
    }


def _process_alive(pid: int | None) -> bool:
    """Whether a process with this id runs on this host (one we may not signal still counts as alive)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signature_bytes(signature: Sequence[int] | None) -> bytes | None:
    # 64 little-endian uint32 (classifiers.signals.signature_bytes), packed here so the store needs no numpy.
    return struct.pack(f"<{len(signature)}I", *signature) if signature else None


def _stage_run_row(doc_id: str, run_id: str | None, stage_run: StageRun) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "run_id": run_id,
        "stage": stage_run.stage,
        "component": stage_run.component,
        "version": stage_run.version,
        "started_at": stage_run.started_at,
        "seconds": stage_run.seconds,
        "status": stage_run.status.value,
        "error_type": stage_run.error.type if stage_run.error else None,
        "error_message": safe_summary(stage_run.error.message) if stage_run.error else None,
    }


def _child_rows(record: DocumentRecord, run_id: str | None) -> dict[Table, list[dict[str, Any]]]:
    """Rows for the per-document tables; only hashes of entity and PII values, never their text."""
    doc_id = record.id

    def page_of(page: int | None, start: int) -> int | None:
        return page if page is not None else record.page_at(start)

    return {
        t.pages: [
            {
                "document_id": doc_id,
                "number": page.number,
                "method": page.method.value,
                "ocr_confidence": page.ocr_confidence,
                "chars": len(page.text),
            }
            for page in record.pages
        ],
        t.entities: [
            {
                "document_id": doc_id,
                "label": entity.label,
                "page": page_of(entity.page, entity.start),
                "start": entity.start,
                "end": entity.end,
                "value_hash": entity.value_hash,
            }
            for entity in record.entities
        ],
        t.pii_findings: [
            {
                "document_id": doc_id,
                "entity_type": finding.entity_type,
                "page": page_of(finding.page, finding.start) if finding.field == "text" else None,
                "start": finding.start,
                "end": finding.end,
                "score": finding.score,
                "recognizer": finding.recognizer,
                "value_hash": finding.value_hash,
                "field": None if finding.field == "text" else finding.field,
            }
            for finding in record.pii
        ],
        t.stage_runs: [_stage_run_row(doc_id, run_id, stage_run) for stage_run in record.stage_runs],
        # Masked text only (see DocumentRecord.kept_text); a save without it removes what an earlier one kept.
        t.document_texts: [{"document_id": doc_id, "text": record.kept_text}] if record.kept_text else [],
        t.class_evidence: [
            {
                "document_id": doc_id,
                "rank": rank,
                "location": evidence.where,
                "page": evidence.page,
                "start": evidence.start,
                "end": evidence.end,
                "record_class": evidence.record_class,
                "feature": evidence.feature,
                "weight": evidence.weight,
            }
            for rank, evidence in enumerate(record.classification.evidence if record.classification else [])
        ],
        t.contracts: [row] if (row := contract_row(record)) is not None else [],
    }


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url)
    # pre_ping: a long-lived worker's pooled connection may have been cut by a failover or idle timeout.
    return create_engine(url, pool_pre_ping=True)


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in database
    if in_memory:
        # One shared connection, or each pooled connection would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogueError(f"cannot create the catalogue folder {folder}: {exc.strerror}") from exc
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from pysqlite (it skips it before DDL) so we issue it ourselves, below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                # WAL: readers (reports, exports) never block the writer; NORMAL sync is durable enough under WAL.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the lock up front; a deferred one that later writes fails at once with
        # SQLITE_BUSY when another writer got in first, without honouring busy_timeout.
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _dispose_after_fork(engine_ref: weakref.ref[Engine]) -> None:
    engine = engine_ref()
    if engine is not None:
        # A forked child must not use the parent's pooled sockets; close=False leaves the parent's intact.
        engine.dispose(close=False)


class CatalogueStore:
    """Reads and writes the catalogue; safe to share between threads, reopen or fork-safe across processes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._safe_url = engine.url.render_as_string(hide_password=True)
        engine_ref = weakref.ref(engine)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _dispose_after_fork(engine_ref))

    @classmethod
    def open(cls, url: str, *, upgrade: bool | None = None) -> CatalogueStore:
        """Create the engine for ``url`` and upgrade the schema to Alembic head (or, with ``upgrade=False``, check it).

        ``upgrade=None`` follows the ``catalogue.auto_upgrade`` setting: on for the embedded catalogue; off in a
        deployment where `docintel migrate` runs once before serve and the workers start.
        """
        parsed = normalise_url(url)
        if upgrade is None:
            upgrade = get_settings().catalogue.auto_upgrade
        try:
            engine = _create_engine(parsed)
        except (NoSuchModuleError, ArgumentError) as exc:
            raise ConfigError(f"catalogue URL cannot be used: {_describe(exc)}") from exc
        store = cls(engine)
        try:
            if upgrade:
                store.upgrade_schema()
            else:
                store.check_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def dialect(self) -> str:
        """The database backend: "sqlite" or "postgresql"."""
        return self._dialect

    @property
    def url(self) -> str:
        """The catalogue URL with any password masked, fit for logs."""
        return self._safe_url

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tools that need SQL the store does not offer."""
        return self._engine

    def close(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> CatalogueStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CatalogueStore({self._safe_url!r})"

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            log.warning("catalogue %s failed on %s: %s", action, self._safe_url, type(exc).__name__)
            raise CatalogueError(f"catalogue {action} failed on {self._safe_url}: {_describe(exc)}") from exc

    @contextmanager
    def transaction(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        """A connection in one transaction; database errors become CatalogueError naming ``action``.

        ``write=True`` takes SQLite's write lock at BEGIN, so concurrent writers queue instead of failing.
        Feature stores (review, crawl, API keys, invoice jobs) run their queries through this.
        """
        with self._translate(action), self._engine.connect() as connection:
            if write:
                connection.execution_options(**{_WRITE_OPTION: True})
            with connection.begin():
                yield connection

    def _insert(self, table: Table) -> Any:
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def upgrade_schema(self) -> None:
        """Bring the schema to the newest Alembic revision (a no-op when it is already there)."""
        config = alembic_config()
        try:
            with _UPGRADE_LOCK, self.transaction("schema upgrade", write=True) as connection:
                if self._dialect == "postgresql":
                    # Workers starting together must not race to create the same tables.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except CommandError as exc:
            # Typically a catalogue migrated by a newer docintel than this one.
            raise CatalogueError(f"catalogue schema at {self._safe_url} cannot be upgraded: {exc}") from exc

    def check_schema(self) -> None:
        """Refuse a catalogue whose schema is not at this docintel's newest revision (when migrations run apart)."""
        with self.transaction("read schema revision") as connection:
            has_version = inspect(connection).has_table("alembic_version")
        current = self.schema_revision() if has_version else None
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        if current != head:
            raise CatalogueError(
                f"catalogue schema at {self._safe_url} is at revision {current or 'none'}, this docintel needs "
                f"{head}: run `docintel migrate` first (catalogue.auto_upgrade is off)"
            )

    def schema_revision(self) -> str | None:
        """The Alembic revision the catalogue is at."""
        with self.transaction("read schema revision") as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()

    # -- the catalogue's own settings ----------------------------------------------------------------

    def setting(self, name: str) -> str | None:
        """A setting the catalogue carries about itself (the PII key's fingerprint), or None."""
        query = select(t.catalogue_settings.c.value).where(t.catalogue_settings.c.name == name)
        with self.transaction("read catalogue setting") as connection:
            value = connection.execute(query).scalar_one_or_none()
        return None if value is None else str(value)

    def claim_setting(self, name: str, value: str) -> str:
        """Store ``value`` under ``name`` unless a value is there already; returns the stored value.

        Insert-if-absent in one statement, so two processes starting together on a new catalogue both
        read back the one value that won.
        """
        statement = (
            self._insert(t.catalogue_settings)
            .values(name=name, value=value, set_at=_utcnow())
            .on_conflict_do_nothing(index_elements=[t.catalogue_settings.c.name])
        )
        with self.transaction("store catalogue setting", write=True) as connection:
            connection.execute(statement)
            stored = connection.execute(
                select(t.catalogue_settings.c.value).where(t.catalogue_settings.c.name == name)
            ).scalar_one()
        return str(stored)

    def record_audit(
        self, user_name: str, action: str, *, target: str | None = None, to_value: str | None = None, reason: str = ""
    ) -> None:
        """One row of the audit trail for an action outside the review pages (searches, approvals)."""
        row = {
            "at": _utcnow(),
            "user_name": user_name[:128],
            "action": action,
            "document_id": None,
            "target": target,
            "from_value": None,
            "to_value": to_value,
            "reason": reason,
            "outcome": "done",
            "batch_id": None,
        }
        with self.transaction(f"audit {action}", write=True) as connection:
            connection.execute(insert(t.audit).values(row))

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, source: str) -> str:
        """Record the start of a run over ``source`` and return its id (runs left by dead processes end first)."""
        self.interrupt_dead_runs()
        run_id = uuid.uuid4().hex
        row = {
            "id": run_id,
            "source": source,
            "started_at": _utcnow(),
            "status": RUN_RUNNING,
            "counts": {},
            "version": __version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        with self.transaction("start run", write=True) as connection:
            connection.execute(insert(t.runs).values(row))
        log.info("run %s started over %s", run_id, source)
        return run_id

    def finish_run(self, run_id: str, counts: Mapping[str, int], status: str = RUN_FINISHED) -> None:
        """Record the end of a run with its outcome counts (ok / failed / skipped)."""
        values = {"finished_at": _utcnow(), "status": status, "counts": dict(counts)}
        with self.transaction("finish run", write=True) as connection:
            result = connection.execute(update(t.runs).where(t.runs.c.id == run_id).values(values))
            if result.rowcount == 0:
                raise CatalogueError(f"no run with id {run_id!r} in the catalogue")
        log.info("run %s %s: %s", run_id, status, dict(counts))

    def interrupt_dead_runs(self) -> list[str]:
        """Mark ``interrupted`` the runs left ``running`` by a process of this host that is gone; their ids.

        Only this host's processes can be checked; a run started on another machine is left to that machine's
        next start. The counts are what the run had stored when it died.
        """
        host, me = socket.gethostname(), os.getpid()
        query = select(t.runs.c.id, t.runs.c.pid).where(t.runs.c.status == RUN_RUNNING, t.runs.c.host == host)
        with self.transaction("read running runs") as connection:
            dead = [row.id for row in connection.execute(query) if row.pid == me or not _process_alive(row.pid)]
        for run_id in dead:
            counts_query = (
                select(t.documents.c.status, func.count())
                .where(t.documents.c.run_id == run_id)
                .group_by(t.documents.c.status)
            )
            with self.transaction("interrupt run", write=True) as connection:
                counts = {str(status): int(count) for status, count in connection.execute(counts_query)}
                counts["processed"] = sum(counts.values())
                connection.execute(
                    update(t.runs)
                    .where(t.runs.c.id == run_id, t.runs.c.status == RUN_RUNNING)
                    .values(status=RUN_INTERRUPTED, finished_at=_utcnow(), counts=counts)
                )
            log.warning("run %s was left running by a process that died: marked interrupted", run_id)
        return dead

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """A run as a dict, or None."""
        with self.transaction("read run") as connection:
            row = connection.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().one_or_none()
        return dict(row) if row else None

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        query = select(t.runs).order_by(t.runs.c.started_at.desc()).limit(limit)
        with self.transaction("read runs") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    # -- documents --------------------------------------------------------------------------------

    def save(self, record: DocumentRecord, run_id: str | None = None) -> None:
        """Store a document and its children in one transaction, replacing what was stored for them before.

        Upserts each document row and replaces its pages, entities, PII findings and stage runs; children
        stored earlier that are no longer among ``record.children`` are removed. Saving the same record
        twice (or from two workers at once) leaves one copy.
        """
        now = _utcnow()
        with self.transaction("save", write=True) as connection:
            self._save_tree(connection, record, record.provenance.parent_id, run_id, now)
        log.debug("saved document %s (%d children)", record.id, len(record.children))

    def _save_tree(
        self,
        connection: Connection,
        record: DocumentRecord,
        parent_id: str | None,
        run_id: str | None,
        now: dt.datetime,
    ) -> None:
        row = _document_row(record, parent_id, run_id, now)
        statement = self._insert(t.documents).values(row)
        # Upsert rather than select-then-write: two workers saving the same id at once both succeed.
        statement = statement.on_conflict_do_update(
            index_elements=[t.documents.c.id],
            set_={name: statement.excluded[name] for name in row if name not in ("id", "first_seen_at")},
        )
        # The upsert locks the document row first, so concurrent saves of one tree queue up here in order.
        connection.execute(statement)
        for table, rows in _child_rows(record, run_id).items():
            connection.execute(delete(table).where(table.c.document_id == record.id))
            if rows:
                connection.execute(insert(table), rows)

        kept = {child.id for child in record.children}
        stored = set(connection.execute(select(t.documents.c.id).where(t.documents.c.parent_id == record.id)).scalars())
        stale = sorted(stored - kept)
        if stale:
            self._delete_subtrees(connection, stale)
        for child in record.children:
            self._save_tree(connection, child, child.provenance.parent_id or record.id, run_id, now)

    def _descendants(self, connection: Connection, ids: Sequence[str]) -> list[str]:
        """``ids`` and every document below them, breadth first."""
        found: list[str] = list(dict.fromkeys(ids))
        seen = set(found)
        level = found
        while level:
            below: list[str] = []
            for chunk in _chunks(level):
                query = select(t.documents.c.id).where(t.documents.c.parent_id.in_(chunk))
                below.extend(doc_id for doc_id in connection.execute(query).scalars() if doc_id not in seen)
            seen.update(below)
            found.extend(below)
            level = below
        return found

    def _delete_subtrees(self, connection: Connection, ids: Sequence[str]) -> None:
        for chunk in _chunks(self._descendants(connection, ids)):
            for table in t.DOCUMENT_CHILD_TABLES:
                connection.execute(delete(table).where(table.c.document_id.in_(chunk)))
            connection.execute(delete(t.documents).where(t.documents.c.id.in_(chunk)))

    def known_hashes(self, ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
        """For the ids already catalogued: id -> (sha256, status), to skip unchanged documents."""
        found: dict[str, tuple[str | None, str]] = {}
        unique = list(dict.fromkeys(ids))
        with self.transaction("read hashes") as connection:
            for chunk in _chunks(unique):
                query = select(t.documents.c.id, t.documents.c.sha256, t.documents.c.status).where(
                    t.documents.c.id.in_(chunk)
                )
                for doc_id, sha256, status in connection.execute(query):
                    found[doc_id] = (sha256, status)
        return found

    def reviewed_classes(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None, dt.datetime | None]]:
        """For documents a reviewer has classified: id -> (class, reviewer, when), so a rescan keeps the decision."""
        found: dict[str, tuple[str, str | None, dt.datetime | None]] = {}
        with self.transaction("read reviewed classes") as connection:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                query = select(
                    t.review_state.c.document_id,
                    t.review_state.c.reviewed_class,
                    t.review_state.c.reviewed_by,
                    t.review_state.c.reviewed_at,
                ).where(t.review_state.c.document_id.in_(chunk), t.review_state.c.reviewed_class.is_not(None))
                for doc_id, reviewed_class, reviewed_by, reviewed_at in connection.execute(query):
                    found[doc_id] = (reviewed_class, reviewed_by, reviewed_at)
        return found

    def mark_deleted(self, ids: Sequence[str]) -> int:
        """Flag documents (and everything inside them) as deleted at the source; returns rows flagged."""
        if not ids:
            return 0
        flagged = 0
        with self.transaction("mark deleted", write=True) as connection:
            for chunk in _chunks(self._descendants(connection, ids)):
                result = connection.execute(
                    update(t.documents)
                    .where(t.documents.c.id.in_(chunk))
                    .values(deleted=True, status=DocumentStatus.DELETED.value)
                )
                flagged += result.rowcount
        log.info("marked %d documents deleted", flagged)
        return flagged

    def _breakdowns(self, connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
        """Per document: page methods, entity labels and PII types, each with its count."""
        result: dict[str, dict[str, dict[str, int]]] = {
            doc_id: {"page_methods": {}, "entity_counts": {}, "pii_counts": {}} for doc_id in ids
        }
        breakdowns = (
            ("page_methods", t.pages, t.pages.c.method),
            ("entity_counts", t.entities, t.entities.c.label),
            ("pii_counts", t.pii_findings, t.pii_findings.c.entity_type),
        )
        for chunk in _chunks(ids):
            for key, table, column in breakdowns:
                query = (
                    select(table.c.document_id, column, func.count())
                    .where(table.c.document_id.in_(chunk))
                    .group_by(table.c.document_id, column)
                    .order_by(table.c.document_id, column)
                )
                for doc_id, value, count in connection.execute(query):
                    result[doc_id][key][value] = count
        return result

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """One document's row with its pages, stage runs, child ids and counts by type; None if unknown."""
        with self.transaction("read document") as connection:
            row = connection.execute(select(t.documents).where(t.documents.c.id == doc_id)).mappings().one_or_none()
            if row is None:
                return None
            document = dict(row)
            document.update(self._breakdowns(connection, [doc_id])[doc_id])
            pages_query = (
                select(t.pages.c.number, t.pages.c.method, t.pages.c.ocr_confidence, t.pages.c.chars)
                .where(t.pages.c.document_id == doc_id)
                .order_by(t.pages.c.number)
            )
            document["pages"] = [dict(page) for page in connection.execute(pages_query).mappings()]
            runs_query = select(t.stage_runs).where(t.stage_runs.c.document_id == doc_id).order_by(t.stage_runs.c.id)
            document["stage_runs"] = [
                {key: value for key, value in stage_run.items() if key not in ("id", "document_id")}
                for stage_run in connection.execute(runs_query).mappings()
            ]
            children_query = (
                select(t.documents.c.id).where(t.documents.c.parent_id == doc_id).order_by(t.documents.c.id)
            )
            document["children"] = list(connection.execute(children_query).scalars())
        return document

    def iter_documents(self, include_children: bool = True, include_deleted: bool = True) -> Iterator[dict[str, Any]]:
        """Every document row, in id order, with ``page_methods``, ``entity_counts`` and ``pii_counts`` added.

        Streams in batches (keyset pagination, a short read transaction each), so it suits exports of
        millions of rows and never holds a lock for the whole walk.
        """
        last_id: str | None = None
        while True:
            query = select(t.documents).order_by(t.documents.c.id).limit(ITER_BATCH_SIZE)
            if not include_children:
                query = query.where(t.documents.c.parent_id.is_(None))
            if not include_deleted:
                query = query.where(t.documents.c.deleted.is_(False))
            if last_id is not None:
                query = query.where(t.documents.c.id > last_id)
            with self.transaction("read documents") as connection:
                rows = [dict(row) for row in connection.execute(query).mappings()]
                if not rows:
                    return
                breakdowns = self._breakdowns(connection, [row["id"] for row in rows])
            for row in rows:
                row.update(breakdowns[row["id"]])
                yield row
            last_id = rows[-1]["id"]

    def iter_keyset(
        self, query: Select[Any], key: ColumnElement[Any], what: str, batch: int = ITER_BATCH_SIZE
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``query`` as dicts in ``key`` order, read ``batch`` at a time (keyset pagination).

        Each batch is one short read transaction named ``what``, so a walk over millions of rows never holds a
        lock for its whole length; ``key`` must be unique and its column label is read back from each batch.
        """
        last: Any = None
        while True:
            page = query.order_by(key).limit(batch)
            if last is not None:
                page = page.where(key > last)
            with self.transaction(what) as connection:
                rows = [dict(row) for row in connection.execute(page).mappings()]
            if not rows:
                return
            yield from rows
            last = rows[-1][key.key]

    def iter_unreviewed(self) -> Iterator[dict[str, Any]]:
        """Live, read documents no reviewer has classified, in id order, each with its kept (masked) text or None.

        What re-classification walks: a reviewer's class outranks any classifier, so reviewed documents are left out.
        """
        d, s = t.documents, t.review_state
        query = (
            select(d, t.document_texts.c.text.label("kept_text"))
            .select_from(
                d.outerjoin(s, s.c.document_id == d.c.id).outerjoin(
                    t.document_texts, t.document_texts.c.document_id == d.c.id
                )
            )
            .where(_LIVE, d.c.status == DocumentStatus.OK.value, s.c.reviewed_class.is_(None))
        )
        return self.iter_keyset(query, d.c.id, "read unreviewed documents")

    def update_classification(self, record: DocumentRecord) -> None:
        """Replace a catalogued document's class, retention, review flag and evidence, leaving the rest as it was."""
        classification = record.classification
        retention = classification.retention if classification else None
        values = {
            "record_class": classification.record_class if classification else None,
            "class_confidence": classification.confidence if classification else None,
            "class_explanation": classification.explanation if classification else None,
            "classifier": classification.classifier if classification else None,
            "needs_review": classification.needs_review if classification else None,
            "retention_period": retention.period if retention else None,
            "retention_trigger": retention.trigger if retention else None,
            "retention_action": retention.action if retention else None,
            "retention_authority": retention.authority if retention else None,
            "disposal_date": retention.disposal_date if retention else None,
            "birth_year": record.birth_year,
        }
        evidence_rows = _child_rows(record, None)[t.class_evidence]
        with self.transaction("update classification", write=True) as connection:
            connection.execute(update(t.documents).where(t.documents.c.id == record.id).values(values))
            connection.execute(delete(t.class_evidence).where(t.class_evidence.c.document_id == record.id))
            if evidence_rows:
                connection.execute(insert(t.class_evidence), evidence_rows)

    def iter_signal_rows(self, prefix: str = "") -> Iterator[dict[str, Any]]:
        """Live documents' columns the governance signals read (no text), in id order, streamed in batches.

        ``prefix``: only documents in that folder or below it. Rows carry ``id``, ``parent_id``, ``name``,
        ``path``, ``sha256``, ``record_class``, ``modified_at``, ``status`` and ``minhash`` (bytes or None).
        """
        d = t.documents
        columns = (d.c.id, d.c.parent_id, d.c.name, d.c.path, d.c.sha256, d.c.record_class, d.c.modified_at)
        folder = prefix.strip().rstrip("/")
        query = select(*columns, d.c.status, d.c.minhash).where(_LIVE)
        if folder:
            escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where((d.c.path == folder) | d.c.path.like(f"{escaped}/%", escape="\\"))
        return self.iter_keyset(query, d.c.id, "read signal rows", SIGNAL_BATCH_SIZE)

    def iter_contracts(self, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every contract row joined with its document's name, path, web URL, class and disposal date, by id."""
        d = t.documents
        columns = (d.c.name, d.c.path, d.c.web_url, d.c.record_class, d.c.disposal_date, d.c.modified_at)
        query = select(t.contracts, *columns).join(d, d.c.id == t.contracts.c.document_id)
        if not include_deleted:
            query = query.where(_LIVE)
        return self.iter_keyset(query, t.contracts.c.document_id, "read contracts")

    def iter_invoice_results(self) -> Iterator[dict[str, Any]]:
        """Invoices the API has read (succeeded, not expired): ``id``, ``result`` and ``finished_at``, by id."""
        j = t.invoice_jobs
        query = select(j.c.id, j.c.result, j.c.finished_at).where(j.c.status == "succeeded", j.c.result.is_not(None))
        return self.iter_keyset(query, j.c.id, "read invoice results")

    def breakdown_keys(self) -> dict[str, list[str]]:
        """Every page method, entity label and PII type present, for fixed export columns."""
        with self.transaction("read breakdown keys") as connection:
            return {
                "page_methods": sorted(connection.execute(select(t.pages.c.method).distinct()).scalars()),
                "entity_counts": sorted(connection.execute(select(t.entities.c.label).distinct()).scalars()),
                "pii_counts": sorted(connection.execute(select(t.pii_findings.c.entity_type).distinct()).scalars()),
            }

    def documents_with_value(self, value_hash: str, entity_type: str | None = None) -> list[str]:
        """Ids of documents holding a PII value with this keyed hash (subject access requests)."""
        query = select(t.pii_findings.c.document_id).where(t.pii_findings.c.value_hash == value_hash).distinct()
        if entity_type is not None:
            query = query.where(t.pii_findings.c.entity_type == entity_type)
        with self.transaction("find value") as connection:
            return sorted(connection.execute(query.order_by(t.pii_findings.c.document_id)).scalars())

    # -- report queries (live documents only) ------------------------------------------------------

    def summary(self) -> CatalogueSummary:
        """Headline counts for the report."""
        d = t.documents
        status_counts = select(
            func.count(),
            func.count(d.c.parent_id),
            func.coalesce(func.sum(case((d.c.status == DocumentStatus.OK.value, 1), else_=0)), 0),
            func.coalesce(func.sum(case((d.c.status == DocumentStatus.FAILED.value, 1), else_=0)), 0),
            func.coalesce(func.sum(case((d.c.status == DocumentStatus.PENDING.value, 1), else_=0)), 0),
            func.count(d.c.record_class),
        )
        page_counts = select(
            func.count(),
            func.coalesce(func.sum(case((t.pages.c.method == "ocr", 1), else_=0)), 0),
            func.count(func.distinct(case((t.pages.c.method == "ocr", t.pages.c.document_id)))),
        ).join_from(t.pages, d, t.pages.c.document_id == d.c.id)
        pii_counts = select(func.count(), func.count(func.distinct(t.pii_findings.c.document_id))).join_from(
            t.pii_findings, d, t.pii_findings.c.document_id == d.c.id
        )
        with self.transaction("read summary") as connection:
            total, children, ok, failed, pending, classified = connection.execute(status_counts.where(_LIVE)).one()
            pages_total, ocr_pages, ocr_documents = connection.execute(page_counts.where(_LIVE)).one()
            pii_total, documents_with_pii = connection.execute(pii_counts.where(_LIVE)).one()
        return CatalogueSummary(
            documents=total,
            top_level=total - children,
            children=children,
            ok=int(ok),
            failed=int(failed),
            pending=int(pending),
            pages=pages_total,
            ocr_pages=int(ocr_pages),
            ocr_documents=ocr_documents,
            classified=classified,
            pii_findings=pii_total,
            documents_with_pii=documents_with_pii,
        )

    def operational_counts(self) -> OperationalCounts:
        """Live documents by status and by error class, and each stage's runs and seconds, for the metrics."""
        d, runs = t.documents, t.stage_runs
        by_status = select(d.c.status, func.count()).where(_LIVE).group_by(d.c.status)
        by_error = (
            select(d.c.error_type, func.count())
            .where(_LIVE, d.c.status == DocumentStatus.FAILED.value)
            .group_by(d.c.error_type)
        )
        by_stage = select(runs.c.stage, func.count(), func.coalesce(func.sum(runs.c.seconds), 0.0)).group_by(
            runs.c.stage
        )
        with self.transaction("read operational counts") as connection:
            statuses = {str(status): int(n) for status, n in connection.execute(by_status)}
            errors = {str(error or "unknown"): int(n) for error, n in connection.execute(by_error)}
            stages = {str(stage): (int(n), float(seconds)) for stage, n, seconds in connection.execute(by_stage)}
        return OperationalCounts(documents_by_status=statuses, failed_by_error=errors, stage_seconds=stages)

    def class_counts(self) -> list[ClassCount]:
        """Documents per retention class, largest first; unclassified documents count under None."""
        d = t.documents
        query = select(d.c.record_class, func.count()).where(_LIVE).group_by(d.c.record_class)
        with self.transaction("read class counts") as connection:
            counts = [ClassCount(record_class, count) for record_class, count in connection.execute(query)]
        return sorted(counts, key=lambda c: (-c.documents, c.record_class or ""))

    def folder_counts(self, top_n: int = 20) -> list[FolderSummary]:
        """The ``top_n`` folders holding most documents, each with its split across retention classes."""
        d = t.documents
        top_query = (
            select(d.c.path, func.count().label("n"))
            .where(_LIVE)
            .group_by(d.c.path)
            .order_by(func.count().desc(), d.c.path)
            .limit(top_n)
        )
        with self.transaction("read folder counts") as connection:
            top = [(path, count) for path, count in connection.execute(top_query)]
            classes: dict[str, dict[str | None, int]] = defaultdict(dict)
            if top:
                class_query = (
                    select(d.c.path, d.c.record_class, func.count())
                    .where(_LIVE, d.c.path.in_([path for path, _ in top]))
                    .group_by(d.c.path, d.c.record_class)
                )
                for path, record_class, count in connection.execute(class_query):
                    classes[path][record_class] = count
        return [
            FolderSummary(
                path,
                count,
                dict(sorted(classes[path].items(), key=lambda item: (-item[1], item[0] or ""))),
            )
            for path, count in top
        ]

    def pii_hotspots(self, top_n: int = 20) -> tuple[list[PiiHotspot], list[PiiHotspot]]:
        """Folders and documents with the most PII findings, each with counts by type: (folders, documents)."""
        d, p = t.documents, t.pii_findings
        joined = p.join(d, p.c.document_id == d.c.id)
        folder_query = (
            select(d.c.path, func.count().label("n"))
            .select_from(joined)
            .where(_LIVE)
            .group_by(d.c.path)
            .order_by(func.count().desc(), d.c.path)
            .limit(top_n)
        )
        document_query = (
            select(d.c.id, d.c.path, d.c.name, func.count().label("n"))
            .select_from(joined)
            .where(_LIVE)
            .group_by(d.c.id, d.c.path, d.c.name)
            .order_by(func.count().desc(), d.c.id)
            .limit(top_n)
        )
        with self.transaction("read PII hotspots") as connection:
            folder_totals = list(connection.execute(folder_query))
            document_totals = list(connection.execute(document_query))
            folder_types: dict[str, dict[str, int]] = defaultdict(dict)
            document_types: dict[str, dict[str, int]] = defaultdict(dict)
            if folder_totals:
                query = (
                    select(d.c.path, p.c.entity_type, func.count())
                    .select_from(joined)
                    .where(_LIVE, d.c.path.in_([row.path for row in folder_totals]))
                    .group_by(d.c.path, p.c.entity_type)
                )
                for path, entity_type, count in connection.execute(query):
                    folder_types[path][entity_type] = count
            if document_totals:
                query = (
                    select(d.c.id, p.c.entity_type, func.count())
                    .select_from(joined)
                    .where(_LIVE, d.c.id.in_([row.id for row in document_totals]))
                    .group_by(d.c.id, p.c.entity_type)
                )
                for doc_id, entity_type, count in connection.execute(query):
                    document_types[doc_id][entity_type] = count

        def by_count(counts: Mapping[str, int]) -> dict[str, int]:
            return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

        folders = [PiiHotspot(row.path, row.n, by_count(folder_types[row.path])) for row in folder_totals]
        documents = [
            PiiHotspot(row.path, row.n, by_count(document_types[row.id]), document_id=row.id, name=row.name)
            for row in document_totals
        ]
        return folders, documents

    def failures(self, per_type: int = 50) -> list[FailureGroup]:
        """Failed documents grouped by error class, largest group first, at most ``per_type`` listed each."""
        d = t.documents
        failed = d.c.status == DocumentStatus.FAILED.value
        error_type = func.coalesce(d.c.error_type, "unknown")
        totals_query = (
            select(error_type.label("error_type"), func.count().label("n")).where(_LIVE, failed).group_by(error_type)
        )
        groups: list[FailureGroup] = []
        with self.transaction("read failures") as connection:
            totals = sorted(connection.execute(totals_query), key=lambda row: (-row.n, row.error_type))
            for row in totals:
                query = (
                    select(d.c.id, d.c.path, d.c.name, d.c.error_message)
                    .where(_LIVE, failed, error_type == row.error_type)
                    .order_by(d.c.path, d.c.name, d.c.id)
                    .limit(per_type)
                )
                documents = [
                    FailedDocument(doc_id, path, name, message or "")
                    for doc_id, path, name, message in connection.execute(query)
                ]
                groups.append(FailureGroup(row.error_type, row.n, documents))
        return groups

    def lowest_confidence(self, limit: int = 20) -> list[LowConfidence]:
        """The ``limit`` classified documents with the lowest classifier confidence, lowest first."""
        d = t.documents
        query = (
            select(
                d.c.id,
                d.c.path,
                d.c.name,
                d.c.record_class,
                d.c.class_confidence,
                d.c.class_explanation,
                d.c.classifier,
            )
            .where(_LIVE, d.c.record_class.is_not(None), d.c.class_confidence.is_not(None))
            .order_by(d.c.class_confidence, d.c.id)
            .limit(limit)
        )
        with self.transaction("read lowest confidence") as connection:
            return [
                LowConfidence(doc_id, path, name, record_class, confidence, explanation or "", classifier or "")
                for doc_id, path, name, record_class, confidence, explanation, classifier in connection.execute(query)
            ]
