"""guide entries officers add, change or remove in chat (/指南)

Revision ID: 0012_guide_edits
Revises: 0011_calendar_days
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_guide_edits'
down_revision = "0011_calendar_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'guide_edits',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('bot', sa.String(length=32), nullable=False),
        sa.Column('entry_id', sa.String(length=64), nullable=False),
        sa.Column('added', sa.Boolean(), nullable=False),
        sa.Column('title', sa.String(length=128), nullable=True),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('removed', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_edits')),
        sa.UniqueConstraint('bot', 'entry_id', name=op.f('uq_guide_edits_bot')),
    )


def downgrade() -> None:
    op.drop_table('guide_edits')
