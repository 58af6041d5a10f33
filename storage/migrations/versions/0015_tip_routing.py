"""tips routed to a district unit: the bot that reaches the unit's officers (tips.unit_bot)

Revision ID: 0015_tip_routing
Revises: 0014_console_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_tip_routing"
down_revision = "0014_console_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch:
        batch.add_column(sa.Column("unit_bot", sa.String(length=32), nullable=True))
        batch.create_index("ix_tips_unit_bot", ["unit_bot", "status", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("tips") as batch:
        batch.drop_index("ix_tips_unit_bot")
        batch.drop_column("unit_bot")
