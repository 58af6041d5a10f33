"""District statistics: several community bots on one database, counted together.

Given three communities of 甘井子分局 on one database (two bots running, one with rows only), the
report bot posts the bureau's weekly report and a chart to the bureau's work group on Monday;
`jingmin district stats` prints the same numbers; the per-bot and the district queries agree.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from bot.clock import SHANGHAI, FakeClock
from bot.config import parse_config
from bot.harness import Harness
from handlers.stats.chart import HEIGHT_PX, WIDTH_PX
from storage import counters, db, stats
from storage.tips import Tip
from tests.conftest import ROOT

MONDAY_0900 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)
REPORT_ROOM = "分局警务工作群"
SECRET_TIP = "东风路12号有人卖冰毒"


def community_raw(db_url: str, bot: str, prefix: str, data_dir: Path, district: Path | None = None) -> dict:
    """The sample community renamed: bot `bot`, groups and people's rooms named `prefix`..."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("幸福里", prefix)
    raw = yaml.safe_load(text)
    raw["bot"]["name"] = bot
    raw["bot"]["community"] = f"{prefix}社区"
    raw["database"] = {"url": db_url}
    raw["data_dir"] = str(data_dir)
    raw["pushes"] = {"schedules": []}  # the test counts pushes itself
    if district is not None:
        raw["district"] = str(district)
    return raw


def write_district(tmp_path: Path, db_url: str) -> Path:
    """district.yaml and the three communities' config files beside it."""
    path = tmp_path / "district.yaml"
    for bot, prefix in (("bureau", "分局"), ("chunhui", "春晖"), ("dongfang", "东方")):
        raw = community_raw(db_url, bot, prefix, tmp_path / bot, path if bot == "bureau" else None)
        (tmp_path / f"{bot}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    path.write_text(yaml.safe_dump({
        "name": "甘井子分局", "report_bot": "bureau", "report_room": REPORT_ROOM,
        "communities": [{"bot": "bureau", "config": "bureau.yaml"}, {"bot": "chunhui", "config": "chunhui.yaml"},
                        {"bot": "dongfang", "config": "dongfang.yaml", "name": "东方社区（东风路）"}],
        "units": [{"name": "禁毒", "handles": ["毒品"], "bot": "bureau", "officers": ["张警官"]}],
    }, allow_unicode=True), encoding="utf-8")
    return path


def harness(tmp_path: Path, bot: str) -> Harness:
    raw = yaml.safe_load((tmp_path / f"{bot}.yaml").read_text(encoding="utf-8"))
    return Harness(parse_config(raw, env={}), clock=FakeClock())


async def add_rows(db_url: str, bot: str, rows: list[tuple[date, str, str, int]], tips: list[tuple[date, str]]) -> None:
    """Counters of a community whose bot is not running here, and its tip rows (unit per tip)."""
    engine = db.create_engine(db_url)
    try:
        async with db.session_factory(engine).begin() as session:
            for day, metric, key, n in rows:
                room = "" if metric in ("appointments_booked", "tips") else f"{bot}-居民群"
                await counters.bump(session, bot, datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI), metric,
                                    room_id=room, category="resident" if room else "", key=key, n=n)
            for i, (day, unit) in enumerate(tips):
                session.add(Tip(bot=bot, category="毒品" if unit else "其他", unit=unit, body_enc=SECRET_TIP,
                                reporter_enc="x", receipt_hash=f"{bot}-{i}",
                                created_at=datetime(day.year, day.month, day.day, 15, tzinfo=SHANGHAI)))
    finally:
        await engine.dispose()


DONGFANG_ROWS = [
    (date(2026, 10, 15), "messages", "", 12000), (date(2026, 10, 15), "consultations", "answered", 140),  # history
    (date(2026, 12, 8), "messages", "", 20), (date(2026, 12, 1), "messages", "", 10),
    (date(2026, 12, 9), "consultations", "answered", 3), (date(2026, 12, 9), "consultation_topics", "residence-permit", 3),
    (date(2026, 12, 10), "suggestions", "", 2), (date(2026, 12, 2), "suggestions", "", 1),
    (date(2026, 12, 11), "appointments_booked", "居住证", 4), (date(2026, 12, 8), "pushes", "antifraud", 1),
]
DONGFANG_TIPS = [(date(2026, 12, 9), "禁毒"), (date(2026, 12, 10), "禁毒"), (date(2026, 12, 3), "禁毒")]


async def three_communities(tmp_path: Path, db_url: str) -> None:
    """The week of 12-07..12-13 (and the one before) of 春晖 (chatting through its bot) and 东方 (rows)."""
    write_district(tmp_path, db_url)
    chunhui = harness(tmp_path, "chunhui")
    await chunhui.start()
    await chunhui.advance(timedelta(days=1))  # Tuesday 12-08
    for text in ["大家早上好", "今天天气不错", "楼下快递放哪了", "谢谢物业", "收到"]:
        await chunhui.say("王阿姨", text, room="春晖居民群")
    await chunhui.stop()  # its tally is flushed on the way down
    await add_rows(db_url, "dongfang", DONGFANG_ROWS, DONGFANG_TIPS)
    await add_rows(db_url, "chunhui", [], [(date(2026, 12, 12), "")])


