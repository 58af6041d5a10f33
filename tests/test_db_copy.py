"""`jingmin db copy --to URL`: a community moves from its SQLite file into the district database.

Given a community that lived on SQLite (chat, a tip with an officer's reply, a booking) and a
district database where another community already holds the same numbers, the copy prints row
counts and matching checksums, the community's bot then runs on the district database as before
(the reporter's receipt still shows the reply), only its own rows moved, and a second copy is
refused in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import SHANGHAI, FakeClock
from bot.config import parse_config
from bot.harness import Harness
from storage import counters, db
from storage.appointments import Booking
from storage.models import Counter
from storage.tips import Tip
from tests.conftest import sample_raw
from tests.test_appointments import book
from tests.test_tips import REPORTER, REPORTER_ID, report

NEXT_DAY = datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)  # the move happens after a day of use
TIPS = {"routes": {"毒品": {"unit": "禁毒"}, "其他": {"unit": "社区民警"}}}


def community_raw(url: str, data_dir: Path, bot: str = "xingfuli") -> dict:
    raw = sample_raw()
    raw["bot"]["name"] = bot
    raw["database"] = {"url": url}
    raw["data_dir"] = str(data_dir)
    raw["tips"] = TIPS
    return raw


@pytest.fixture
def attachments(tmp_path, monkeypatch):
    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")


async def live_a_while(raw: dict) -> str:
    """Residents chat, one files a tip the officer answers, another books: returns the receipt."""
    harness = Harness(parse_config(raw, env={}))
    harness.names[REPORTER] = REPORTER_ID
    await harness.start()
    try:
        for text in ("大家早上好", "今天天气不错", "楼下快递放哪了"):
            await harness.say("王阿姨", text, room="幸福里居民群")
        receipt = await report(harness)
        tip = re.search(r"#(\d+)", harness.texts_to("张警官")[-1]).group(1)
        await harness.say("张警官", f"/线索 回复 {tip} 已收到，正在核实")
        await book(harness, "陈大爷")
    finally:
        await harness.stop()
    return receipt


def copy(config_path: Path, to: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["db", "copy", "--to", to, "--config", str(config_path)])
    return code, out.getvalue(), err.getvalue()


async def count(url: str, model, bot: str) -> int:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(model).where(model.bot == bot))).scalar_one()
    finally:
        await engine.dispose()


async def test_a_community_moves_into_the_district_database_without_loss(tmp_path, db_url, attachments):
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'community' / 'jingmin.db'}"
    (tmp_path / "community").mkdir()
    raw = community_raw(source_url, tmp_path / "community")
    receipt = await live_a_while(raw)
    # A stranger's rows in the same file (a renamed bot, a test): they stay where they are.
    engine = db.create_engine(source_url)
    async with db.session_factory(engine).begin() as session:
        await counters.bump(session, "stranger", Harness(parse_config(raw, env={})).clock.now(), "messages")
    await engine.dispose()
    # The district already holds another community, with tip #1 and booking #1 of its own.
    await live_a_while(community_raw(db_url, tmp_path / "other", bot="chunhui"))
    config_path = tmp_path / "community.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    code, out, err = await asyncio.to_thread(copy, config_path, db_url)

    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(("bot ", "next"))}
    assert re.search(r"^tips\s+1 rows  source (\w+)  target \1  ok  \(renumbered", lines["tips"]), lines["tips"]
    assert re.search(r"^tip_replies\s+1 rows  source (\w+)  target \1  ok", lines["tip_replies"])
    assert re.search(r"^appointment_bookings\s+1 rows .* ok  \(renumbered", lines["appointment_bookings"])
    assert re.search(r"^counters\s+\d+ rows  source (\w+)  target \1  ok$", lines["counters"])
    assert re.search(r"^console_accounts\s+not copied", out, re.M)
    final = next(line for line in out.splitlines() if line.startswith("bot xingfuli:"))
    assert re.search(r"checksum source (\w+) target \1 ok$", final), final
    assert await count(db_url, Counter, "stranger") == 0
    assert await count(db_url, Tip, "xingfuli") == 1 and await count(db_url, Tip, "chunhui") == 1
    assert await count(db_url, Booking, "xingfuli") == 1

    # The community's bot now runs on the district database and finds everything.
    raw["database"] = {"url": db_url}
    moved = Harness(parse_config(raw, env={}), clock=FakeClock(NEXT_DAY))
    moved.names[REPORTER] = REPORTER_ID
    await moved.start()
    try:
        await moved.say(REPORTER, f"查询 {receipt}", message_id="after-move-1")  # new ids: the old ones were seen
        assert "已收到，正在核实" in moved.texts_to(REPORTER)[-1]
        await moved.say("张警官", "/线索", message_id="after-move-2")
        assert "#2" in moved.texts_to("张警官")[-1]  # renumbered: the district's #1 is 春晖's
    finally:
        await moved.stop()

    code, out, err = await asyncio.to_thread(copy, config_path, db_url)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("error: the target already has rows of bot 'xingfuli' (") and "nothing copied" in err
    assert await count(db_url, Tip, "xingfuli") == 1


async def test_into_an_empty_database_the_numbers_stay(tmp_path, db_url, attachments):
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'community' / 'jingmin.db'}"
    (tmp_path / "community").mkdir()
    raw = community_raw(source_url, tmp_path / "community")
    await live_a_while(raw)
    config_path = tmp_path / "community.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    code, out, err = await asyncio.to_thread(copy, config_path, db_url)

    assert code == 0, err
    assert "renumbered" not in out
    engine = db.create_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(select(Tip.id))).scalars().all() == [1]
    finally:
        await engine.dispose()
    # The next tip filed on the district database gets a number of its own, not #1 again.
    raw["database"] = {"url": db_url}
    moved = Harness(parse_config(raw, env={}), clock=FakeClock(NEXT_DAY))
    moved.names[REPORTER] = REPORTER_ID
    moved._ids = itertools.count(1000)  # message ids the copied processed_messages do not hold
    await moved.start()
    try:
        await report(moved)
        assert "#2" in moved.texts_to("张警官")[-1]
    finally:
        await moved.stop()


def test_a_bad_target_url_is_one_line(tmp_path):
    raw = community_raw(f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}", tmp_path)
    config_path = tmp_path / "community.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    for bad in ("not a url", "postgresql://postgres@127.0.0.1/district"):  # the second: no async driver
        code, out, err = copy(config_path, bad)
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: --to: "), err
    code, out, err = copy(config_path, raw["database"]["url"])
    assert (code, err) == (2, "error: --to is this community's own database\n")


async def test_the_copy_waits_for_the_bot_to_be_stopped(tmp_path, db_url, attachments):
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'community' / 'jingmin.db'}"
    (tmp_path / "community").mkdir()
    raw = community_raw(source_url, tmp_path / "community")
    config_path = tmp_path / "community.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    running = Harness(parse_config(raw, env={}))
    await running.start()
    try:
        code, out, err = await asyncio.to_thread(copy, config_path, db_url)
    finally:
        await running.stop()
    assert code == 1 and out == ""
    assert err.startswith("error: bot 'xingfuli' is already running on ") and len(err.splitlines()) == 1
    code, out, err = await asyncio.to_thread(copy, config_path, db_url)  # stopped now: it goes through
    assert code == 0, err


async def test_every_table_of_the_schema_is_copied_or_said_not_to_be(db_url):
    """A table added by a later migration must not be left behind without a word."""
    from sqlalchemy import inspect

    from storage.copy import NOT_COPIED, tables

    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine)
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert names - {"alembic_version"} == {t.name for t in tables()} | set(NOT_COPIED)
