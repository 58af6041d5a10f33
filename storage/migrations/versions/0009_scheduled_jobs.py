"""scheduled jobs in our own table (bot.scheduler), carried over from APScheduler's job stores

Revision ID: 0009_scheduled_jobs
Revises: 0008_custom_notices
"""
import logging
import pickle
from datetime import timezone

import sqlalchemy as sa
from alembic import op

revision = '0009_scheduled_jobs'
down_revision = '0008_custom_notices'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
OLD_PREFIX = "apscheduler_jobs_"


def upgrade() -> None:
    jobs = op.create_table(
        'scheduled_jobs',
        sa.Column('bot', sa.String(length=32), nullable=False),
        sa.Column('id', sa.String(length=191), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('trigger', sa.LargeBinary(), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('grace_seconds', sa.Integer(), nullable=False),
        sa.Column('coalesce', sa.Boolean(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('bot', 'id', name=op.f('pk_scheduled_jobs')),
    )
    bind = op.get_bind()
    for table in sa.inspect(bind).get_table_names():
        if table.startswith(OLD_PREFIX):
            op.bulk_insert(jobs, list(_old_jobs(bind, table)))
            op.drop_table(table)


def _old_jobs(bind, table: str):
    """APScheduler 3 kept each job as a pickled state dict; its args were (kind, payload)."""
    import apscheduler.job  # noqa: F401  (the pickles name its classes)

    bot = table[len(OLD_PREFIX):]
    for (state,) in bind.execute(sa.text(f'SELECT job_state FROM "{table}"')):
        try:
            job = pickle.loads(state)
            kind, payload = job["args"]
        except Exception:
            log.warning("an old scheduler job could not be read and was dropped (table %s)", table)
            continue
        yield {"bot": bot, "id": job["id"], "kind": kind, "payload": payload,
               "trigger": pickle.dumps(job["trigger"]), "next_run_at": _utc(job.get("next_run_time")),
               "grace_seconds": int(job.get("misfire_grace_time") or 1), "coalesce": bool(job.get("coalesce", True)),
               "revision": 0}


def _utc(when):
    # A plain DateTime column on SQLite keeps no zone: store UTC, as storage.models.UTCDateTime does.
    return when.astimezone(timezone.utc) if when is not None else None


def downgrade() -> None:
    op.drop_table('scheduled_jobs')
