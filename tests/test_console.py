"""The officers' console over HTTP, end to end: the real App and router, the simulated WeChat on
the other side of the real SDK, the console mounted on the bot's own web server."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import AuditEntry
from storage.understanding import Consultation
from tests.console_fixtures import PASSWORDS, browser, console_bot
from tests.sdk_fixtures import sdk_cache_dir  # noqa: F401 - fixture

QUESTION = "请问一下结婚登记要去哪里办呀"  # no entry of the guide: it waits for the officer


async def _forwarded(bot) -> int:
    """王阿姨 asks privately something the guide cannot answer: it waits for the officer."""
    before = len(bot.world.sent)
    bot.say("王阿姨", QUESTION)
    await bot.until(lambda: any("已转给社区民警" in s.text for s in bot.world.sent[before:]))
    async with bot.app.sessions() as session:
        return (await session.execute(select(Consultation.id).where(Consultation.status == "open"))).scalar_one()


async def _audit(bot) -> list[tuple[str, str, str, str]]:
    async with bot.app.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.actor_id, r.actor_role, r.command, r.outcome) for r in rows]


async def test_pages_need_a_login_and_a_wrong_password_is_refused(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        for path in ("/console/", "/console/questions", "/console/tips", "/console/audit"):
            status, _ = await b.get(path, follow=False)
            assert status == 302, path
        status, _ = await b.get("/console/tips")
        assert b.last_url.endswith("/console/login")
        status, text = await b.login("张所", "wrong-password")
        assert status == 401 and "账号或密码不对" in text
        status, _ = await b.login("没有这个人", "whatever-1")
        assert status == 401
        status, text = await b.login("张所")
        assert status == 200 and "等您处理" in text and "张所" in text
        assert ("console:张所", "officer", "控制台 登录", "refused: password") in await _audit(bot)
        await b.post("/console/logout", {})
        assert (await b.get("/console/", follow=False))[0] == 302


async def test_resetting_an_account_ends_its_sessions(tmp_path):
    from handlers.console.accounts import save_account

    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await b.login("小刘")
        assert (await b.get("/console/", follow=False))[0] == 200
        async with bot.app.sessions.begin() as session:  # `jingmin console add-user 小刘 --role staff` again
            await save_account(session, bot.app.name, "小刘", "staff", "new-password-1", bot.app.clock.now() + timedelta(seconds=1))
        assert (await b.get("/console/", follow=False))[0] == 302


async def test_the_cookie_is_encrypted_httponly_strict_and_ends_after_idle_time(tmp_path):
    from datetime import timedelta

    from bot.clock import FakeClock
    from tests.test_web_browser import MORNING

    clock = FakeClock(MORNING)
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        await b.get("/console/login")
        async with b.http.post(base + "/console/login", allow_redirects=False,
                               data={"name": "张所", "password": PASSWORDS["张所"], "csrf_token": b.csrf}) as r:
            cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "张所" not in cookie
        assert r.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert (await b.get("/console/", follow=False))[0] == 200
        clock.advance(timedelta(minutes=29))
        assert (await b.get("/console/", follow=False))[0] == 200  # used: the idle time starts again
        clock.advance(timedelta(minutes=31))
        assert (await b.get("/console/", follow=False))[0] == 302


async def test_a_post_without_the_csrf_token_is_refused(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        n = await _forwarded(bot)
        await b.login("张所")
        status, _ = await b.post(f"/console/questions/consultation/{n}/answer", {"answer": "请带户口本来"}, csrf=False)
        assert status == 403
        status, _ = await b.post(f"/console/questions/consultation/{n}/answer",
                                 {"answer": "请带户口本来", "csrf_token": "forged"}, csrf=False)
        assert status == 403
        await b.get("/console/login")  # a fresh page, a fresh token; logging in without one is refused too
        status, _ = await b.post("/console/login", {"name": "张所", "password": PASSWORDS["张所"]}, csrf=False)
        assert status == 403
        async with bot.app.sessions() as session:
            assert (await session.get(Consultation, n)).status == "open"


async def test_six_wrong_passwords_in_a_row_lock_the_account_for_a_while(tmp_path):
    from datetime import timedelta

    from bot.clock import FakeClock
    from tests.test_web_browser import MORNING

    clock = FakeClock(MORNING)
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        statuses = [(await b.login("张所", f"guess-{i}"))[0] for i in range(6)]
        assert statuses == [401] * 5 + [429]
        status, text = await b.login("张所")  # even the right password, while locked
        assert status == 429 and "暂时锁定" in text
        assert (await b.login("小刘"))[0] == 200  # another account is not locked
        clock.advance(timedelta(minutes=16))
        async with browser(base) as fresh:
            assert (await fresh.login("张所"))[0] == 200


async def test_answering_a_consultation_on_the_page_reaches_the_resident_in_chat(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        n = await _forwarded(bot)
        await b.login("张所")
        status, text = await b.get("/console/questions")
        assert QUESTION in text and f"#{n}" in text
        before = len(bot.world.sent)
        status, text = await b.post(f"/console/questions/consultation/{n}/answer",
                                    {"answer": "请带老人户口本和子女房产证来警务室"})
        assert status == 200 and f"已把答复发给王阿姨（咨询 #{n}）" in text and QUESTION not in text
        await bot.until(lambda: any(s.contact_id == bot.contact("王阿姨") for s in bot.world.sent[before:]))
        [to_wang] = [s for s in bot.world.sent[before:] if s.contact_id == bot.contact("王阿姨")]
        assert "社区民警回复：请带老人户口本和子女房产证来警务室" in to_wang.text
        assert not any(s.contact_id and s.contact_id.startswith("console:") for s in bot.world.sent)
        async with bot.app.sessions() as session:
            assert (await session.get(Consultation, n)).status == "answered"
        assert ("console:张所", "officer", "咨询 回复", f"answered #{n}") in await _audit(bot)
        # Answered twice (another tab): the command's own refusal, shown on the page.
        status, text = await b.post(f"/console/questions/consultation/{n}/answer", {"answer": "再说一次"})
        assert f"咨询 #{n} 已经回复过了" in text


async def test_roles_limit_the_page_as_they_limit_the_commands(tmp_path):
    async with console_bot(tmp_path) as (bot, base):
        n = await _forwarded(bot)
        async with browser(base) as staff:
            await staff.login("小刘")
            assert (await staff.get("/console/audit"))[0] == 403  # /审计 is for officers only
            status, text = await staff.get("/console/questions")
            assert "回复</button>" in text  # staff answer consultations by command, so on the page too
        async with browser(base) as district:
            # No chat role is a district's: it sees this bot's counts, and no resident's words or name.
            status, text = await district.login("分局")
            assert status == 200 and "正在查看 xingfuli 的统计" in text and "待回复的咨询" in text
            assert 'href="/console/questions"' not in text.split("<main>")[0]  # not in its menu
            for path in ("/console/questions", "/console/tips", "/console/bookings", "/console/schedules",
                         "/console/groups", "/console/registers", "/console/audit"):
                assert (await district.get(path))[0] == 403, path
            status, _ = await district.post(f"/console/questions/consultation/{n}/answer", {"answer": "分局答复"})
            assert status == 403
            assert (await district.get("/console/registers/download?register=reception&from=2026-01-01"
                                       "&to=2026-12-31&format=csv"))[0] == 403
        async with bot.app.sessions() as session:
            assert (await session.get(Consultation, n)).status == "open"


async def test_registers_download_as_csv_and_xlsx_and_are_audited(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await _forwarded(bot)
        await b.login("张所")
        day = bot.app.clock.now().astimezone(bot.app.clock.tz).date().isoformat()
        async with b.http.get(f"{base}/console/registers/download", params={
                "register": "reception", "from": day, "to": day, "format": "csv"}) as r:
            assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
            body = (await r.read()).decode("utf-8-sig")
        assert "接待服务登记簿" not in body and "业务咨询" in body and "已转民警" in body
        async with b.http.get(f"{base}/console/registers/download", params={
                "register": "dispute", "from": day, "to": day, "format": "xlsx"}) as r:
            assert r.status == 200 and (await r.read())[:2] == b"PK"
        commands = [c for _, _, c, _ in await _audit(bot)]
        assert commands.count("控制台 导出登记簿") == 2


async def test_every_page_renders_for_an_officer(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await b.login("张所")
        for path, words in [("/console/", "本周和上周"), ("/console/tips", "未结的线索"),
                            ("/console/bookings", "预约"), ("/console/bookings?view=week", "看一天"),
                            ("/console/schedules", "推送计划"), ("/console/registers", "下载 Excel"),
                            ("/console/groups", "幸福里警务工作群"),
                            ("/console/audit", "控制台 登录")]:
            status, text = await b.get(path)
            assert status == 200 and words in text, path


def test_console_accounts_from_the_command_line(tmp_path, monkeypatch, capsys):
    from handlers.console import cli
    from tests.conftest import sample_raw
    import yaml

    raw = sample_raw()
    raw["database"] = {"url": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    raw["data_dir"] = str(tmp_path)
    raw["plugins"] = __import__("tests.console_fixtures", fromlist=["x"]).plugins_with_console()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.extend(parser.add_subparsers(dest="command"))

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = parser.parse_args([*argv, "--config", str(config)])
        return args.func(args)

    assert run("console", "add-user", "张所", "--role", "officer", "--password-stdin", stdin="jingwu-2026!\n") == 0
    assert run("console", "add-user", "张所", "--role", "staff", "--password-stdin", stdin="another-pass\n") == 0
    assert run("console", "add-user", "短", "--role", "officer", "--password-stdin", stdin="short\n") == 2
    assert run("console", "users") == 0
    out, err = capsys.readouterr()
    assert "created console account 张所 (officer)" in out and "reset console account 张所 (staff)" in out
    assert "password: at least 8 characters" in err
    assert "张所\tstaff" in out and "短" not in out.split("reset")[1]
    with pytest.raises(SystemExit):
        parser.parse_args(["console", "add-user", "x", "--role", "admin"])


async def _converse(bot, clock, who: str, texts) -> str:
    """A resident's dialog over the simulated WeChat, one answer at a time; the bot's last words."""
    from datetime import timedelta

    for text in texts:
        before = len(bot.world.sent)
        clock.advance(timedelta(seconds=15))
        bot.say(who, text)
        await bot.until(lambda: any(s.contact_id == bot.contact(who) for s in bot.world.sent[before:]))
    return [s.text for s in bot.world.sent if s.contact_id == bot.contact(who)][-1]


def _morning():
    from bot.clock import FakeClock
    from tests.test_web_browser import MORNING

    return FakeClock(MORNING)


async def test_tips_are_viewed_on_record_replied_to_and_closed_from_the_page(tmp_path):
    clock = _morning()
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        await _converse(bot, clock, "陈大爷", ["举报", "2", "5号楼地下室晚上经常有人聚在一起吸毒", "跳过", "保密", "确认"])
        await b.login("张所")
        status, text = await b.get("/console/tips")
        assert status == 200 and 'data-id="1"' in text and "陈大爷" not in text
        status, text = await b.post("/console/tips/1/view", {})
        assert status == 200 and "5号楼地下室晚上经常有人聚在一起吸毒" in text and "陈大爷" not in text
        assert ("console:张所", "officer", "线索查看", "ok") in await _audit(bot)
        before = len(bot.world.sent)
        status, text = await b.post("/console/tips/1/reply", {"text": "已收到，正在核实"})
        assert status == 200 and "转给线索 #1" in text
        await bot.until(lambda: any("民警回复：已收到，正在核实" in s.text for s in bot.world.sent[before:]))
        status, text = await b.post("/console/tips/1/close", {"text": "已依法处理"})
        await bot.until(lambda: any("已处理完毕：已依法处理" in s.text for s in bot.world.sent[before:]))
        status, text = await b.get("/console/tips")
        assert 'data-id="1"' not in text


async def test_bookings_are_completed_and_a_day_closed_from_the_page(tmp_path):
    clock = _morning()
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        done = await _converse(bot, clock, "王阿姨", ["预约", "居住证", "明天", "1", "王芳", "13812345678", "确认"])
        assert "预约码" in done
        await b.login("张所")
        status, text = await b.get("/console/bookings?day=2026-12-08")
        assert "王芳" in text and "138****5678" in text and "13812345678" not in text
        code = text.split('name="code" value="')[1].split('"')[0]
        status, text = await b.post("/console/bookings/phone", {"code": code, "day": "2026-12-08"})
        assert "13812345678" in text
        assert ("console:张所", "officer", "控制台 查看电话", "ok") in await _audit(bot)
        before = len(bot.world.sent)
        status, text = await b.post("/console/bookings/close", {"day": "2026-12-08", "reason": "民警外出开会"})
        assert status == 200 and "已关闭" in text
        await bot.until(lambda: any(s.contact_id == bot.contact("王阿姨") and "民警外出开会" in s.text
                                    for s in bot.world.sent[before:]))
        status, text = await b.get("/console/bookings?day=2026-12-08")
        assert "已关闭（民警外出开会）" in text and "王芳" not in text  # her booking was cancelled, and she was told
        assert ("console:张所", "officer", "预约 关闭", "ok") in await _audit(bot)


async def test_accounts_and_their_lock_are_stored_on_both_databases(db_url):
    from datetime import datetime, timedelta, timezone

    from handlers.console.accounts import login, save_account
    from storage import db

    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        now = datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)
        async with sessions.begin() as session:
            assert await save_account(session, "jingmin", "张所", "officer", "jingwu-2026!", now) is True
        lock = dict(max_failures=5, lock=timedelta(minutes=15))
        for _ in range(5):
            async with sessions.begin() as session:
                assert (await login(session, "jingmin", "张所", "guess", now, **lock)).account is None
        async with sessions.begin() as session:
            assert (await login(session, "jingmin", "张所", "jingwu-2026!", now, **lock)).locked
        async with sessions.begin() as session:
            result = await login(session, "jingmin", "张所", "jingwu-2026!", now + timedelta(minutes=16), **lock)
            assert result.account is not None and result.account.role == "officer"
            assert result.account.password_hash.startswith("$argon2id$")
    finally:
        await engine.dispose()


async def test_a_dispute_is_resolved_from_the_page_into_the_register(tmp_path):
    from storage.understanding import DisputeRecord

    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        before = len(bot.world.sent)
        bot.say("陈大爷", "隔壁邻居家的狗天天半夜叫，跟他说了还跟我吵架")
        await bot.until(lambda: any(s.contact_id == bot.contact("陈大爷") for s in bot.world.sent[before:]))
        await b.login("张所")
        status, text = await b.get("/console/questions")
        assert "隔壁邻居家的狗天天半夜叫" in text and "登记化解</button>" in text
        status, text = await b.post("/console/questions/dispute/1/answer", {"answer": "已上门调解，双方同意"})
        assert status == 200 and "隔壁邻居家的狗天天半夜叫" not in text
        async with bot.app.sessions() as session:
            row = await session.get(DisputeRecord, 1)
            assert (row.status, row.outcome, row.resolved_by) == ("resolved", "已上门调解，双方同意", "console:张所")
        assert ("console:张所", "officer", "纠纷 化解", "resolved #1") in await _audit(bot)


async def test_a_schedule_is_paused_and_resumed_from_the_page(tmp_path):
    from storage.pushes import PushScheduleRow

    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await b.login("张所")
        status, text = await b.get("/console/schedules")
        assert "weekly-antifraud" in text and "内置 30 条" in text
        status, text = await b.post("/console/schedules/schedule/pause", {"id": "weekly-antifraud"})
        assert status == 200 and "计划 weekly-antifraud 已暂停" in text and "（已暂停）" in text
        async with bot.app.sessions() as session:
            assert (await session.get(PushScheduleRow, (bot.app.name, "weekly-antifraud"))).paused
        await b.post("/console/schedules/schedule/resume", {"id": "weekly-antifraud"})
        async with bot.app.sessions() as session:
            assert not (await session.get(PushScheduleRow, (bot.app.name, "weekly-antifraud"))).paused
        commands = [c for who, _, c, _ in await _audit(bot) if who == "console:张所"]
        assert "暂停计划" in commands and "恢复计划" in commands and "计划" not in commands  # the listing is no action


async def test_groups_notices_and_new_schedules_from_the_page(tmp_path):
    from storage.pushes import CustomNotice, PushScheduleRow

    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await b.login("小刘")
        status, text = await b.get("/console/groups")
        assert "幸福里沿街商户群" in text
        status, text = await b.post("/console/groups/category", {"name": "幸福里沿街商户群", "category": "居民群"})
        assert status == 200 and bot.app.directory.group(bot.room("幸福里沿街商户群")).category == "resident"
        status, text = await b.post("/console/schedules/notice/create",
                                    {"type": "冒充公检法", "text": "公检法不会电话办案，更不会让您转账到安全账户。"})
        assert status == 200
        status, text = await b.get("/console/schedules?type=冒充公检法")
        assert "公检法不会电话办案" in text  # the type's notices one by one, with their numbers
        status, text = await b.post("/console/schedules/schedule/create", {"text": "每周三 10:00 反诈 居民群"})
        assert status == 200
        async with bot.app.sessions() as session:
            from sqlalchemy import func

            assert (await session.execute(select(func.count()).select_from(CustomNotice))).scalar_one() == 1
            whens = (await session.execute(select(PushScheduleRow.when))).scalars().all()
            assert any("周三" in w for w in whens), whens



async def test_a_tips_photo_is_opened_on_record_and_never_under_the_reporters_file_name(tmp_path):
    from datetime import timedelta

    from tests.test_web_browser import _photo

    clock, photo = _morning(), _photo()
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        await _converse(bot, clock, "陈大爷", ["举报", "2"])
        before = len(bot.world.sent)
        clock.advance(timedelta(seconds=15))
        bot.world.inject_message(bot.contact("陈大爷"), "", kind="image", filename="陈大爷拍的.png", data=photo)
        await bot.until(lambda: any("已收到1个附件" in s.text for s in bot.world.sent[before:]))
        await _converse(bot, clock, "陈大爷", ["5号楼地下室晚上经常有人聚在一起吸毒", "跳过", "保密", "确认"])
        await b.login("张所")
        status, text = await b.get("/console/tips")
        assert "/console/tips/1/files/1" in text and "陈大爷" not in text
        async with b.http.get(f"{base}/console/tips/1/files/1") as r:
            assert r.status == 200 and await r.read() == photo
            assert r.headers["Content-Type"] == "image/png" and r.headers["Content-Security-Policy"] == "sandbox"
            assert "陈大爷" not in r.headers["Content-Disposition"]
        assert (await b.get("/console/tips/1/files/2"))[0] == 404
        assert ("console:张所", "officer", "线索附件", "ok") in await _audit(bot)


async def test_console_without_the_trailing_slash_is_sent_to_the_console(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        async with b.http.get(f"{base}/console", allow_redirects=False) as r:
            assert r.status == 301 and r.headers["Location"] == "/console/"
        status, _ = await b.get("/console")
        assert status == 200 and b.last_url.endswith("/console/login")


# ---- the service guide -------------------------------------------------------------------------

NEW_HOURS = "社区警务室从下周起每天早上8:30开门，中午不休息，下午17:30下班。"


async def _asks_privately(bot, who: str, text: str) -> str:
    before = len(bot.world.sent)
    bot.say(who, text)
    await bot.until(lambda: any(s.contact_id == bot.contact(who) for s in bot.world.sent[before:]))
    return [s.text for s in bot.world.sent[before:] if s.contact_id == bot.contact(who)][-1]


async def test_an_answer_changed_on_the_guide_page_answers_the_next_resident(tmp_path):
    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        assert "节假日休息" in await _asks_privately(bot, "王阿姨", "警务室什么时候上班")
        await b.login("张所")
        status, text = await b.get("/console/guide?q=警务室几点上班")
        assert status == 200 and 'data-id="office-hours"' in text and "居民这样问会用这条回答" in text
        status, text = await b.get("/console/guide/office-hours")
        assert "节假日休息" in text and "警务室什么时候上班" in text and "修改回答" in text
        status, text = await b.post("/console/guide/office-hours/answer", {"answer": NEW_HOURS})
        assert status == 200 and "已修改指南 office-hours" in text and NEW_HOURS in text
        assert NEW_HOURS in await _asks_privately(bot, "陈大爷", "警务室什么时候上班")
        assert ("console:张所", "officer", "指南 修改", "ok") in await _audit(bot)
        status, text = await b.post("/console/guide/office-hours/questions", {"questions": "警务室中午有人吗\n几点关门"})
        assert "加上 2 个问法" in text and "警务室中午有人吗" in text and text.count('name="question"') == 2
        status, text = await b.post("/console/guide/office-hours/unask", {"question": "几点关门"})
        assert "已从指南 office-hours 去掉问法“几点关门”" in text and "<li>几点关门" not in text
        status, text = await b.post("/console/guide/office-hours/restore", {})
        assert "已恢复" in text and "节假日休息" in text
        assert "节假日休息" in await _asks_privately(bot, "小周", "警务室什么时候上班")


async def test_an_entry_is_added_deleted_and_restored_on_the_guide_page(tmp_path):
    from storage.guide import GuideEdit

    async with console_bot(tmp_path) as (bot, base), browser(base) as b:
        await b.login("小刘")  # staff change the guide by command, so on the page too
        status, text = await b.post("/console/guide/add", {
            "title": "结婚登记 | 别处", "questions": "派出所能办结婚登记吗\n结婚证去哪领",
            "answer": "结婚登记不在派出所办。\n请带双方户口本和身份证，到区民政局婚姻登记处办理。"})
        assert status == 200 and "已新增指南 jw1：结婚登记 别处" in text and 'data-id="jw1"' in text
        answer = await _asks_privately(bot, "王阿姨", "请问派出所能办结婚登记吗")
        assert "区民政局婚姻登记处" in answer and "\n请带双方户口本" in answer  # its lines kept
        status, text = await b.post("/console/guide/jw1/delete", {})
        assert "已删除指南 jw1" in text and "已删除的指南" in text
        assert "已转给社区民警" in await _asks_privately(bot, "陈大爷", "请问派出所能办结婚登记吗")
        status, text = await b.post("/console/guide/jw1/restore", {})
        assert "指南 jw1 已恢复" in text
        assert "区民政局婚姻登记处" in await _asks_privately(bot, "小周", "请问派出所能办结婚登记吗")
        status, text = await b.post("/console/guide/add", {"title": "只有标题", "questions": "", "answer": ""})
        assert "标题、问法和回答都要写" in text
        async with bot.app.sessions() as session:
            [row] = (await session.execute(select(GuideEdit))).scalars().all()
            assert (row.entry_id, row.updated_by) == ("jw1", "console:小刘")
        commands = [c for who, _, c, _ in await _audit(bot) if who == "console:小刘"]
        assert commands == ["控制台 登录", "指南 新增", "指南 删除", "指南 恢复"]


async def test_the_guide_page_follows_the_chat_roles_of_the_guide_command(tmp_path, monkeypatch):
    from dataclasses import replace

    from bot.plugin import OFFICER

    async with console_bot(tmp_path) as (bot, base):
        # A community where only officers may change the guide: the page refuses staff as chat would.
        spec = bot.app.registry.command("指南")
        monkeypatch.setattr(spec, "subcommands", [s if s.name in ("搜索", "查看") else replace(s, roles=OFFICER)
                                                  for s in spec.subcommands])
        async with browser(base) as staff:
            await staff.login("小刘")
            status, text = await staff.get("/console/guide/office-hours")
            assert status == 200 and "节假日休息" in text and "保存回答" not in text and "删除这条指南" not in text
            assert (await staff.post("/console/guide/office-hours/answer", {"answer": NEW_HOURS}))[0] == 403
            assert (await staff.post("/console/guide/add", {"title": "a", "questions": "b", "answer": "c"}))[0] == 403
        async with browser(base) as district:
            await district.login("分局")
            assert (await district.get("/console/guide"))[0] == 403
            assert 'href="/console/guide"' not in (await district.get("/console/"))[1]
        assert "节假日休息" in await _asks_privately(bot, "王阿姨", "警务室什么时候上班")


# ---- the registers name who answered on the page -------------------------------------------------

async def _register(b, base: str, day: str, code: str = "reception") -> list[dict]:
    import csv

    async with b.http.get(f"{base}/console/registers/download",
                          params={"register": code, "from": day, "to": day, "format": "csv"}) as r:
        return list(csv.DictReader(io.StringIO((await r.read()).decode("utf-8-sig"))))


async def test_answers_given_on_the_page_name_the_console_account_as_the_handler(tmp_path):
    from storage.understanding import Suggestion

    clock = _morning()
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser(base) as b:
        n = await _forwarded(bot)
        await _converse(bot, clock, "陈大爷", ["建议：小区东门晚上太黑了，希望装个路灯"])
        await _converse(bot, clock, "小周", ["预约", "居住证", "今天", "1", "周小敏", "13812345678", "确认"])
        async with bot.app.sessions() as session:
            suggestion = (await session.execute(select(Suggestion.id))).scalar_one()
        await b.login("张所")
        await b.post(f"/console/questions/consultation/{n}/answer", {"answer": "请到区民政局婚姻登记处办理"})
        await b.post(f"/console/questions/suggestion/{suggestion}/answer", {"answer": "已报物业，本周装好"})
        status, text = await b.get("/console/bookings?day=2026-12-07")
        code = text.split('name="code" value="')[1].split('"')[0]
        await b.post("/console/bookings/complete", {"code": code, "day": "2026-12-07"})
        rows = await _register(b, base, "2026-12-07")
        handled = {(r["类别"], r["办理情况"]): r["经办人"] for r in rows}
        assert handled[("业务咨询", "民警已答复")] == "张所"
        assert handled[("意见建议", "已回复")] == "张所"
        assert [r["经办人"] for r in rows if r["类别"] == "预约办理"] == ["张所"]


# ---- the district ------------------------------------------------------------------------------

CHUNHUI_SAYS = ["大家好，今天下午物业停水", "收到，谢谢通知", "请问身份证丢了怎么补办"]


async def _chunhui_spoke(tmp_path) -> None:
    """Another community's bot (chunhui) on the same database: three messages in its residents'
    group, one of them a consultation; its counts are written when it stops."""
    from bot.harness import Harness
    from tests.conftest import make_config, sample_raw

    bot = {**sample_raw()["bot"], "name": "chunhui", "community": "春晖社区"}
    config = make_config(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", bot=bot)
    async with Harness(config, clock=_morning()) as chunhui:
        for text in CHUNHUI_SAYS:
            await chunhui.say("王阿姨", text, room="幸福里居民群")


def _district_file(tmp_path) -> str:
    path = tmp_path / "district.yaml"
    path.write_text("name: 甘井子分局\ncommunities:\n  - {bot: xingfuli}\n  - {bot: chunhui}\n", encoding="utf-8")
    return str(path)


def _figures(text: str, bot: str) -> dict[str, str]:
    """A bot's row of 全区统计 as the officer reads it: {"群消息": "3 / 0", ...} (this week / last)."""
    import re

    row = text.split(f'data-bot="{bot}"')[1].split("</tr>")[0]
    return {label: re.sub(r"<[^>]+>", "", cell).strip()
            for label, cell in re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row)}


