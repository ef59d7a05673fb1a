"""two clocks per appeal, reject reasons, contested rejections

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENTS = (
    "deadline_half_at",
    "answer_started_at",
    "answer_half_at",
    "answer_due_at",
    "answered_at",
    "answer_reminded_half_at",
    "answer_reminded_due_at",
    "answer_escalated_at",
    "answer_extended_at",
    "contested_at",
)


def upgrade() -> None:
    # Appeals already open get their answer clock from the running bot (it needs the
    # catalogue's calendar): see handlers.deadlines.start_missing_clocks.
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        for name in _MOMENTS:
            batch_op.add_column(sa.Column(name, storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_appeals_status_answer_due", ["status", "answer_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_status_answer_due")
        batch_op.drop_column("rejection_reason")
        for name in reversed(_MOMENTS):
            batch_op.drop_column(name)
