"""outbox.visible_at and index seeks for the claim: a chat's waiting messages are parked out of its walk

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visible_at", storage.models.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET visible_at = next_attempt_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("visible_at", existing_type=storage.models.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_outbox_visible", ["status", "visible_at", "id"], unique=False)
        # Replaces ix_outbox_pending_chat: with the status in the index a chat's pending
        # rows are one seek away whatever the planner knows of the partial predicate.
        batch_op.create_index("ix_outbox_chat_status", ["platform", "chat_id", "status", "id"], unique=False)
        batch_op.drop_index("ix_outbox_pending_chat", postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending_chat",
            ["platform", "chat_id", "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.drop_index("ix_outbox_chat_status")
        batch_op.drop_index("ix_outbox_visible")
        batch_op.drop_column("visible_at")
