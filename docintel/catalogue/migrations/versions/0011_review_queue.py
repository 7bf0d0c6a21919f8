"""Review queue: the classifier's review flag, the year of birth for date-of-birth classes, and class evidence.

``documents.needs_review`` is the classifier's own verdict (flagged for review or accepted), so the dashboard
can show the workload the classifier leaves and measure the precision of what it accepted. Rows stored before
this revision get it from their explanation, where the classifiers wrote "needs review".
``documents.birth_year`` is the year of the latest date of birth found in the text, never the date: what the
retain stage needs to date a "DOB + N years" class after a reviewer's change (docintel.retention).
``class_evidence`` holds where the passages that decided a class are (offsets, never their words).

Revision ID: 0011_review_queue
Revises: 0009_masked_names
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_review_queue"
down_revision: str | Sequence[str] | None = "0009_masked_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = 255


def upgrade() -> None:
    """Add the review flag and birth year columns and create the class evidence table."""
    # Nullable columns without defaults: SQLite and PostgreSQL add them without rewriting the table.
    op.add_column("documents", sa.Column("needs_review", sa.Boolean(), nullable=True))
    op.add_column("documents", sa.Column("birth_year", sa.Integer(), nullable=True))
    documents = sa.table(
        "documents",
        sa.column("needs_review", sa.Boolean()),
        sa.column("record_class", sa.String()),
        sa.column("class_explanation", sa.Text()),
    )
    op.execute(
        documents.update()
        .where(documents.c.record_class.is_not(None))
        .values(needs_review=sa.func.coalesce(documents.c.class_explanation, "").like("needs review%"))
    )
    op.create_table(
        "class_evidence",
        sa.Column("document_id", sa.String(_ID), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(8), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("record_class", sa.String(128), nullable=False),
        sa.Column("feature", sa.String(128), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_class_evidence_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "rank", name="pk_class_evidence"),
    )


def downgrade() -> None:
    """Drop the class evidence table and the two columns."""
    op.drop_table("class_evidence")
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): batch mode would copy and drop the documents table.
    op.drop_column("documents", "birth_year")
    op.drop_column("documents", "needs_review")
