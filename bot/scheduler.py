"""The scheduler: APScheduler's triggers on the App's own Clock, jobs kept in our database.

Why not APScheduler's own scheduler loop and SQLAlchemyJobStore (what this was before):
- its scheduler reads the time from the `datetime` module, so a moved clock meant patching that
  module for the whole process (one clock per process, not per App);
- its job store is synchronous: every add/pause ran on the event loop through a second (sync)
  driver, blocked the loop, and on SQLite met the handler's own write lock ("database is
  locked"), hence an after-commit workaround in every caller.

So the triggers stay APScheduler's (cron fields, DST, OrTrigger: the part worth having), and this
small loop decides when they fire. A job is a row of `scheduled_jobs`, written through the
caller's session when there is one, so it commits (or rolls back) with the rows it belongs to;
the in-memory copy the loop reads changes once that transaction has committed.

Semantics kept from APScheduler 3: stable ids (adding an id again replaces it; adding it with the
same trigger and payload keeps its next run, so a restart does not skip a run missed while the
bot was down), misfire grace (a run later than `grace` is skipped and logged), coalescing
(missed runs of one job run once, with the latest due time), one run of a job at a time, and
handlers that receive the due time (for idempotency keys).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage.db import after_commit, retrying
from storage.models import ScheduledJob
from storage.upsert import insert_for

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any], datetime], Awaitable[None]]
MissedHandler = Callable[[str, dict[str, Any], datetime], Awaitable[None]]
MAX_CATCH_UP = 10_000  # fire times walked for one job after a long stop (coalesced into one run)
LOOK_AGAIN_SECONDS = 60.0  # real time: the loop looks at the jobs at least this often
HOLD_AFTER_FAILURE = timedelta(seconds=30)  # a job whose bookkeeping failed (database down) waits


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    payload: dict[str, Any]
    trigger: BaseTrigger
    next_run: datetime | None  # None: paused
    grace: timedelta
    coalesce: bool = True
    revision: int = 0

    @property
    def trigger_state(self) -> bytes:
        return pickle.dumps(self.trigger)

    def same_work(self, kind: str, payload: dict[str, Any], trigger: BaseTrigger, grace: timedelta,
                  coalesce: bool) -> bool:
        return (self.kind, self.payload, self.trigger_state, self.grace, self.coalesce) == (
            kind, payload, pickle.dumps(trigger), grace, coalesce)


class Scheduler:
    def __init__(self, clock: Clock, sessions: async_sessionmaker[AsyncSession], bot_name: str) -> None:
        self.clock = clock
        self._sessions = sessions
        self._bot = bot_name
        self._jobs: dict[str, Job] = {}
        self._handlers: dict[str, JobHandler] = {}
        self._on_missed: MissedHandler | None = None
        self._inflight: dict[str, asyncio.Task] = {}
        self._held: dict[str, datetime] = {}  # job id -> not before (its bookkeeping failed)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task | None = None
        self.skipped: list[tuple[str, BaseException]] = []  # rows `load` could not read

    def register(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler

    def on_missed(self, handler: MissedHandler) -> None:
        self._on_missed = handler

    # ---- life cycle ------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the jobs kept in the database; nothing fires until `start`."""
        async with self._sessions() as session:
            rows = (await session.execute(select(ScheduledJob).where(ScheduledJob.bot == self._bot))).scalars()
            for row in rows:
                try:
                    self._jobs[row.id] = self._job_of(row)
                except Exception as error:  # a trigger class gone, a date past year 9999 ...
                    self.skipped.append((f"定时任务 {row.id}", error))  # the App logs and reports it

    def _job_of(self, row: ScheduledJob) -> Job:
        trigger = pickle.loads(row.trigger)
        next_run = row.next_run_at.astimezone(self.clock.tz) if row.next_run_at else None
        if next_run is not None:
            trigger.get_next_fire_time(None, next_run)  # a trigger that cannot compute fails here, not in the loop
        return Job(row.id, row.kind, dict(row.payload), trigger, next_run,
                   timedelta(seconds=row.grace_seconds), row.coalesce, row.revision)

    async def start(self) -> None:
        """Begin firing (after the plugins have re-added their jobs at start, so a run owed from
        while the bot was down is seen once, not once before and once after)."""
        self._loop_task = asyncio.create_task(self._loop(), name=f"scheduler:{self._bot}")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._inflight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
        self._inflight.clear()

    # ---- changing jobs (each through `session` when given: it commits with the caller) ----------

    async def add(self, job_id: str, kind: str, payload: dict[str, Any], trigger: BaseTrigger, *,
                  grace: timedelta = timedelta(hours=1), coalesce: bool = True,
                  session: AsyncSession | None = None) -> datetime | None:
        """Create or replace a job; returns its next run time (None: it will never run, or paused).

        The same job added again (same kind, payload, trigger, grace) is left as it is: a run it
        still owes, or its pause, stays."""
        old = self._current(job_id, session)
        payload = dict(payload)
        if old is not None and old.same_work(kind, payload, trigger, grace, coalesce):
            return old.next_run
        job = Job(job_id, kind, payload, trigger, trigger.get_next_fire_time(None, self.clock.now()), grace,
                  coalesce, (old.revision + 1) if old else 0)
        await self._save(job, session)
        return job.next_run

    async def add_once(self, job_id: str, kind: str, payload: dict[str, Any], run_at: datetime, *,
                       grace: timedelta = timedelta(hours=1), session: AsyncSession | None = None) -> datetime | None:
        trigger = DateTrigger(run_date=run_at, timezone=self.clock.tz)
        return await self.add(job_id, kind, payload, trigger, grace=grace, session=session)

    async def remove(self, job_id: str, *, session: AsyncSession | None = None) -> bool:
        if self._current(job_id, session) is None:
            return False
        self._pending(session)[job_id] = None

        async def change(s: AsyncSession) -> None:
            await s.execute(delete(ScheduledJob).where(ScheduledJob.bot == self._bot, ScheduledJob.id == job_id))

        await self._write(session, change, lambda: self._forget(job_id))
        return True

    async def pause(self, job_id: str, *, session: AsyncSession | None = None) -> bool:
        job = self._current(job_id, session)
        if job is None:
            return False
        await self._save(replace(job, next_run=None, revision=job.revision + 1), session)
        return True

    async def resume(self, job_id: str, *, session: AsyncSession | None = None) -> bool:
        job = self._current(job_id, session)
        if job is None:
            return False
        if job.next_run is None:
            nxt = job.trigger.get_next_fire_time(None, self.clock.now())
            await self._save(replace(job, next_run=nxt, revision=job.revision + 1), session)
        return True

    async def _save(self, job: Job, session: AsyncSession | None) -> None:
        self._pending(session)[job.id] = job
        row = dict(bot=self._bot, id=job.id, kind=job.kind, payload=job.payload, trigger=job.trigger_state,
                   next_run_at=job.next_run, grace_seconds=int(job.grace.total_seconds()), coalesce=job.coalesce,
                   revision=job.revision)

        async def change(s: AsyncSession) -> None:
            insert = insert_for(s)(ScheduledJob).values(**row)
            await s.execute(insert.on_conflict_do_update(
                index_elements=["bot", "id"], set_={k: v for k, v in row.items() if k not in ("bot", "id")}))

        await self._write(session, change, lambda: self._keep(job))

    async def _write(self, session: AsyncSession | None, change, apply: Callable[[], None]) -> None:
        if session is None:
            await retrying(self._sessions, change, "scheduler job write")
            apply()
        else:
            await change(session)
            after_commit(session, apply)

    @staticmethod
    def _pending(session: AsyncSession | None) -> dict[str, Job | None]:
        """Changes made in a session that has not committed yet (job id -> job, None: removed)."""
        return session.info.setdefault("scheduler_jobs", {}) if session is not None else {}

    def _current(self, job_id: str, session: AsyncSession | None) -> Job | None:
        pending = self._pending(session)
        return pending[job_id] if job_id in pending else self._jobs.get(job_id)

    def _keep(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._held.pop(job.id, None)
        self.wakeup()

    def _forget(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self.wakeup()

    # ---- reading ---------------------------------------------------------------------------

    def next_run(self, job_id: str) -> datetime | None:
        job = self._jobs.get(job_id)
        return job.next_run if job else None

    def payload(self, job_id: str) -> dict[str, Any] | None:
        """The payload a pending job will run with (None: no such job)."""
        job = self._jobs.get(job_id)
        return dict(job.payload) if job else None

    def job_ids(self, prefix: str = "") -> list[str]:
        return sorted(j for j in self._jobs if j.startswith(prefix))

    def next_due(self) -> datetime | None:
        times = [self._due_at(j) for j in self._jobs.values() if j.next_run and j.id not in self._inflight]
        return min(times) if times else None

    def _due_at(self, job: Job) -> datetime:
        held = self._held.get(job.id)
        return max(job.next_run, held) if held else job.next_run  # type: ignore[type-var,return-value]

    def wakeup(self) -> None:
        """Look for due jobs now (after a change, or after the clock was moved)."""
        self._wake.set()

    @property
    def busy(self) -> bool:
        return bool(self._inflight)

    # ---- running ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            try:
                await self._turn()
            except asyncio.CancelledError:
                raise
            except Exception:  # whatever failed, the loop lives on and looks again soon
                log.exception("scheduler loop error; looking again in a second")
                await asyncio.sleep(1)

    async def _turn(self) -> None:
        """Start the due jobs, then wait for a change, the next due time, or at most a minute of
        real time (a missed wake-up can delay a job by that much, never forever)."""
        self._wake.clear()
        now = self.clock.now()
        due = [j for j in self._jobs.values() if j.next_run and j.id not in self._inflight
               and self._due_at(j) <= now]
        for job in sorted(due, key=lambda j: j.next_run):
            self._inflight[job.id] = asyncio.create_task(self._fire(job), name=f"job:{job.id}")
        waiters = [asyncio.ensure_future(self._wake.wait()),
                   asyncio.ensure_future(asyncio.sleep(LOOK_AGAIN_SECONDS))]
        upcoming = self.next_due()
        if upcoming is not None:
            waiters.append(asyncio.ensure_future(self.clock.sleep_until(upcoming)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _fire(self, job: Job) -> None:
        try:
            now = self.clock.now()
            run_times = self._run_times(job, now)
            following = job.trigger.get_next_fire_time(run_times[-1], now)
            # Moved on (or gone) before running, as APScheduler does: a crash mid-run never
            # repeats it. Only if the job is still the revision that fell due: one removed,
            # paused or replaced meanwhile does not run.
            if not await self._advance(job, following):
                return
            for due in run_times[-1:] if job.coalesce else run_times:
                await self._run_one(job, due)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job bookkeeping failed; trying again later", extra={"job": job.id})
            self._held[job.id] = self.clock.now() + HOLD_AFTER_FAILURE
        finally:
            self._inflight.pop(job.id, None)
            self.wakeup()

    async def _advance(self, job: Job, following: datetime | None) -> bool:
        where = (ScheduledJob.bot == self._bot, ScheduledJob.id == job.id, ScheduledJob.revision == job.revision)

        async def move_on(session: AsyncSession):
            if following is None:
                return await session.execute(delete(ScheduledJob).where(*where))
            return await session.execute(update(ScheduledJob).where(*where).values(
                next_run_at=following, revision=job.revision + 1))

        result = await retrying(self._sessions, move_on, "scheduler job advance")
        if result.rowcount != 1:
            return False
        if self._jobs.get(job.id) == job:
            if following is None:
                del self._jobs[job.id]
            else:
                self._jobs[job.id] = replace(job, next_run=following, revision=job.revision + 1)
        return True

    def _run_times(self, job: Job, now: datetime) -> list[datetime]:
        times: list[datetime] = []
        at = job.next_run
        while at is not None and at <= now and len(times) < MAX_CATCH_UP:
            times.append(at)
            at = job.trigger.get_next_fire_time(at, now)
        return times

    async def _run_one(self, job: Job, due: datetime) -> None:
        late = self.clock.now() - due
        if late > job.grace:
            log.warning("job missed", extra={"job": job.id, "due": due.isoformat(), "late_s": int(late.total_seconds())})
            if self._on_missed:
                await self._on_missed(job.kind, job.payload, due)
            return
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("no handler for job kind", extra={"job": job.id, "kind": job.kind})
            return
        try:
            await handler(job.payload, due)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job failed", extra={"job": job.id, "kind": job.kind})
