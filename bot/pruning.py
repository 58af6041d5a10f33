"""Storage that stops growing: a nightly job deletes what no report or check needs any more.

What goes, after `retention:` in config.yaml (days):
- processed_messages (ids of handled messages, for redelivery checks): the router reads back two
  days at start and gateways redeliver within minutes; kept `processed_ids_days` (7).
- active_senders (one row per room, day and sender hash, for 人次): the weekly and monthly reports
  and `jingmin stats` over the last year need them; kept `active_senders_days` (400).
- outbox rows that are done (sent, merged, failed, uncertain): push summaries and double-fire
  checks look back hours, the console days; kept `outbox_days` (30).
- dialog_states whose dialog timed out `dialog_days` (2) ago and was never picked up again.

Counters (the statistics themselves) are small and kept for good. Rows go in chunks, each its
own short transaction, so a resident's write never waits behind one long delete.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, tuple_

from storage.models import ActiveSender, DialogState, OutboxMessage, ProcessedMessage

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

JOB_ID = "core:prune"
JOB_KIND = "core-prune"
CHUNK = 2000
DONE = ("sent", "merged", "failed", "uncertain")


@dataclass
class Pruned:
    processed_messages: int = 0
    active_senders: int = 0
    outbox: int = 0
    dialog_states: int = 0


async def schedule(app: App) -> None:
    """Add (or keep) the nightly job; called at every start."""
    from apscheduler.triggers.cron import CronTrigger  # imported here: not on the start-up path of bot.app

    at = app.config.retention.at
    trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=app.clock.tz)
    await app.scheduler.add(JOB_ID, JOB_KIND, {}, trigger, grace=timedelta(hours=12))


async def prune(app: App, now: datetime | None = None) -> Pruned:
    now = now or app.clock.now()
    keep = app.config.retention
    bot = app.name
    done = Pruned()
    done.processed_messages = await _delete_chunks(app, ProcessedMessage, (ProcessedMessage.bot, ProcessedMessage.id),
                                                   ProcessedMessage.bot == bot,
                                                   ProcessedMessage.received_at < now - timedelta(days=keep.processed_ids_days))
    first_day = (now - timedelta(days=keep.active_senders_days)).astimezone(app.clock.tz).date()
    done.active_senders = await _delete_chunks(
        app, ActiveSender, (ActiveSender.bot, ActiveSender.day, ActiveSender.room_id, ActiveSender.sender_hash),
        ActiveSender.bot == bot, ActiveSender.day < first_day)
    done.outbox = await _delete_chunks(app, OutboxMessage, (OutboxMessage.id,), OutboxMessage.bot == bot,
                                       OutboxMessage.status.in_(DONE),
                                       OutboxMessage.created_at < now - timedelta(days=keep.outbox_days))
    done.dialog_states = await _delete_chunks(app, DialogState, (DialogState.bot, DialogState.chat_key),
                                              DialogState.bot == bot,
                                              DialogState.expires_at < now - timedelta(days=keep.dialog_days))
    log.info("old rows pruned", extra=done.__dict__)
    return done


async def _delete_chunks(app: App, model, key: tuple, *where) -> int:
    """Delete the rows matching `where`, CHUNK at a time: select their keys, delete those."""
    total = 0
    while True:
        async with app.sessions.begin() as session:
            keys = (await session.execute(select(*key).where(*where).limit(CHUNK))).all()
            if not keys:
                return total
            column = tuple_(*key) if len(key) > 1 else key[0]
            values = [tuple(k) for k in keys] if len(key) > 1 else [k[0] for k in keys]
            await session.execute(delete(model).where(column.in_(values)).execution_options(synchronize_session=False))
        total += len(keys)
        await asyncio.sleep(0)  # let waiting handlers in between chunks


async def run_job(app: App, payload: dict, due: datetime) -> None:
    await prune(app)
