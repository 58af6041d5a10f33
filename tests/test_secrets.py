"""Errors that keep secrets: a database error in the middle of a confidential tip puts neither the
tip's text nor the reporter's contact id into the log, the apology forgets its recipient once
sent, and no plain-text prefix of a tip is stored anywhere."""

from __future__ import annotations

import io
import logging

from sqlalchemy import select, text

from bot.logs import MaskingJsonFormatter, redact
from bot.router import TEXTS
from storage.models import OutboxMessage
from storage.tips import Tip
from tests.test_tips import REPORTER, REPORTER_ID, bot, dump, report  # noqa: F401  (bot is a fixture)

BODY = "5号楼地下室晚上经常有人聚在一起吸毒，电话13812345678的人在卖"
SECRETS = (REPORTER_ID, "地下室", "吸毒", "13812345678", "5号楼")


async def _make_tip_writes_fail(bot) -> None:
    """The next tip row cannot be written: a check that fails with PostgreSQL's "Failing row
    contains (...)" detail (every column of the row), a trigger on SQLite."""
    async with bot.app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE tips ADD CONSTRAINT tips_fail CHECK (id < 0) NOT VALID"))
        else:
            await conn.execute(text("CREATE TRIGGER tips_fail BEFORE INSERT ON tips "
                                    "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))


def _logged_as_json():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingJsonFormatter())
    logging.getLogger().addHandler(handler)
    return stream, handler


async def test_a_database_error_during_a_confidential_tip_leaks_nothing(bot):
    await _make_tip_writes_fail(bot)
    stream, handler = _logged_as_json()
    try:
        for said in ("举报", "2", BODY, "跳过", "保密", "确认"):
            await bot.say(REPORTER, said)
    finally:
        logging.getLogger().removeHandler(handler)
    log_text = stream.getvalue()
    assert "handler failed" in log_text  # the failure is on record ...
    for secret in SECRETS:
        assert secret not in log_text, secret  # ... without the tip or who sent it
    assert bot.texts_to(REPORTER)[-1] == TEXTS["error"]  # the reporter heard it did not work
    async with bot.app.sessions() as s:
        apology = (await s.execute(select(OutboxMessage).where(OutboxMessage.status == "sent")
                                   .order_by(OutboxMessage.id.desc()))).scalars().first()
        assert (apology.contact_id, apology.body) == (None, "")  # sent, then forgotten
        assert (await s.execute(select(Tip))).scalars().all() == []
        outbox = " ".join(f"{r.contact_id} {r.body}" for r in (await s.execute(select(OutboxMessage))).scalars())
    for secret in SECRETS:  # (the unfinished dialog keeps its answers, as any dialog does, until it ends)
        assert secret not in outbox, secret


async def test_a_stored_tip_has_no_plain_text_summary_but_officers_still_see_one(bot):
    await report(bot)
    async with bot.app.sessions() as s:
        tip = (await s.execute(select(Tip))).scalar_one()
    assert tip.summary == ""
    dumped = await dump(bot)
    assert "地下室" not in dumped and "吸毒" not in dumped
    notified = [t for t in bot.texts_to("张警官") if t.startswith("新线索")]
    assert notified and "5号楼地下室" in notified[-1] and "138****5678" in notified[-1]
    await bot.say("张警官", "/线索")
    assert "5号楼地下室" in bot.texts_to("张警官")[-1]


def test_redaction_drops_what_database_errors_quote_of_a_row():
    pg = ('(sqlalchemy.dialects.postgresql.asyncpg.IntegrityError) <class \'asyncpg.exceptions.CheckViolationError\'>: '
          'new row for relation "tips" violates check constraint "x"\nDETAIL:  Failing row contains (1, xingfuli, 吸毒).\n'
          '[SQL: INSERT INTO tips (bot, body) VALUES ($1, $2)]\n[parameters: (\'xingfuli\', \'地下室 wxid_a\')]\n'
          '(Background on this error at: https://sqlalche.me/e/20/gkpj)')
    out = redact(pg)
    assert "吸毒" not in out and "地下室" not in out and "wxid_a" not in out
    assert "INSERT INTO tips" in out and "violates check constraint" in out
    dup = 'duplicate key value violates unique constraint "contacts_pkey"\nDETAIL:  Key (bot, id)=(x, wxid_secret) already exists.'
    assert "wxid_secret" not in redact(dup) and "duplicate key" in redact(dup)
    assert "wxid_secret" not in redact("Key (bot, id)=(x, wxid_secret) already exists.")