def png_size(path) -> tuple[int, int]:
    import struct

    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_monday_district_report_goes_to_the_bureau_work_group(tmp_path, db_url):
    await three_communities(tmp_path, db_url)
    bureau = harness(tmp_path, "bureau")
    await bureau.start()
    try:
        bureau.take()
        await bureau.run_until(MONDAY_0900 + timedelta(minutes=10))
        sent = [r for r in bureau.take() if r.out.room_id == bureau.room_id(REPORT_ROOM)]
    finally:
        await bureau.stop()

    texts = [r.out.text for r in sent if r.out.kind == "text" and "甘井子分局警民群周报】12月7日" in r.out.text]
    assert len(texts) == 1
    report = texts[0]
    assert report.startswith("【甘井子分局警民群周报】12月7日至12月13日")
    assert "全区3个社区、8个警民微信群（4大类）" in report
    assert "群内交流信息25条（比前一周增加150%）" in report  # 5 + 20, the week before 10
    assert "提供业务办理咨询3次（前一周无记录）" in report
    assert "收到群众意见和建议2条（比前一周增加100%）" in report
    assert "线索举报3条（比前一周增加200%）：禁毒2条、社区民警1条。" in report
    assert "预约办理4件" in report
    assert "推送反诈宣传1次" in report
    assert "居民群（2个群）：信息25条，咨询3次，建议2条" in report
    assert "热门咨询：居住证（3次）" in report
    # busiest first; the bureau's own community said nothing
    assert report.index("东方社区（东风路）：信息20条（比前一周增加100%）") < report.index("春晖社区：信息5条（前一周无记录）")
    assert "本期无群内交流的社区1个：分局社区" in report
    assert report.endswith("累计：2026年10月以来，甘井子分局4大类警民微信群与群众交流信息1.2万余条，提供业务办理咨询143次，"
                           "收到群众意见和建议3条。")
    assert SECRET_TIP not in report

    images = [r for r in sent if r.out.kind == "image" and "district-bureau-2026-W50" in r.out.text]
    assert len(images) == 1
    assert png_size(images[0].out.text) == (WIDTH_PX, HEIGHT_PX)


async def test_district_report_goes_out_once_across_restarts(tmp_path, db_url):
    write_district(tmp_path, db_url)
    bureau = harness(tmp_path, "bureau")
    await bureau.start()
    try:
        await bureau.run_until(MONDAY_0900 + timedelta(minutes=10))
        await bureau.restart()
        import handlers.stats as stats_plugin

        await stats_plugin.district_weekly_job(bureau.app, {}, MONDAY_0900)  # a catch-up fires again
        await bureau.advance(timedelta(hours=1))
        posted = [t for t in bureau.texts_to(REPORT_ROOM) if "甘井子分局警民群周报】12月7日" in t]
    finally:
        await bureau.stop()
    assert len(posted) == 1


async def test_only_the_report_bot_posts_the_district_report(tmp_path, db_url):
    write_district(tmp_path, db_url)
    raw = yaml.safe_load((tmp_path / "chunhui.yaml").read_text(encoding="utf-8"))
    raw["district"] = str(tmp_path / "district.yaml")
    chunhui = Harness(parse_config(raw, env={}), clock=FakeClock())
    await chunhui.start()
    try:
        await chunhui.run_until(MONDAY_0900 + timedelta(minutes=10))
        texts = [r.out.text for r in chunhui.sent]
    finally:
        await chunhui.stop()
    assert any("春晖社区警民群周报" in t for t in texts)  # its own weekly report
    assert not any("甘井子分局警民群周报" in t for t in texts)


async def test_a_bot_no_longer_the_report_bot_stops_posting_it(tmp_path, db_url):
    path = write_district(tmp_path, db_url)
    bureau = harness(tmp_path, "bureau")
    await bureau.start()  # schedules the district report
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw["report_bot"] = "chunhui"  # another bot posts it now (its file is not checked here)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        await bureau.restart()  # the district file is read again at start
        await bureau.run_until(MONDAY_0900 + timedelta(minutes=10))
        texts = [r.out.text for r in bureau.sent]
    finally:
        await bureau.stop()
    assert any("分局社区警民群周报】12月7日" in t for t in texts)  # its own community's report still goes
    assert not any("甘井子分局警民群周报" in t for t in texts)


def run_cli(*argv: str) -> tuple[int, str, str]:
    import contextlib

    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


