"""forget tip summaries: the first words of a tip were kept in plain text (masked) in tips.summary;
the summary is now made from the encrypted body when shown, and the column stays empty. The
notices of new tips in the outbox quoted those words too: sent ones lose their text.

Revision ID: 0010_forget_tip_summaries
Revises: 0009_scheduled_jobs
"""
from alembic import op


revision = "0010_forget_tip_summaries"
down_revision = "0009_scheduled_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE tips SET summary = ''")
    op.execute("UPDATE outbox SET body = '', contact_id = NULL WHERE source = 'tip-notice' "
               "AND status IN ('sent', 'failed', 'uncertain')")


def downgrade() -> None:
    pass  # what was forgotten stays forgotten
