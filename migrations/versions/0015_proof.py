"""Proof-listening: whether a job is proofed and what was found (jobs.proof, proof_report),
each chunk's hearing and verdict (chunks.proof, proof_verdict), kept with reusable chunk audio
too (chunk_audio.proof)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("proof", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("proof_report", sa.JSON(), nullable=True))
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("proof", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("proof_verdict", sa.String(8), nullable=True))
        batch.create_index("ix_chunks_proof_verdict", ["proof_verdict"])
    with op.batch_alter_table("chunk_audio") as batch:
        batch.add_column(sa.Column("proof", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunk_audio") as batch:
        batch.drop_column("proof")
    with op.batch_alter_table("chunks") as batch:
        batch.drop_index("ix_chunks_proof_verdict")
        batch.drop_column("proof_verdict")
        batch.drop_column("proof")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("proof_report")
        batch.drop_column("proof")