async def test_district_stats_command_prints_text_and_csv(tmp_path, db_url):
    await three_communities(tmp_path, db_url)
    district = str(tmp_path / "district.yaml")
    import asyncio

    code, out, err = await asyncio.to_thread(run_cli, "district", "stats", "--district", district,
                                             "--from", "2026-12-07", "--to", "2026-12-13")
    assert code == 0, err
    assert "【甘井子分局统计】12月7日至12月13日" in out
    assert "群内交流信息25条（比前一周增加150%）" in out
    assert "与群众交流信息1.2万余条，提供业务办理咨询143次" in out
    assert SECRET_TIP not in out

    code, out, err = await asyncio.to_thread(run_cli, "district", "stats", "--district", district,
                                             "--from", "2026-12-07", "--to", "2026-12-13", "--csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    header = rows[0]
    assert header[:5] == ["社区", "bot", "分类", "交流信息", "上期交流信息"]
    by = {(r[0], r[2]): dict(zip(header, r)) for r in rows[1:]}
    dongfang = by[("东方社区（东风路）", "合计")]
    assert (dongfang["交流信息"], dongfang["上期交流信息"], dongfang["线索举报（禁毒）"]) == ("20", "10", "2")
    assert by[("春晖社区", "居民群")]["交流信息"] == "5"
    assert by[("全区", "合计")]["线索举报"] == "3"
    assert by[("全区", "合计")]["上期线索举报"] == "1"


async def test_district_queries_agree_with_each_bots_own(db_url):
    """Per-bot totals, the district's GROUP BY bot, and month roll-ups give the same sums."""
    engine = db.create_engine(db_url)
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        async with sessions.begin() as session:
            for bot, scale in (("a", 1), ("b", 3)):
                for day in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 15),
                            date(2026, 12, 1), date(2026, 12, 5)):
                    await counters.bump(session, bot, datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI),
                                        "messages", room_id="r1", category="resident", n=scale * day.day)
        async with sessions.begin() as session:
            plain = {bot: await stats.totals(session, bot, date(2026, 9, 15), date(2026, 12, 3)) for bot in "ab"}
            together = await stats.totals_by_bot(session, ["a", "b"], date(2026, 9, 15), date(2026, 12, 3))
            assert await stats.roll_up_months_of(session, ["a", "b"], date(2026, 12, 14)) == 2 * 3  # Sep, Oct, Nov
            rolled = await stats.totals_by_bot(session, ["a", "b"], date(2026, 9, 15), date(2026, 12, 3), rolled=True)
            whole_months = await stats.totals_by_bot(session, ["a", "b"], date(2026, 10, 1), date(2026, 11, 30),
                                                     rolled=True)
            since = await stats.since_start_by_bot(session, ["a", "b"], date(2026, 12, 31))
            _, known = await stats.roll_up_and_tell(session, ["a", "b", "never"], date(2026, 12, 14))
            assert known == {"a": date(2026, 11, 1), "b": date(2026, 11, 1), "never": None}
            since_known = await stats.since_start_by_bot(session, ["a", "b"], date(2026, 12, 31), known_rolled=known)
            until_oct = await stats.since_start_by_bot(session, ["a", "b"], date(2026, 10, 31), known_rolled=known,
                                                       rooms=False, metrics=["messages"])
        for bot, scale in (("a", 1), ("b", 3)):
            expected = scale * (30 + 1 + 31 + 15 + 1)
            assert plain[bot].get("messages") == together[bot].get("messages") == rolled[bot].get("messages") == expected
            assert whole_months[bot].get("messages") == scale * (1 + 31 + 15)
            assert since[bot].get("messages") == since_known[bot].get("messages") == scale * (30 + 1 + 31 + 15 + 1 + 5)
            assert until_oct[bot].get("messages") == scale * (30 + 1 + 31)
    finally:
        await engine.dispose()


def test_a_big_district_names_the_busiest_and_sums_the_rest(tmp_path):
    """189 communities do not fit one message or one chart: the busiest are named, the rest summed."""
    from bot.district import District
    from handlers.stats import district as districts
    from handlers.stats.chart import render_chart
    from handlers.stats.report import Period
    from storage.stats import Totals

    bots = [f"c{i:03d}" for i in range(189)]
    current, previous = {}, {}
    for i, bot in enumerate(bots):
        current[bot], previous[bot] = Totals(), Totals()
        if i < 150:  # 39 communities said nothing this week
            current[bot].add("messages", "", "resident", "*", 200 - i)
            current[bot].add("consultations", "answered", "resident", "*", 1)
    district = District(name="甘井子分局", communities=[{"bot": b, "name": f"社区{b[1:]}"} for b in bots])
    report = districts.DistrictReport(district, Period(date(2026, 12, 7), date(2026, 12, 13)),
                                      district.community_names(), current, previous,
                                      {b: {} for b in bots}, {b: {} for b in bots}, {b: {"resident": 1} for b in bots})
    text = districts.render(report, weekly=True)
    assert "  社区000：信息200条（前一周无记录）" in text and "  社区009：信息191条" in text
    assert "社区010：" not in text
    assert "  其余140个社区：信息1.6万余条，咨询140次" in text  # 16870, written the article's way
    assert "本期无群内交流的社区39个：社区150、" in text and "等。" in text
    assert len(text) < 2000  # one WeChat message

    labels, series = districts.chart_series(report)
    assert len(labels) == 16 and labels[0] == "社区000" and labels[-1] == "其余174个平均"
    assert series["messages"][-1] == round(sum(200 - i for i in range(15, 150)) / 174)
    path = render_chart(tmp_path / "district.png", "甘井子分局 12月7日至12月13日", labels, series, slanted=True)
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX)
