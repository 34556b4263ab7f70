"""chunks.words: when each written word of a chunk is said ([[word, start sample, end
sample], ...] in the chunk's stored audio), and whether those times are estimated

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("words", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("words_estimated", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("words_estimated")
        batch.drop_column("words")
