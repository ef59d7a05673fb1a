"""typed choices on the dialogue row

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialogues") as batch:
        batch.add_column(sa.Column("typed_choices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialogues") as batch:
        batch.drop_column("typed_choices")
