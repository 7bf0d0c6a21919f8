"""Contract terms: the contracts table (one row per document read as a contract; no clause text, no names of people).

Revision ID: 0013_contracts
Revises: 0011_review_queue
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_contracts"
down_revision: str | Sequence[str] | None = "0011_review_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def upgrade() -> None:
    """Create the contracts table."""
    op.create_table(
        "contracts",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("kind_confidence", sa.Float(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("reference", sa.String(128)),
        sa.Column("framework_reference", sa.String(64)),
        sa.Column("council_name", sa.String(255)),
        sa.Column("supplier_name", sa.String(255)),
        sa.Column("supplier_name_hash", sa.String(128)),
        sa.Column("supplier_company_number", sa.String(16)),
        sa.Column("supplier_vat_number", sa.String(16)),
        sa.Column("effective_date", sa.Date()),
        sa.Column("start_date", sa.Date()),
        sa.Column("end_date", sa.Date()),
        sa.Column("notice_date", sa.Date()),
        sa.Column("term", sa.String(64)),
        sa.Column("renewal", sa.String(64)),
        sa.Column("notice_period", sa.String(64)),
        sa.Column("governing_law", sa.String(64)),
        sa.Column("jurisdiction", sa.String(64)),
        sa.Column("total_value", sa.String(32)),
        sa.Column("annual_value", sa.String(32)),
        sa.Column("currency", sa.String(3)),
        sa.Column("vat_treatment", sa.String(16)),
        sa.Column("payment_terms", sa.String(64)),
        sa.Column("data_processing", sa.Boolean()),
        sa.Column("executed_as_deed", sa.Boolean()),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_contracts_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_contracts"),
    )
    op.create_index("ix_contracts_end_date", "contracts", ["end_date"])


def downgrade() -> None:
    """Drop the contracts table."""
    op.drop_index("ix_contracts_end_date", table_name="contracts")
    op.drop_table("contracts")
