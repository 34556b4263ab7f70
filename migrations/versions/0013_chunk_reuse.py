"""Chunk audio by what decides it (chunk_audio, chunks.content_key, reused, audio_bytes) and
revisions (jobs.revision_of, revision_root, source, chunks_reused, reuse_scope), jobs.ttl_hours

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chunk_audio",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("content_key", sa.String(64), primary_key=True),
        sa.Column("audio_key", sa.String(300), nullable=False),
        sa.Column("audio_bytes", sa.Integer(), nullable=True),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("audio_seconds", sa.Float(), nullable=False),
        sa.Column("peak", sa.Float(), nullable=True),
        sa.Column("sum_squares", sa.Float(), nullable=True),
        sa.Column("words", sa.JSON(), nullable=True),
        sa.Column("words_estimated", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chunk_audio_audio_key", "chunk_audio", ["audio_key"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("revision_of", sa.String(32), nullable=True))
        batch.add_column(sa.Column("revision_root", sa.String(32), nullable=True))
        batch.add_column(sa.Column("source", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("chunks_reused", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("reuse_scope", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ttl_hours", sa.Float(), nullable=True))
        batch.create_index("ix_jobs_revision_of", ["revision_of"])
        batch.create_index("ix_jobs_revision_root", ["revision_root"])
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("content_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("audio_bytes", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("reused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_chunks_audio_key", ["audio_key"])


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_index("ix_chunks_audio_key")
        batch.drop_column("reused")
        batch.drop_column("audio_bytes")
        batch.drop_column("content_key")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_revision_root")
        batch.drop_index("ix_jobs_revision_of")
        batch.drop_column("ttl_hours")
        batch.drop_column("reuse_scope")
        batch.drop_column("chunks_reused")
        batch.drop_column("source")
        batch.drop_column("revision_root")
        batch.drop_column("revision_of")
    op.drop_index("ix_chunk_audio_audio_key", "chunk_audio")
    op.drop_table("chunk_audio")
