"""Who may call what: API key scopes and SharePoint drive allow-lists, review session versions, and the
catalogue's settings table (the PII key's fingerprint).

Existing keys keep the one scope they could use before (``invoices``) and no SharePoint drive: an operator
allow-lists drives per key (``docintel api-key drives``) before a key may name a SharePoint file again.

Revision ID: 0008_key_scopes
Revises: 0007_server_heartbeat
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_key_scopes"
down_revision: str | Sequence[str] | None = "0007_server_heartbeat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add key scopes and drives, the users' session version and the catalogue settings table."""
    # Plain ADD COLUMN with a server default works on both backends without copying the tables.
    op.add_column("api_keys", sa.Column("scopes", sa.String(255), nullable=False, server_default="invoices"))
    op.add_column("api_keys", sa.Column("drives", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "catalogue_settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalogue_settings"),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("catalogue_settings")
    op.drop_column("users", "session_version")
    op.drop_column("api_keys", "drives")
    op.drop_column("api_keys", "scopes")
