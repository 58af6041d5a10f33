"""A district: a resident's tip of a unit's category reaches the unit's officers through the unit's
bot; their answers reach the resident through the resident's bot; nothing reaches a group; a
confidential reporter stays unknown to the unit. Three bots on one database, one moved clock."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import OutboxMessage
from storage.tips import Tip
from tests.district_fixtures import district_harness

BODY = "3号楼地下室晚上经常有人聚在一起吸毒，卖货的人电话13812345678"


@pytest.fixture
async def district(db_url, tmp_path, monkeypatch):
    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    d = district_harness(db_url)
    await d.start()
    yield d
    await d.stop()


async def report(d, who="王阿姨", category="2", body=BODY, confidential="保密") -> str:
    for said in ("举报", category, body, "跳过", confidential, "确认"):
        await d.say(who, said)
    receipts = [m for t in d.texts_to(who) if (m := re.search(r"查询码：([\d ]+)", t))]
    assert receipts, d.texts_to(who)
    return receipts[-1].group(1).replace(" ", "")


def _group_texts(sent) -> list[str]:
    return [r.out.text for _, r in sent if r.out.room_id is not None]


async def test_a_drug_tip_reaches_the_units_officer_through_the_bureaus_bot(district):
    d = district
    d.take()
    await report(d)
    sent = d.take()
    [unit_notice] = [r.out.text for bot, r in sent if bot == "bureau" and r.out.contact_id == "wx_wang_jd"]
    assert "#1" in unit_notice and "毒品" in unit_notice and "春晖里社区" in unit_notice and "禁毒" in unit_notice
    assert "138****5678" in unit_notice and "13812345678" not in unit_notice and "王阿姨" not in unit_notice
    assert "报告人要求保密" in unit_notice and "/线索 查看 1" in unit_notice
    # The community's officer sees it was routed, and to whom; the bureau's other officer hears nothing.
    [local_notice] = [r.out.text for bot, r in sent if bot == "chunhui" and r.out.contact_id == "wx_liu"]
    assert "→ 禁毒（已转bureau 机器人：禁毒王警官）" in local_notice
    assert not [r for _, r in sent if r.out.contact_id == "wx_zhao_fj"]
    assert _group_texts(sent) == []  # no group hears of a tip
    assert all(bot == "chunhui" for bot, r in sent if r.out.contact_id == "wxid_wang7q")


async def test_the_units_officer_reads_replies_and_closes_and_the_resident_hears_through_their_bot(district):
    d = district
    receipt = await report(d)
    d.take()
    await d.say("禁毒王警官", "/线索")
    assert "#1【毒品（来自 chunhui 机器人）】" in d.texts_to("禁毒王警官", bot="bureau")[-1]
    await d.say("禁毒王警官", "/线索 查看 1")
    view = d.texts_to("禁毒王警官", bot="bureau")[-1]
    assert BODY in view and "报告人：保密" in view and "来自 chunhui 机器人" in view
    await d.say("赵警官", "/线索 查看 1")  # an officer of the bureau's bot outside the unit
    assert "没有编号为 #1 的线索" in d.texts_to("赵警官", bot="bureau")[-1]
    d.take()

    await d.say("禁毒王警官", "/线索 回复 1 已安排民警核查，谢谢您")
    sent = d.take()
    assert [(bot, r.out.text) for bot, r in sent if r.out.contact_id == "wxid_wang7q"] == [
        ("chunhui", "关于您反映的线索 #1，民警回复：已安排民警核查，谢谢您")]
    assert "已把回复转给线索 #1 的报告人" in d.texts_to("禁毒王警官", bot="bureau")[-1]

    await d.say("王阿姨", f"查询 {receipt}")  # the receipt works from the resident's own bot
    progress = d.texts_to("王阿姨", bot="chunhui")[-1]
    assert "处理中" in progress and "已安排民警核查" in progress
    d.take()

    await d.say("禁毒王警官", "/线索 结案 1 已查获，感谢举报")
    sent = d.take()
    [closing] = [r.out.text for bot, r in sent if bot == "chunhui" and r.out.contact_id == "wxid_wang7q"]
    assert "已处理完毕：已查获，感谢举报" in closing
    [told] = [r.out.text for bot, r in sent if bot == "chunhui" and r.out.contact_id == "wx_liu"]
    assert "线索 #1【毒品】已由禁毒结案" in told
    assert _group_texts(sent) == []
    async with d["chunhui"].app.sessions() as s:
        tip = (await s.execute(select(Tip))).scalar_one()
        assert tip.status == "closed" and tip.bot == "chunhui" and tip.unit_bot == "bureau"


async def test_a_confidential_reporter_is_never_known_to_the_unit_nor_kept_in_the_outbox(district):
    d = district
    await report(d)
    await d.say("禁毒王警官", "/线索 查看 1")
    await d.say("禁毒王警官", "/线索 回复 1 收到")
    bureau_said = [r.out.text for bot, r in d.sent() if bot == "bureau"]
    assert bureau_said and not [t for t in bureau_said if "王阿姨" in t or "wxid_wang7q" in t]
    assert not [r for bot, r in d.sent() if bot == "bureau" and r.out.contact_id == "wxid_wang7q"]
    async with d["bureau"].app.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT bot, contact_id, body, status FROM outbox"))).all()
    assert all(status == "sent" for *_, status in rows)
    assert not [r for r in rows if "wxid_wang7q" in str(r) or "吸毒" in str(r)]


async def test_an_open_reporter_is_named_to_the_unit_on_view(district):
    d = district
    await report(d, who="陈大爷", confidential="不用")
    [notice] = [t for t in d.texts_to("禁毒王警官", bot="bureau") if "新线索" in t]
    assert "报告人未要求保密" in notice and "陈大爷" not in notice  # the notice names nobody
    await d.say("禁毒王警官", "/线索 查看 1")
    assert "报告人：陈大爷" in d.texts_to("禁毒王警官", bot="bureau")[-1]


async def test_a_tip_of_a_category_no_unit_handles_stays_with_the_community(district):
    d = district
    d.take()
    await report(d, category="4", body="车棚里的电动车电瓶老是被偷")
    sent = d.take()
    assert not [r for bot, r in sent if bot == "bureau"]
    [notice] = [r.out.text for bot, r in sent if r.out.contact_id == "wx_liu"]
    assert "→ 治安" in notice and "已转" not in notice
    await d.say("禁毒王警官", "/线索 查看 1")
    assert "没有编号为 #1" in d.texts_to("禁毒王警官", bot="bureau")[-1]


async def test_a_unit_whose_bot_never_started_is_reported_to_the_community_officer(db_url, tmp_path, monkeypatch):
    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    d = district_harness(db_url)
    del d.bots["bureau"], d._read["bureau"]  # the bureau's bot has not been started on this database yet
    await d.start()
    try:
        await report(d)
        notice = [t for t in d.texts_to("刘警官") if "新线索" in t][-1]
        assert "没能转给bureau 机器人" in notice and "禁毒王警官" in notice and "电话联系" in notice
    finally:
        await d.stop()


async def test_a_row_another_process_writes_is_sent_within_the_poll(db_url, tmp_path, monkeypatch):
    """No wake-up crosses processes: the bureau's idle sender finds the row by itself."""
    d = district_harness(db_url, outbox={"poll_seconds": 0.05})
    await d.start()
    other = create_async_engine(db_url)  # another process's connection: it cannot wake this one
    try:
        now = d.clock.now()
        async with other.begin() as conn:
            await conn.execute(OutboxMessage.__table__.insert().values(
                bot="bureau", contact_id="wx_wang_jd", room_id=None, mention_ids=[], kind="text",
                body="另一个进程写的通知", priority=3, status="pending", attempts=0, not_before=now,
                created_at=now, source="notice"))
        deadline = time.monotonic() + 5
        while not d.texts_to("禁毒王警官", bot="bureau") and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # real time: the poll is in real seconds
        assert d.texts_to("禁毒王警官", bot="bureau") == ["另一个进程写的通知"]
    finally:
        await other.dispose()
        await d.stop()