async def test_a_district_account_sees_every_bot_of_the_district_and_switches_between_them(tmp_path):
    await _chunhui_spoke(tmp_path)
    async with console_bot(tmp_path, clock=_morning(), district=_district_file(tmp_path)) as (bot, base):
        async with browser(base) as officer:
            await officer.login("张所")
            assert (await officer.get("/console/district"))[0] == 403  # a community's officer sees their bot only
            assert (await officer.post("/console/bot", {"bot": "chunhui"}))[0] == 403
        async with browser(base) as district:
            status, text = await district.login("分局")
            assert "正在查看 xingfuli 的统计" in text and "<option>chunhui</option>" in text
            status, text = await district.get("/console/district")
            assert status == 200 and "全区统计（甘井子分局）" in text
            # this week / last week: 3 messages in the groups, 1 consultation, nothing else
            assert _figures(text, "chunhui") == {"群消息": "3 / 0", "业务咨询": "1 / 0", "意见建议": "0 / 0",
                                                 "线索举报": "0 / 0", "预约": "0 / 0"}
            assert "（本机）" in text.split('data-bot="xingfuli"')[1].split("</tr>")[0]
            status, text = await district.post("/console/bot", {"bot": "chunhui"})
            assert status == 200 and "正在查看 chunhui 的统计" in text and "幸福里居民群" in text
            assert "<td>群消息</td><td>3</td><td>0</td>" in text
            assert (await district.get("/console/questions"))[0] == 403  # read-only, whichever bot
            status, text = await district.post("/console/bot", {"bot": "nosuchbot"})
            assert "没有这个机器人" in text and "正在查看 chunhui 的统计" in text


