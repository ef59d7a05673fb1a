"""outbox.erased_at: when a message's payload was erased (retention, /forget)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_outbox_unerased",
            ["status", "created_at"],
            unique=False,
            postgresql_where=sa.text("erased_at IS NULL"),
            sqlite_where=sa.text("erased_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unerased", postgresql_where=sa.text("erased_at IS NULL"), sqlite_where=sa.text("erased_at IS NULL"))
        batch_op.drop_column("erased_at")
