"""Invoice server heartbeats: the api_servers table, and invoice_jobs.resumes.

Revision ID: 0007_server_heartbeat
Revises: 0006_document_texts
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_server_heartbeat"
down_revision: str | Sequence[str] | None = "0006_document_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the server table and count resumes per job."""
    op.create_table(
        "api_servers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("last_beat_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_servers"),
    )
    with op.batch_alter_table("invoice_jobs") as batch:
        batch.add_column(sa.Column("resumes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop the server table and the resume count."""
    with op.batch_alter_table("invoice_jobs") as batch:
        batch.drop_column("resumes")
    op.drop_table("api_servers")