async def test_without_a_district_file_the_district_account_sees_the_bots_of_the_database(tmp_path):
    from handlers.console.district import district_overview

    await _chunhui_spoke(tmp_path)
    async with console_bot(tmp_path, clock=_morning()) as (bot, base), browser(base) as district:
        status, text = await district.login("分局")
        assert "<option selected>xingfuli</option><option>chunhui</option>" in text
        status, text = await district.get("/console/district")
        assert 'data-bot="chunhui"' in text and "全区统计</h1>" in text
        async with bot.app.sessions() as session:
            monday = bot.app.clock.now().date()
            [row] = await district_overview(session, ["chunhui"], monday, monday)
        assert row == {"bot": "chunhui", "messages": 3, "consultations": 1, "suggestions": 0, "tips": 0, "bookings": 0}


async def test_the_district_numbers_and_bots_are_read_on_both_databases(db_url):
    """Two bots' counters on one database: each bot's week, the bots found without a district file."""
    from datetime import date, datetime, timezone
    from types import SimpleNamespace

    from handlers.console.district import district_bots, district_overview
    from storage import counters, db

    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        monday = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
        async with sessions.begin() as session:
            for bot, metric, room, n in [("chunhui", "messages", "r1", 5), ("chunhui", "messages", "", 7),
                                         ("chunhui", "tips", "", 1), ("xingfuli", "appointments_booked", "", 2),
                                         ("xingfuli", "consultations", "r2", 3), ("xingfuli", "suggestions", "r2", 1)]:
                await counters.bump(session, bot, monday, metric, room_id=room, n=n)
            await counters.bump(session, "chunhui", monday.replace(day=1), "messages", room_id="r1", n=4)  # last week
        async with sessions() as session:
            week = await district_overview(session, ["xingfuli", "chunhui"], date(2026, 12, 7), date(2026, 12, 13))
            earlier = await district_overview(session, ["chunhui"], date(2026, 11, 30), date(2026, 12, 6))
            found = await district_bots(SimpleNamespace(district=None, name="xingfuli"), session)
        assert week == [
            {"bot": "xingfuli", "messages": 0, "consultations": 3, "suggestions": 1, "tips": 0, "bookings": 2},
            {"bot": "chunhui", "messages": 5, "consultations": 0, "suggestions": 0, "tips": 1, "bookings": 0}]
        assert earlier[0]["messages"] == 4  # private messages are no group messages
        assert found == ["xingfuli", "chunhui"]
    finally:
        await engine.dispose()


