"""console accounts belong to one bot (a district's bots share the database)

Revision ID: 0016_console_account_bot
Revises: 0015_tip_routing

An account made before this belonged to whichever bot's console it was used on; it is kept for
every bot the database knows (one, in a community's own database), so nobody is locked out.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_console_account_bot"
down_revision = "0015_tip_routing"
branch_labels = None
depends_on = None

COLUMNS = "name, role, password_hash, failed_logins, locked_until, created_at, updated_at"


def _table(name: str, pk: str, with_bot: bool) -> None:
    columns = [sa.Column("bot", sa.String(length=32), nullable=False)] if with_bot else []
    op.create_table(
        name, *columns,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*(["bot"] if with_bot else []), "name", name=pk),
    )


def _swap(old_pk: str, new_pk: str) -> None:
    op.drop_table("console_accounts")
    op.rename_table("console_accounts_next", "console_accounts")
    if op.get_bind().dialect.name == "postgresql":  # SQLite has no constraint names to keep right
        op.execute(f"ALTER TABLE console_accounts RENAME CONSTRAINT {old_pk} TO {new_pk}")


def upgrade() -> None:
    _table("console_accounts_next", "pk_console_accounts_next", with_bot=True)
    op.execute(f"INSERT INTO console_accounts_next (bot, {COLUMNS}) "
               f"SELECT b.bot, {', '.join('a.' + c.strip() for c in COLUMNS.split(','))} "
               "FROM console_accounts a CROSS JOIN (SELECT DISTINCT bot FROM contacts) b")
    _swap("pk_console_accounts_next", "pk_console_accounts")


def downgrade() -> None:
    _table("console_accounts_next", "pk_console_accounts_next", with_bot=False)
    op.execute(f"INSERT INTO console_accounts_next ({COLUMNS}) SELECT {COLUMNS} FROM console_accounts a "
               "WHERE bot = (SELECT MIN(bot) FROM console_accounts)")
    _swap("pk_console_accounts_next", "pk_console_accounts")
