"""Assembly by parts: job_parts (runs of a chapter's chunks encoded by their own tasks),
jobs.loudness and jobs.chapter_levels, chunks.sum_squares

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_parts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("chapter", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_index", sa.Integer(), nullable=False),
        sa.Column("last_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("audio_key", sa.String(300), nullable=True),
        sa.Column("samples", sa.Integer(), nullable=True),
        sa.Column("sum_squares", sa.Float(), nullable=True),
        sa.Column("peak", sa.Float(), nullable=True),
        sa.Column("gain", sa.Float(), nullable=True),
        sa.Column("encode_ms", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("job_id", "chapter", "number", name="uq_job_parts_job_chapter_number"),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("loudness", sa.String(8), nullable=False, server_default="peak"))
        batch.add_column(sa.Column("chapter_levels", sa.JSON(), nullable=True))
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("sum_squares", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("sum_squares")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chapter_levels")
        batch.drop_column("loudness")
    op.drop_table("job_parts")
