"""jobs.queue: the Celery queue a job's tasks go to, so that pools sharing one database (a CPU
and a GPU pool, two stacks) each reconcile only their own jobs. Existing jobs were sent to the
default queue.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("queue", sa.String(200), nullable=False, server_default="kokoro")
        )
    op.create_index("ix_jobs_queue_status", "jobs", ["queue", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_queue_status", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("queue")