async def test_the_units_officer_gets_the_photos_through_the_bureaus_bot(district):
    from bot.messages import MessageKind

    d = district
    for said in ("举报", "2"):
        await d.say("王阿姨", said)
    await d.say("王阿姨", "IMG_王秀英_0412.jpg", kind=MessageKind.IMAGE, attachment=b"\xff\xd8photo")
    for said in (BODY, "跳过", "保密", "确认"):
        await d.say("王阿姨", said)
    d.take()
    await d.say("禁毒王警官", "/线索 附件 1")
    sent = d.take()
    [photo] = [r for bot, r in sent if r.out.kind == "image"]
    assert photo.out.contact_id == "wx_wang_jd" and photo.data == b"\xff\xd8photo"
    assert [bot for bot, r in sent if r.out.kind == "image"] == ["bureau"]
    assert "王秀英" not in photo.out.text  # the file's name says nothing of who sent it


async def test_a_tip_the_units_own_bot_takes_goes_to_the_unit_there(district):
    d = district
    d.take()
    await report(d, who="赵警官")  # someone of the bureau's own bot reports drugs
    sent = d.take()
    [unit_notice] = [r.out.text for bot, r in sent if r.out.contact_id == "wx_wang_jd"]
    assert "来自甘井子分局 → 禁毒" in unit_notice
    assert [r.out.text for bot, r in sent if r.out.contact_id == "wx_zhao_fj" and "新线索" in r.out.text][0] \
        .startswith("新线索 #1【毒品】→ 禁毒（已转：禁毒王警官）")
    assert {bot for bot, _ in sent} == {"bureau"}


