"""followers of appeals and their count; the indexes that find open appeals near a place

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_followers_appeal_id_appeals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_followers_resident_id_residents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followers")),
        sa.UniqueConstraint("appeal_id", "resident_id", name=op.f("uq_followers_appeal_id")),
    )
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.create_index("ix_followers_resident", ["resident_id"], unique=False)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("followers_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_appeals_nearby", ["category_id", "status", "latitude", "longitude"], unique=False
        )
        batch_op.create_index("ix_appeals_same_address", ["category_id", "address_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_same_address")
        batch_op.drop_index("ix_appeals_nearby")
        batch_op.drop_column("followers_count")
        batch_op.drop_column("address_key")
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.drop_index("ix_followers_resident")
    op.drop_table("followers")
