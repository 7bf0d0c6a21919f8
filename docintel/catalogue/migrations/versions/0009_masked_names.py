"""Masked names: where a personal-data finding was found (pii_findings.field) and the raw locator to re-read by.

File names, folder paths, titles and e-mail subjects are catalogued with personal data masked; their findings
are hashed into ``pii_findings`` like the text's, with ``field`` saying which string they index (NULL: the
text). ``documents.source_locator`` keeps the unmasked locator only where masking changed it, for connectors
that re-read a file by path (local folders, archive members); it is never exported.

For operators (``docintel status``): ``drive_checkpoints.owner`` names whose OneDrive or mailbox, or which
site, a drive is (folder paths keep the user's id), and ``runs.host``/``runs.pid`` let the next start mark a
scan whose process died ``interrupted`` instead of leaving it ``running``.

Revision ID: 0009_masked_names
Revises: 0008_key_scopes
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_masked_names"
down_revision: str | Sequence[str] | None = "0008_key_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add pii_findings.field, documents.source_locator, drive_checkpoints.owner, runs.host and runs.pid."""
    with op.batch_alter_table("pii_findings") as batch:
        batch.add_column(sa.Column("field", sa.String(16), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("source_locator", sa.Text(), nullable=True))
    with op.batch_alter_table("drive_checkpoints") as batch:
        batch.add_column(sa.Column("owner", sa.Text(), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
    with op.batch_alter_table("drive_checkpoints") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("source_locator")
    with op.batch_alter_table("pii_findings") as batch:
        batch.drop_column("field")
