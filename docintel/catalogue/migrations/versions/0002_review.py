"""Review workflow: review_decisions, review_state, holds, users and audit.

Revision ID: 0002_review
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_review"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the review tables."""
    op.create_table(
        "review_decisions",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_class", sa.String(128), nullable=True),
        sa.Column("to_class", sa.String(128), nullable=True),
        sa.Column("from_confidence", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
    )
    op.create_index("ix_review_decisions_document_id", "review_decisions", ["document_id"])
    op.create_index("ix_review_decisions_at", "review_decisions", ["at"])

    op.create_table(
        "review_state",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("reviewed_class", sa.String(128), nullable=True),
        sa.Column("reviewed_by", sa.String(128), nullable=True),
        sa.Column("reviewed_at", _timestamp(), nullable=True),
        sa.Column("disposal_approved_by", sa.String(128), nullable=True),
        sa.Column("disposal_approved_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("document_id", name="pk_review_state"),
    )

    op.create_table(
        "holds",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(128), nullable=False),
        sa.Column("placed_at", _timestamp(), nullable=False),
        sa.Column("released_at", _timestamp(), nullable=True),
        sa.Column("released_by", sa.String(128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
    )
    op.create_index("ix_holds_released_at", "holds", ["released_at"])

    op.create_table(
        "users",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )

    op.create_table(
        "audit",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_document_id", "audit", ["document_id"])


def downgrade() -> None:
    """Drop the review tables."""
    for table in ("audit", "users", "holds", "review_state", "review_decisions"):
        op.drop_table(table)
