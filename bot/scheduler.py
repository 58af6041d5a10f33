"""A small facade over APScheduler 3 (AsyncIOScheduler + SQLAlchemyJobStore in our database).

Why a facade: every job gets a stable id and `replace_existing=True` (otherwise each restart adds
a copy), an explicit misfire grace and coalescing, and runs against the injected Clock, so tests
and the simulator move time instead of sleeping. Job handlers are registered by kind
(`plugin.job("push")`) and receive `(app, payload, due)`: the due time is what idempotency keys
are built from.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

import apscheduler.schedulers.base as aps_base
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any], datetime], Awaitable[None]]
MissedHandler = Callable[[str, dict[str, Any], datetime], Awaitable[None]]


class _ClockDatetime(datetime):
    """Stands in for `datetime` inside APScheduler's scheduler module so it asks our Clock."""

    clock: Clock | None = None

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        if cls.clock is None:
            return datetime.now(tz)
        return cls.clock.now().astimezone(tz)


aps_base.datetime = _ClockDatetime  # one process runs one clock; tests set it per bot


def job_entry(kind: str, payload: dict[str, Any]) -> None:
    """The job store pickles a reference to this; _ClockExecutor dispatches by kind instead."""


class _ClockExecutor(BaseExecutor):
    def __init__(self, facade: Scheduler) -> None:
        super().__init__()
        self._facade = facade

    def _do_submit_job(self, job, run_times) -> None:
        task = asyncio.get_running_loop().create_task(self._facade._run(job, run_times))
        self._facade._inflight.add(task)

        def done(t: asyncio.Task) -> None:
            self._facade._inflight.discard(t)
            if t.cancelled() or t.exception() is None:
                self._run_job_success(job.id, [])
            else:
                exc = t.exception()
                self._run_job_error(job.id, exc, exc.__traceback__)

        task.add_done_callback(done)


class Scheduler:
    def __init__(self, clock: Clock, sync_db_url: str, bot_name: str) -> None:
        self.clock = clock
        self._handlers: dict[str, JobHandler] = {}
        self._on_missed: MissedHandler | None = None
        self._inflight: set[asyncio.Task] = set()
        # Two bots on one database must never share jobs: one table per bot.
        store = SQLAlchemyJobStore(url=sync_db_url, tablename=f"apscheduler_jobs_{bot_name}")
        self._aps = AsyncIOScheduler(
            jobstores={"default": store},
            executors={"default": _ClockExecutor(self)},
            timezone=clock.tz,
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    def register(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler

    def on_missed(self, handler: MissedHandler) -> None:
        self._on_missed = handler

    async def start(self) -> None:
        _ClockDatetime.clock = self.clock
        self._aps.start()

    async def stop(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)

    def add(self, job_id: str, kind: str, payload: dict[str, Any], trigger: BaseTrigger, *,
            grace: timedelta = timedelta(hours=1), coalesce: bool = True) -> datetime | None:
        """Create or replace a job; returns its next run time (None: it will never run)."""
        job = self._aps.add_job(
            job_entry, trigger=trigger, args=(kind, payload), id=job_id, name=kind,
            replace_existing=True, misfire_grace_time=int(grace.total_seconds()) or 1,
            coalesce=coalesce,
        )
        self._aps.wakeup()
        return job.next_run_time

    def add_once(self, job_id: str, kind: str, payload: dict[str, Any], run_at: datetime, *,
                 grace: timedelta = timedelta(hours=1)) -> datetime | None:
        return self.add(job_id, kind, payload, DateTrigger(run_date=run_at), grace=grace)

    def remove(self, job_id: str) -> bool:
        try:
            self._aps.remove_job(job_id)
            return True
        except JobLookupError:
            return False

    def pause(self, job_id: str) -> bool:
        return self._modify(self._aps.pause_job, job_id)

    def resume(self, job_id: str) -> bool:
        return self._modify(self._aps.resume_job, job_id)

    def _modify(self, action, job_id: str) -> bool:
        try:
            action(job_id)
            return True
        except JobLookupError:
            return False

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return job.next_run_time if job else None

    def payload(self, job_id: str) -> dict[str, Any] | None:
        """The payload a pending job will run with (None: no such job)."""
        job = self._aps.get_job(job_id)
        return job.args[1] if job else None

    def job_ids(self, prefix: str = "") -> list[str]:
        return [j.id for j in self._aps.get_jobs() if j.id.startswith(prefix)]

    def next_due(self) -> datetime | None:
        times = [j.next_run_time for j in self._aps.get_jobs() if j.next_run_time]
        return min(times) if times else None

    def wakeup(self) -> None:
        """Look for due jobs now (the simulator calls this after moving the clock)."""
        if self._aps.running:
            self._aps.wakeup()

    @property
    def busy(self) -> bool:
        return bool(self._inflight)

    async def _run(self, job, run_times: list[datetime]) -> None:
        kind, payload = job.args
        for due in run_times:
            late = self.clock.now() - due
            if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
                log.warning("job missed", extra={"job": job.id, "due": due.isoformat(), "late_s": int(late.total_seconds())})
                if self._on_missed:
                    await self._on_missed(kind, payload, due)
                continue
            handler = self._handlers.get(kind)
            if handler is None:
                log.error("no handler for job kind", extra={"job": job.id, "kind": kind})
                continue
            try:
                await handler(payload, due)
            except Exception:
                log.exception("job failed", extra={"job": job.id, "kind": kind})
