"""The catalogue schema: runs, documents and what the pipeline found in them, as SQLAlchemy Core tables.

The same tables serve SQLite and PostgreSQL. Personal data is never stored in clear: entity and PII rows
hold the type, position, score and a keyed hash of the value, never the text. The Alembic revisions in
``migrations/versions`` create these tables; change both together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

# Explicit constraint names so Alembic can find and alter them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Document ids are connector-made (drive id + item id, or a path hash, plus member suffixes for children).
ID_LENGTH = 255


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite drops the offset of an aware datetime and PostgreSQL returns it in the session's zone;
    normalising to UTC on the way in and out makes both backends round-trip the same value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC; a naive datetime is taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        utc = value.astimezone(dt.UTC)
        # SQLite stores the wall-clock text only; hand it a naive UTC value so nothing is lost.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(255), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(32), nullable=False),
    Column("counts", JSON, nullable=False, default=dict),  # {"ok": n, "failed": n, "skipped": n}
    Column("version", String(32), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # Not a foreign key: a worker may store an attachment before (or without) its container.
    Column("parent_id", String(ID_LENGTH)),
    Column("source", String(64), nullable=False),
    Column("locator", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False, default=""),
    Column("drive_id", String(255)),
    Column("item_id", String(255)),
    Column("etag", String(255)),
    Column("ctag", String(255)),
    Column("web_url", Text),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("mime_type", String(255)),
    Column("file_type", String(32)),
    Column("status", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("error_message", Text),
    Column("title", Text),
    Column("created_at", UtcDateTime()),
    Column("modified_at", UtcDateTime()),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
    Column("run_id", String(64)),
    Column("page_count", Integer, nullable=False, default=0),
    Column("text_chars", BigInteger, nullable=False, default=0),
    Column("record_class", String(128)),
    Column("class_confidence", Float),
    Column("class_explanation", Text),
    Column("classifier", String(64)),
    Column("retention_period", String(128)),
    Column("retention_trigger", String(64)),
    Column("retention_action", String(64)),
    Column("retention_authority", Text),
    Column("disposal_date", Date),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("depth", Integer, nullable=False, default=0),
    Index("ix_documents_sha256", "sha256"),
    Index("ix_documents_record_class", "record_class"),
    Index("ix_documents_status", "status"),
    # A plain b-tree on text: folder paths stay far below PostgreSQL's ~2.7 kB index-entry limit.
    Index("ix_documents_path", "path"),
    Index("ix_documents_parent_id", "parent_id"),
    Index("ix_documents_run_id", "run_id"),
)


def _document_fk() -> ForeignKey:
    # Child rows go with their document.
    return ForeignKey("documents.id", ondelete="CASCADE")


pages = Table(
    "pages",
    metadata,
    Column("document_id", String(ID_LENGTH), _document_fk(), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("method", String(16), nullable=False),
    Column("ocr_confidence", Float),
    Column("chars", Integer, nullable=False),
)

entities = Table(
    "entities",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("label", String(64), nullable=False),
    Column("page", Integer),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("value_hash", String(128)),
    Index("ix_entities_document_id", "document_id"),
)

pii_findings = Table(
    "pii_findings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("page", Integer),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("recognizer", String(128)),
    Column("value_hash", String(128)),
    Index("ix_pii_findings_document_id", "document_id"),
    # Subject access requests: every document holding a given NHS number, email, name...
    Index("ix_pii_findings_entity_type_value_hash", "entity_type", "value_hash"),
)

stage_runs = Table(
    "stage_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("run_id", String(64)),
    Column("stage", String(64), nullable=False),
    Column("component", String(128), nullable=False),
    Column("version", String(64), nullable=False, default=""),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("error_message", Text),
    Index("ix_stage_runs_document_id", "document_id"),
)

# Tables holding rows that belong to one document, replaced as a whole on every save.
DOCUMENT_CHILD_TABLES = (pages, entities, pii_findings, stage_runs)