async def test_an_account_is_one_bots_on_a_shared_database(db_url):
    from datetime import datetime, timedelta, timezone

    from handlers.console.accounts import accounts, login, save_account
    from storage import db

    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        now = datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)
        lock = dict(max_failures=5, lock=timedelta(minutes=15))
        async with sessions.begin() as session:
            await save_account(session, "chunhui", "张所", "officer", "jingwu-2026!", now)
            await save_account(session, "heping", "张所", "staff", "heping-2026!", now)
        async with sessions.begin() as session:
            # Another community's 张所 is another account: its password does not open this console.
            assert (await login(session, "heping", "张所", "jingwu-2026!", now, **lock)).account is None
            assert (await login(session, "bureau", "张所", "jingwu-2026!", now, **lock)).account is None
            mine = (await login(session, "chunhui", "张所", "jingwu-2026!", now, **lock)).account
            assert mine is not None and mine.role == "officer"
            assert [(a.name, a.role) for a in await accounts(session, "heping")] == [("张所", "staff")]
            assert await accounts(session, "bureau") == []
    finally:
        await engine.dispose()


@pytest.mark.blank_database
async def test_an_account_made_before_bots_were_told_apart_is_kept_for_the_databases_bot(db_url):
    from sqlalchemy import text

    from storage import db

    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine, "0015_tip_routing")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO contacts (bot, id, name, role, is_friend, role_source, created_at) VALUES "
                "('xingfuli', 'wx_zhang', '张警官', 'officer', true, 'config', '2026-12-01 00:00:00+00')"))
            await conn.execute(text(
                "INSERT INTO console_accounts (name, role, password_hash, failed_logins, created_at, updated_at) "
                "VALUES ('张所', 'officer', 'h', 0, '2026-12-01 00:00:00+00', '2026-12-01 00:00:00+00')"))
        await db.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT bot, name, role FROM console_accounts"))).all()
        assert [tuple(r) for r in rows] == [("xingfuli", "张所", "officer")]
    finally:
        await engine.dispose()
