"""What residents' chatter costs: a message a handler only looked at and left touches no database
row on its own; a question the guide answers is written in a handful of statements."""

from __future__ import annotations

import re

from sqlalchemy import event, func, select

from storage.later import NO_WAIT
from storage.models import ProcessedMessage
from storage.understanding import Consultation, Suggestion
from tests.conftest import sent_statements


def statements(app) -> list[str]:
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: seen.append(" ".join(statement.split()[:3])))
    return seen


def inserts(app) -> list[list[str]]:
    """Each statement that inserts, as the tables it inserts into (several: storage.later's WITH)."""
    seen: list[list[str]] = []

    def note(conn, cursor, statement, *a) -> None:
        tables = re.findall(r"\bINSERT INTO (\w+)", statement)
        if tables:
            seen.append(tables)
    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    return seen


class CountingSessions:
    """app.sessions, counting the sessions opened through it."""

    def __init__(self, real) -> None:
        self.real, self.opened = real, 0

    def __call__(self, *a, **kw):
        self.opened += 1
        return self.real(*a, **kw)

    def begin(self):
        self.opened += 1
        return self.real.begin()


async def test_a_message_a_handler_looks_at_and_leaves_costs_no_transaction(bot, monkeypatch):
    seen = statements(bot.app)
    sessions = CountingSessions(bot.app.sessions)
    monkeypatch.setattr(bot.app, "sessions", sessions)
    # Read as a complaint, said in passing in a group, below the group's bar: the dispute and
    # suggestion handlers look and decline. (The reading is fixed here: this is about the router's
    # cost, not about what the model of the day makes of these words.)
    from handlers.intents import Classification
    readings = {"小区门口的路灯坏了": Classification("suggestion", 0.45), "楼下有人乱停车": Classification("dispute", 0.45)}
    monkeypatch.setattr(bot.app, "classify", lambda text: readings.get(text) or Classification("other", 0.9))
    await bot.say("王阿姨", "小区门口的路灯坏了", room="幸福里居民群", settle=False, message_id="look-1")
    await bot.say("陈大爷", "楼下有人乱停车", room="幸福里居民群", settle=False, message_id="look-2")
    assert bot.take() == []
    assert seen == [] and sessions.opened == 0  # the ids go in with the next tally flush
    await bot.app.tally.flush()
    async with bot.app.sessions() as s:
        ids = set((await s.execute(select(ProcessedMessage.id))).scalars())
    assert {"look-1", "look-2"} <= ids  # a redelivery, even after a restart, is still caught


async def test_an_answered_question_is_a_few_statements(bot):
    seen = inserts(bot.app)
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", settle=False)
    # the consultation, its reply, its counts, its message id: on PostgreSQL in one statement
    # (four round trips fewer, and no BEGIN or COMMIT), on SQLite one each (no round trips there)
    tables = ["consultations", "outbox", "counters", "processed_messages"]
    assert seen == ([tables] if bot.app.engine.dialect.name == "postgresql" else [[t] for t in tables]), seen
    await bot.settle()
    assert "租房合同" in bot.texts_to("幸福里居民群")[-1]


async def test_a_suggestion_is_a_few_statements_and_the_officer_gets_its_number(bot):
    seen, read = inserts(bot.app), statements(bot.app)
    await bot.say("王阿姨", "建议：小区东门晚上太黑了，加个路灯吧", room="幸福里居民群", settle=False)
    await bot.say("陈大爷", "建议：车棚装个充电桩吧", room="幸福里居民群", settle=False)
    # each: the suggestion, the thanks and the notice, its count and its message id; nothing
    # read back. On PostgreSQL the suggestion's number comes from its sequence first, and its row
    # goes in with the rest, in one statement; on SQLite one insert each, the suggestion first.
    # (The tally writes meanwhile: only these tables are looked at.)
    tables = ["suggestions", "outbox", "counters", "processed_messages"]
    ours = [t for t in seen if set(t) <= set(tables)]
    postgresql = bot.app.engine.dialect.name == "postgresql"
    each = [tables] if postgresql else [["suggestions"], ["outbox"], ["outbox"], ["counters"], ["processed_messages"]]
    assert ours == each + each, seen
    assert not [s for s in read if s.startswith("SELECT suggestions")], read
    assert len([s for s in read if s.startswith("SELECT nextval")]) == (2 if postgresql else 0), read
    await bot.settle()
    notices = bot.texts_to("张警官")
    assert "#1" in notices[0] and "路灯" in notices[0] and "#2" in notices[1] and "充电桩" in notices[1]


async def test_on_postgresql_an_answer_does_not_wait_for_the_disk_and_a_suggestion_does(pg_bot):
    """What a server crash may lose (a count, the reply to a question the guide answered: the
    resident asks again) commits as SQLite commits everything, without waiting for the server's
    disk; a suggestion, whose number the resident and the officer are told, waits, and so does a
    scam warning."""
    bot = pg_bot  # (on SQLite no commit waits for the disk: WAL, synchronous NORMAL)
    sent = sent_statements(bot.app.engine)
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", settle=False)
    await bot.say("陈大爷", "建议：车棚装个充电桩吧", room="幸福里居民群", settle=False)
    [answered] = [s for s in sent if "INSERT INTO consultations" in s]
    [suggested] = [s for s in sent if "INSERT INTO suggestions" in s]
    assert answered.endswith(NO_WAIT) and "INSERT INTO outbox" in answered, answered
    assert NO_WAIT not in suggested and "INSERT INTO outbox" in suggested, suggested
    sent.clear()  # a scam warning, even a private one, is no routine reply
    await bot.say("王阿姨", "刚才有人打电话说是公安局的，说我涉嫌洗钱，要我把钱转到安全账户", settle=False)
    [warned] = [s for s in sent if "INSERT INTO outbox" in s]
    assert NO_WAIT not in warned, warned
    await bot.settle()
    assert "租房合同" in bot.texts_to("幸福里居民群")[-2]
    assert "充电桩" in bot.texts_to("张警官")[-1]
    assert "诈骗" in bot.texts_to("王阿姨")[-1]
    async with bot.app.sessions() as s:  # both written, whichever way they committed
        assert (await s.execute(select(func.count()).select_from(Consultation))).scalar_one() == 1
        assert (await s.execute(select(func.count()).select_from(Suggestion))).scalar_one() == 1
