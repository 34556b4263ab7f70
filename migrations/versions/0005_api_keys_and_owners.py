"""API keys; jobs and batches belong to a key; Idempotency-Key unique per owner;
chunks.requeues

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0001 left the unique constraint on jobs.idempotency_key unnamed: PostgreSQL named it itself,
# and on SQLite batch mode can only find it through a naming convention
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_UNIQUE = {"postgresql": "jobs_idempotency_key_key", "sqlite": "uq_jobs_idempotency_key"}


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("max_queued_jobs", sa.Integer(), nullable=True),
        sa.Column("max_text_chars", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table(
        "jobs", naming_convention=SQLITE_NAMES if dialect == "sqlite" else None
    ) as batch_op:
        batch_op.add_column(
            sa.Column("owner", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_constraint(OLD_UNIQUE.get(dialect, "jobs_idempotency_key_key"), "unique")
        batch_op.create_unique_constraint(
            "uq_jobs_owner_idempotency_key", ["owner", "idempotency_key"]
        )
        batch_op.create_index("ix_jobs_owner_created_at_id", ["owner", "created_at", "id"])
    with op.batch_alter_table("batches") as batch_op:
        batch_op.add_column(
            sa.Column("owner", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index("ix_batches_owner", ["owner"])
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.add_column(sa.Column("requeues", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.drop_column("requeues")
    with op.batch_alter_table("batches") as batch_op:
        batch_op.drop_index("ix_batches_owner")
        batch_op.drop_column("owner")
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_owner_created_at_id")
        batch_op.drop_constraint("uq_jobs_owner_idempotency_key", "unique")
        batch_op.drop_column("owner")
        batch_op.create_unique_constraint(
            OLD_UNIQUE.get(dialect, "jobs_idempotency_key_key"), ["idempotency_key"]
        )
    op.drop_table("api_keys")
