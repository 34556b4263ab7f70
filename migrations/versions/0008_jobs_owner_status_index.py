"""jobs (owner, status, created_at, id): a key's jobs in one status, newest first (the list's
?status=), and its unfinished jobs counted for the quota, without reading its other jobs

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_owner_status_created_at_id", "jobs", ["owner", "status", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_status_created_at_id", table_name="jobs")
