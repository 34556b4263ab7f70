"""Books in and out: a job's book details and cover (jobs.book_info, cover_key), where a
finished book is delivered and how that went (jobs.deliver, deliveries), a key's own delivery
settings (api_keys.deliver) and podcast feed tokens (feed_tokens)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("book_info", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cover_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("deliver", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("deliveries", sa.JSON(), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("deliver", sa.JSON(), nullable=True))
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_feed_tokens_owner", "feed_tokens", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_feed_tokens_owner", table_name="feed_tokens")
    op.drop_table("feed_tokens")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("deliver")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("deliveries")
        batch.drop_column("deliver")
        batch.drop_column("cover_key")
        batch.drop_column("book_info")
