"""Subject access request cases: sar_cases, sar_identifiers (keyed hashes), sar_documents, sar_exemptions.

Revision ID: 0016_sar_cases
Revises: 0015_triage
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_sar_cases"
down_revision: str | Sequence[str] | None = "0015_triage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["sar_cases.id"], name=f"fk_{table}_case_id_sar_cases", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create the four case tables."""
    op.create_table(
        "sar_cases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_to", sa.Date()),
        sa.Column("extension_reason", sa.Text()),
        sa.Column("handler", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("searched_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(128)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("sent_on", sa.Date()),
        sa.Column("sent", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_sar_cases"),
    )
    op.create_index("ix_sar_cases_status", "sar_cases", ["status"])
    op.create_table(
        "sar_identifiers",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("value_hash", sa.String(128), nullable=False),
        sa.Column("strength", sa.Float(), nullable=False),
        _case_fk("sar_identifiers"),
        sa.PrimaryKeyConstraint("id", name="pk_sar_identifiers"),
    )
    op.create_index("ix_sar_identifiers_case_id", "sar_identifiers", ["case_id"])
    op.create_table(
        "sar_documents",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("tie", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.Text()),
        _case_fk("sar_documents"),
        sa.PrimaryKeyConstraint("case_id", "document_id", name="pk_sar_documents"),
    )
    op.create_index("ix_sar_documents_case_id_decision", "sar_documents", ["case_id", "decision"])
    op.create_table(
        "sar_exemptions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("page", sa.Integer()),
        sa.Column("exemption", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _case_fk("sar_exemptions"),
        sa.PrimaryKeyConstraint("id", name="pk_sar_exemptions"),
    )
    op.create_index("ix_sar_exemptions_case_id", "sar_exemptions", ["case_id"])


def downgrade() -> None:
    """Drop the case tables."""
    for table in ("sar_exemptions", "sar_documents", "sar_identifiers"):
        op.drop_index(
            f"ix_{table}_case_id" if table != "sar_documents" else "ix_sar_documents_case_id_decision", table_name=table
        )
        op.drop_table(table)
    op.drop_index("ix_sar_cases_status", table_name="sar_cases")
    op.drop_table("sar_cases")
