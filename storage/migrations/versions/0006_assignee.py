"""appeals.assignee_*: whom an appeal is assigned to; chat_members: whom a chat can assign

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("seen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_members")),
        sa.UniqueConstraint("platform", "chat_id", "external_id", name=op.f("uq_chat_members_platform")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("assignee_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assignee_name")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("assignee_platform")
    op.drop_table("chat_members")
