"""What a job says and how: its markup mode and pronunciations; per chunk the voice it is read
with (a markup voice change), an explicit pause after it (a markup break), its phoneme
overrides and aliases, and the time spent normalizing it to its spoken form

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("markup", sa.String(8), nullable=False, server_default="none"))
        batch.add_column(sa.Column("pronunciations", sa.JSON(), nullable=True))
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("voice", sa.String(200), nullable=True))
        batch.add_column(sa.Column("pause_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("overrides", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("normalize_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        for column in ("normalize_ms", "overrides", "pause_seconds", "voice"):
            batch.drop_column(column)
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("pronunciations")
        batch.drop_column("markup")