async def test_a_bot_with_another_key_says_so_instead_of_opening_the_tip(db_url, tmp_path, monkeypatch):
    from bot.vault import test_key

    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    d = district_harness(db_url)
    d["bureau"].secret_key = test_key("the bureau set a key of its own")
    await d.start()
    try:
        await report(d)
        await d.say("禁毒王警官", "/线索 回复 1 收到")
        refusal = d.texts_to("禁毒王警官", bot="bureau")[-1]
        assert "线索 #1 是 chunhui 机器人收到的" in refusal and "JINGMIN_SECRET_KEY" in refusal
        assert not [t for t in d.texts_to("王阿姨") if "民警回复" in t]
        await d.say("禁毒王警官", "/线索")  # the list still lists it, saying why it cannot be opened
        listing = d.texts_to("禁毒王警官", bot="bureau")[-1]
        assert "#1" in listing and "JINGMIN_SECRET_KEY" in listing and "出了点问题" not in listing
    finally:
        await d.stop()


async def test_a_unit_officer_who_befriends_the_bot_under_a_nickname_still_gets_the_tips(db_url, tmp_path, monkeypatch):
    from datetime import timedelta

    from bot.messages import FriendRequest

    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    d = district_harness(db_url)
    await d.start()
    try:
        bureau = d["bureau"]
        await bureau.transport.deliver(FriendRequest("wx_wang_jd", "王强", "你好", bureau.clock.now()))
        await d.settle()
        await d.advance(timedelta(minutes=30))
        d.take()
        await report(d)
        sent = d.take()
        assert [r for bot, r in sent if bot == "bureau" and r.out.contact_id == "wx_wang_jd" and "#1" in r.out.text]
        [local_notice] = [r.out.text for bot, r in sent if bot == "chunhui" and r.out.contact_id == "wx_liu"]
        assert "已转bureau 机器人：禁毒王警官" in local_notice
    finally:
        await d.stop()


async def test_a_unit_officer_without_a_police_role_is_not_sent_the_tip(db_url, tmp_path, monkeypatch):
    import copy

    import tests.district_fixtures as fixtures

    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    bureau = copy.deepcopy(fixtures.BUREAU)
    bureau["contacts"][0].pop("role")  # 禁毒王警官 listed as a unit officer, but a resident to the bot
    monkeypatch.setattr(fixtures, "BUREAU", bureau)
    d = fixtures.district_harness(db_url)
    await d.start()
    try:
        d.take()
        await report(d)
        sent = d.take()
        assert not [r for _, r in sent if r.out.contact_id == "wx_wang_jd"]
        [local_notice] = [r.out.text for bot, r in sent if bot == "chunhui" and r.out.contact_id == "wx_liu"]
        assert "没能转给" in local_notice  # the community's officer knows to phone the unit
    finally:
        await d.stop()


async def test_the_unit_hears_when_the_community_officer_closes_a_tip_routed_to_it(district):
    d = district
    await report(d)
    d.take()
    await d.say("刘警官", "/线索 结案 1 已核实处理")
    sent = d.take()
    [note] = [r.out.text for bot, r in sent if bot == "bureau" and r.out.contact_id == "wx_wang_jd"]
    assert "#1" in note and "已核实处理" in note and "不用再处理" in note
    assert _group_texts(sent) == []
