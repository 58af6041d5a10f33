"""storage.later: rows that wait for the commit (on PostgreSQL they go in as one statement) are
written when it commits, never when it rolls back, and come out as written."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import counters, db
from storage.later import NO_WAIT, insert_later
from storage.models import OutboxMessage, ProcessedMessage
from storage.upsert import plain_insert
from tests.conftest import sent_statements

AT = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.timezone.utc)
OUTBOX = plain_insert(OutboxMessage.__table__)
PROCESSED = plain_insert(ProcessedMessage.__table__)


@pytest.fixture
async def sessions(db_url):
    engine = db.create_engine(db_url)
    yield db.session_factory(engine)
    await engine.dispose()


def reply(body: str, **extra) -> dict:
    """An outbox row as a handler writes it, without the columns that have defaults."""
    return {"bot": "xingfuli", "room_id": "r1", "contact_id": None, "body": body, "priority": 2, "status": "pending",
            "not_before": AT, "created_at": AT, "source": "reply", **extra}


async def bodies(sessions) -> list[tuple]:
    async with sessions() as s:
        rows = await s.execute(select(OutboxMessage.body, OutboxMessage.kind, OutboxMessage.mention_ids,
                                      OutboxMessage.attempts).order_by(OutboxMessage.id))
        return [tuple(r) for r in rows]


async def test_rows_go_in_when_the_transaction_commits_with_their_columns_defaults(sessions):
    async with sessions() as s:
        await insert_later(s, OUTBOX, reply("您好，办居住证请带身份证", mention_ids=["wx_wang"]))
        await insert_later(s, OUTBOX, [reply("第二段"), reply("第三段")])  # joins the first one's rows
        await insert_later(s, PROCESSED, {"bot": "xingfuli", "id": "m1", "received_at": AT})
        assert db.has_work(s)
        await s.commit()
    assert await bodies(sessions) == [("您好，办居住证请带身份证", "text", ["wx_wang"], 0),
                                      ("第二段", "text", [], 0), ("第三段", "text", [], 0)]


async def test_rows_of_a_transaction_that_rolls_back_or_closes_are_never_written(sessions):
    async with sessions() as s:
        await insert_later(s, OUTBOX, reply("不该发出的一条"))
        await s.rollback()
        await insert_later(s, OUTBOX, reply("也不该发出"))
    async with sessions() as s:  # the same session object used again after a close writes only its own
        await insert_later(s, OUTBOX, reply("又一条"))
        await s.close()
        await insert_later(s, OUTBOX, reply("这一条才算"))
        await s.commit()
    assert [b for b, *_ in await bodies(sessions)] == ["这一条才算"]


async def test_a_count_bumped_twice_in_one_transaction_adds_up(sessions):
    # An upsert cannot touch one row twice in a statement: the second bump sends the first.
    key = counters.CountKey(AT.date(), counters.WHOLE_DAY, "r1", "resident", "consultations", "answered")
    async with sessions.begin() as s:
        await counters.bump_many(s, "xingfuli", {key: 1})
        await counters.bump_many(s, "xingfuli", {key: 2})
    async with sessions() as s:
        assert await counters.total(s, "xingfuli", "consultations") == 3


async def test_a_second_row_with_the_same_message_id_fails_the_whole_transaction(sessions):
    async with sessions.begin() as s:
        await insert_later(s, PROCESSED, {"bot": "xingfuli", "id": "m1", "received_at": AT})
    with pytest.raises(IntegrityError, match="processed_messages"):
        async with sessions.begin() as s:
            await insert_later(s, OUTBOX, reply("第二次处理的答复"))
            await insert_later(s, PROCESSED, {"bot": "xingfuli", "id": "m1", "received_at": AT})
    assert await bodies(sessions) == []  # the reply went nowhere either


async def test_what_residents_type_is_stored_as_typed(sessions):
    typed = ["'); DROP TABLE outbox; --", "$1 $2::text", "带\n换行\t和 \\ 反斜杠", "表情😀与\u200b零宽", ""]
    async with sessions.begin() as s:
        await insert_later(s, OUTBOX, [reply(t) for t in typed])
    assert [b for b, *_ in await bodies(sessions)] == typed


async def test_rows_written_now_and_rows_waiting_share_one_transaction(sessions):
    # A transaction that also reads or writes at once: the waiting rows go in inside it, before COMMIT.
    async with sessions() as s:
        await s.execute(select(func.count()).select_from(OutboxMessage))
        await insert_later(s, OUTBOX, reply("与读取同一事务"))
        await s.rollback()
    assert await bodies(sessions) == []
    async with sessions() as s:
        await s.execute(select(func.count()).select_from(OutboxMessage))
        await insert_later(s, OUTBOX, reply("与读取同一事务"))
        await s.commit()
    assert [b for b, *_ in await bodies(sessions)] == ["与读取同一事务"]


@pytest.mark.parametrize("setting, waits", [(None, False), (True, True), (False, False)])
async def test_routine_rows_wait_for_the_disk_only_where_the_config_says_every_commit_does(pg_migrated_url, setting,
                                                                                          waits):
    """database.synchronous_commit unset or false: routine rows (a reply, a message id) commit
    without waiting for PostgreSQL's disk; true: they wait as everything does. Either way they are written."""
    engine = db.create_engine(pg_migrated_url, synchronous_commit=setting)  # (SQLite never waits for the disk)
    sent = sent_statements(engine)
    sessions = db.session_factory(engine)
    try:
        async with sessions() as s:
            await insert_later(s, OUTBOX, reply("您好，办居住证请带身份证"), routine=True)
            await insert_later(s, PROCESSED, {"bot": "xingfuli", "id": "m1", "received_at": AT}, routine=True)
            await s.commit()
        async with sessions() as s:  # a row that is not routine: the whole statement waits
            await insert_later(s, OUTBOX, reply("民警通知"))
            await insert_later(s, PROCESSED, {"bot": "xingfuli", "id": "m2", "received_at": AT}, routine=True)
            await s.commit()
        [routine, mixed] = [t for t in sent if "INSERT INTO outbox" in t]
        assert (NO_WAIT in routine) is not waits and NO_WAIT not in mixed
        assert [b for b, *_ in await bodies(sessions)] == ["您好，办居住证请带身份证", "民警通知"]
    finally:
        await engine.dispose()
