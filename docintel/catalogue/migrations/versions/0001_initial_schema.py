"""Initial catalogue schema: runs, documents, pages, entities, pii_findings, stage_runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade the catalogue schema."""
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(_ID), nullable=False),
        sa.Column("parent_id", sa.String(_ID), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("locator", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("drive_id", sa.String(255), nullable=True),
        sa.Column("item_id", sa.String(255), nullable=True),
        sa.Column("etag", sa.String(255), nullable=True),
        sa.Column("ctag", sa.String(255), nullable=True),
        sa.Column("web_url", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("mime_type", sa.String(255), nullable=True),
        sa.Column("file_type", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=True),
        sa.Column("modified_at", _timestamp(), nullable=True),
        sa.Column("first_seen_at", _timestamp(), nullable=False),
        sa.Column("processed_at", _timestamp(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("text_chars", sa.BigInteger(), nullable=False),
        sa.Column("record_class", sa.String(128), nullable=True),
        sa.Column("class_confidence", sa.Float(), nullable=True),
        sa.Column("class_explanation", sa.Text(), nullable=True),
        sa.Column("classifier", sa.String(64), nullable=True),
        sa.Column("retention_period", sa.String(128), nullable=True),
        sa.Column("retention_trigger", sa.String(64), nullable=True),
        sa.Column("retention_action", sa.String(64), nullable=True),
        sa.Column("retention_authority", sa.Text(), nullable=True),
        sa.Column("disposal_date", sa.Date(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
    )
    for column in ("sha256", "record_class", "status", "path", "parent_id", "run_id"):
        op.create_index(f"ix_documents_{column}", "documents", [column])

    op.create_table(
        "pages",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_pages_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "number", name="pk_pages"),
    )
    op.create_table(
        "entities",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("value_hash", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_entities_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
    )
    op.create_index("ix_entities_document_id", "entities", ["document_id"])

    op.create_table(
        "pii_findings",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("recognizer", sa.String(128), nullable=True),
        sa.Column("value_hash", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_pii_findings_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pii_findings"),
    )
    op.create_index("ix_pii_findings_document_id", "pii_findings", ["document_id"])
    op.create_index("ix_pii_findings_entity_type_value_hash", "pii_findings", ["entity_type", "value_hash"])

    op.create_table(
        "stage_runs",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("component", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_stage_runs_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stage_runs"),
    )
    op.create_index("ix_stage_runs_document_id", "stage_runs", ["document_id"])


def downgrade() -> None:
    """Drop the catalogue schema."""
    for table in ("stage_runs", "pii_findings", "entities", "pages", "documents", "runs"):
        op.drop_table(table)
