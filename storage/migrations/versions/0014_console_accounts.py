"""accounts of the officers' web console

Revision ID: 0014_console_accounts
Revises: 0013_intent_cases
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_console_accounts'
down_revision = "0013_intent_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_accounts',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_console_accounts')),
    )


def downgrade() -> None:
    op.drop_table('console_accounts')
