"""chunks.done_seq: the order in which a job's chunks finished (the SSE event ids)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.add_column(sa.Column("done_seq", sa.Integer(), nullable=True))
        batch_op.create_index("ix_chunks_job_id_done_seq", ["job_id", "done_seq"])


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.drop_index("ix_chunks_job_id_done_seq")
        batch_op.drop_column("done_seq")
