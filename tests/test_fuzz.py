"""Property-based fuzz of the message path and of every command's arguments (hypothesis).

The property: whatever people type (huge texts, control and zero-width characters, lone
surrogates, full-width and superscript digits, absurd dates and numbers), no handler fails: the
bot never sends its "系统刚才出了点问题" apology and logs no handler or after-commit failure. A
bad argument gets a polite usage or refusal line instead. And the bot still starts afterwards.

One bot (SQLite, fake clock) serves all examples of a test: starting one per example would spend
the test's time on start-up. The examples are many small conversations in the same community.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, MessageKind, RoomInvitation, RoomRenamed,
)
from bot.router import TEXTS
from tests.conftest import make_config

EXAMPLES = int(os.environ.get("JINGMIN_FUZZ_EXAMPLES", "100"))  # CI's; 1,500 passed by hand
FAILURE_LINES = ("handler failed", "change after commit failed", "could not even apologise",
                 "event handling failed", "job failed", "job bookkeeping failed", "background task failed")
PEOPLE = ["张警官", "小刘", "物业李经理", "赵楼长", "王阿姨"]
ROOMS = [None, "幸福里居民群", "幸福里警务工作群", "幸福里3号楼群"]

# The pieces people (and broken clients) put in arguments.
NASTY = st.sampled_from([
    "0", "1", "-1", "²", "٣", "１２", "9" * 30, "99999999999999999999", "1e9", "½", "Ⅻ",
    "9999-12-31", "0000-00-00", "2026-02-30", "10000-01-01", "0001-01-01", "2099-12-31 23:59",
    "25:99", "23:59", "24:00", "00:00", "99点", "下午13点", "每周八", "每月0号", "每月99号", "明天",
    "每天", "每周一", "工作日", "节假日不发", "全部", "居民群", "幸福里居民群", "反诈", "公告",
    "\u200b", "\u202e", "\ufeff", "\x00", "\x1b[31m", "\ud800", "\udfff", "🙂", "@张警官\u2005",
    "'; DROP TABLE contacts; --", "%s%s%n", "{0}{name}", "\\", "\n", "　", "13700001111",
    "110101199003071234", "x" * 300,
])
WORDS = st.one_of(NASTY, NASTY, st.text(min_size=0, max_size=12))  # (the known-bad pieces two times in three)
# Every command and subcommand meets each of these as its first argument (not left to chance).
FIRST_ARGUMENTS = ["²", "9" * 30, "9999-12-31 23:59", "\ud800", "-1", "１２ x" * 3]
ARGS = st.lists(WORDS, min_size=0, max_size=6).map(" ".join)


def _commands(app) -> list[tuple[str, list[str]]]:
    """Every command with its subcommand words (and '' for the bare command)."""
    return [(spec.name, ["", *[s.name for s in spec.subcommands]]) for spec in app.registry.commands]


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Any error of the bot's own counts; the named lines are the ones seen before.
        if record.name.split(".")[0] in ("bot", "handlers", "storage") or \
                any(line in record.getMessage() for line in FAILURE_LINES):
            self.lines.append(f"{record.getMessage()}: {record.exc_info[1]!r}" if record.exc_info else
                              record.getMessage())


@pytest.fixture
def fuzzed_bot(tmp_path):
    """A started bot on a fresh SQLite file (JINGMIN_FUZZ_DB: another database URL), its event
    loop, and the failure log."""
    from datetime import datetime

    config = make_config(os.environ.get("JINGMIN_FUZZ_DB") or f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}")

    bot = Harness(config, clock=FakeClock(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(bot.start())
    failures = Failures()
    logging.getLogger().addHandler(failures)
    yield bot, loop, failures
    logging.getLogger().removeHandler(failures)
    loop.run_until_complete(bot.stop())
    loop.close()


def _check(bot: Harness, failures: Failures, what: str) -> None:
    apologies = [r for r in bot.take() if r.out.text == TEXTS["error"]]
    assert not failures.lines, f"{what!r}: {failures.lines[:3]}"
    assert not apologies, f"{what!r} got the apology"


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_every_command_and_subcommand_with_each_known_bad_first_argument(fuzzed_bot):
    bot, loop, failures = fuzzed_bot
    for spec in bot.app.registry.commands:
        room = None if spec.where != "group" else "幸福里警务工作群"
        for sub in ["", *[s.name for s in spec.subcommands]]:
            for arg in FIRST_ARGUMENTS:
                text = f"/{spec.name} {sub} {arg}".replace("  ", " ")
                loop.run_until_complete(bot.say("张警官", text, room))
                _check(bot, failures, text)


@FUZZ
@given(data=st.data())
def test_every_command_with_absurd_arguments_gets_an_answer_not_a_failure(fuzzed_bot, data):
    bot, loop, failures = fuzzed_bot
    name, subs = data.draw(st.sampled_from(_commands(bot.app)), label="command")
    sub = data.draw(st.sampled_from(subs), label="subcommand")
    text = f"/{name} {sub} {data.draw(ARGS, label='args')}".replace("  ", " ")
    sender = data.draw(st.sampled_from(PEOPLE), label="sender")
    room = data.draw(st.sampled_from(ROOMS), label="room")
    loop.run_until_complete(bot.say(sender, text, room))
    _check(bot, failures, text)


@FUZZ
@given(text=st.one_of(ARGS, st.text(max_size=200), st.text(min_size=4000, max_size=9000)),
       sender=st.sampled_from(PEOPLE), room=st.sampled_from(ROOMS))
def test_any_message_from_anyone_is_handled_without_a_failure(fuzzed_bot, text, sender, room):
    bot, loop, failures = fuzzed_bot
    loop.run_until_complete(bot.say(sender, text, room))
    _check(bot, failures, text)


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sender_id=st.text(min_size=1, max_size=40), name=st.text(max_size=300),
       room_id=st.one_of(st.none(), st.text(min_size=1, max_size=40)), text=WORDS)
def test_identifiers_and_names_that_cannot_be_stored_are_turned_away_not_failed_on(
        fuzzed_bot, sender_id, name, room_id, text):
    """Ids with lone surrogates, names longer than any column: the message is dropped (ids) or
    the name cut (names); nothing fails and later messages are still counted."""
    bot, loop, failures = fuzzed_bot
    msg = IncomingMessage(id=f"f{id(text)}{sender_id!r}", sender_id=sender_id, sender_name=name, text=text or "你好",
                          at=bot.clock.now(), room_id=room_id, room_name=name or None, kind=MessageKind.TEXT)
    loop.run_until_complete(bot.transport.deliver(msg))
    loop.run_until_complete(bot.settle())
    _check(bot, failures, f"{sender_id!r}/{name!r}")


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ident=st.text(min_size=1, max_size=40), name=st.one_of(NASTY, st.text(max_size=300)),
       kind=st.sampled_from(["joined", "left", "renamed", "friend", "invitation"]))
def test_group_and_friend_events_with_absurd_names_and_ids_are_handled_without_a_failure(
        fuzzed_bot, ident, name, kind):
    bot, loop, failures = fuzzed_bot
    now, room = bot.clock.now(), bot.room_id("幸福里3号楼群")
    event = {
        "joined": lambda: MemberJoined(room, "幸福里3号楼群", (ident, "wx_ok"), (name, "小新"), None, now),
        "left": lambda: MemberLeft(room, (ident,), now),
        "renamed": lambda: RoomRenamed(room, name, now),
        "friend": lambda: FriendRequest(ident, name, name, now, request_id=ident),
        "invitation": lambda: RoomInvitation(ident, name, "wx_zhang", now),
    }[kind]()
    loop.run_until_complete(bot.transport.deliver(event))
    loop.run_until_complete(bot.advance(timedelta(minutes=3)))  # queued accepts and welcomes run
    _check(bot, failures, f"{kind} {ident!r} {name!r}")


def test_after_the_fuzz_the_bot_still_starts_and_a_far_date_is_refused(fuzzed_bot):
    bot, loop, failures = fuzzed_bot
    loop.run_until_complete(bot.say("张警官", "/定时 9999-12-31 23:59 公告 全部 x", "幸福里警务工作群"))
    reply = bot.texts_to("幸福里警务工作群")[-1]
    assert "抱歉" in reply and TEXTS["error"] != reply
    loop.run_until_complete(bot.restart())
    loop.run_until_complete(bot.advance(timedelta(days=1)))
    _check(bot, failures, "restart")


async def test_a_stored_schedule_and_job_that_cannot_be_loaded_are_skipped_and_reported(tmp_path):
    """Rows written before the edge refused such dates (or by another version): start skips
    them with one line each and tells the officers; everything else runs."""
    from datetime import datetime

    from sqlalchemy import delete, update

    from storage.models import ScheduledJob
    from storage.pushes import PushScheduleRow

    config = make_config(f"sqlite+aiosqlite:///{tmp_path / 'bad.db'}")
    bot = Harness(config, clock=FakeClock(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)))
    await bot.start()
    await bot.say("张警官", "/定时 明天 09:00 公告 全部 明天停水", "幸福里警务工作群")
    async with bot.app.sessions.begin() as s:
        await s.execute(update(PushScheduleRow).where(PushScheduleRow.source == "chat")
                        .values(when="9999-12-31 23:59"))
        await s.execute(delete(ScheduledJob).where(ScheduledJob.id == "push:1"))  # start makes it again
        s.add(ScheduledJob(bot=bot.app.name, id="broken", kind="push", payload={}, trigger=b"not a pickle",
                           next_run_at=None, grace_seconds=60, coalesce=True, revision=0))
    bot.take()
    await bot.restart()  # does not raise
    note = [t for t in bot.texts_to("张警官") if "读不出来" in t]
    assert len(note) == 1 and "定时任务 broken" in note[0] and "9999-12-31" in note[0], note
    await bot.advance(timedelta(weeks=1))  # the configured weekly pushes still go out
    assert any("反诈" in t for t in bot.texts_to("幸福里居民群"))
    await bot.stop()
