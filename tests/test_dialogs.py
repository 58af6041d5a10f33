"""Dialogs: explicit states, ways out, asides handled as themselves, misses, a timeout that fires by
itself, state that survives a restart, and a crash mid-answer told once the bot is back."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.harness import Harness
from bot.plugin import END, EVERYONE, Plugin, Reask
from bot.plugins import load_all
from storage.models import DialogState
from tests.conftest import make_config

demo = Plugin("demo")
survey = demo.dialog("survey", title="登记", start_word="登记")


async def ask_name(ctx, data):
    await ctx.reply("请问您怎么称呼？")


async def ask_floor(ctx, data):
    await ctx.reply(f"{data['name']}，您住几楼？（回复数字）")


async def floor_help(ctx, data):
    return "请只回复楼层的数字，比如住三楼就回复“3”。"


@survey.state("name", prompt=ask_name, label="正在填称呼", free_text=True)
async def got_name(ctx, data, text):
    data["name"] = text
    return "floor"


@survey.state("floor", prompt=ask_floor, label="正在填楼层", help=floor_help, resume="请再说一次住几楼。")
async def got_floor(ctx, data, text):
    if not text.isdigit():
        return Reask("请回复数字，比如 3。")
    if int(text) > 30:
        return Reask("小区最高30楼，请再看看。", understood=True)
    await ctx.reply(f"好的，{data['name']}住{text}楼，已记下。")
    return END


@demo.command("登记", roles=EVERYONE, where="private")
async def start_survey(ctx):
    await ctx.start_dialog("survey", "name")


def demo_app(**kwargs):
    return App(plugins=[*load_all(), demo], **kwargs)


@pytest.fixture
async def chat(db_url):
    harness = Harness(make_config(db_url), app_factory=demo_app)
    async with harness:
        yield harness


async def say(chat, text, who="王阿姨"):
    await chat.advance(timedelta(seconds=15))
    await chat.say(who, text)


async def rows(chat):
    async with chat.app.sessions() as s:
        return list((await s.execute(select(DialogState))).scalars())


async def test_dialog_runs_top_to_bottom_and_a_miss_is_one_short_hint(chat):
    for text in ("/登记", "王秀英", "三楼", "3"):
        await say(chat, text)
    assert chat.texts_to("王阿姨") == [
        "请问您怎么称呼？", "王秀英，您住几楼？（回复数字）", "请回复数字，比如 3。", "好的，王秀英住3楼，已记下。"]
    await say(chat, "3")  # the dialog is over: a bare "3" gets the menu, never silence
    assert "我可以帮您" in chat.texts_to("王阿姨")[-1]


@pytest.mark.parametrize("word", ["取消", "取消。", "退出", "算了", "算了吧", "不约了", "不办了", "不要了", "不用了",
                                  "取消了吧", "取消！！", " 不办了。", "那算了",
                                  # the classifier once read "不办了！" as an emergency (0.74), and the
                                  # emergency reply preempts every dialog
                                  "不办了！", "不办了！！", "算了！", "退出！", "不要了！", "取消！", "不约了！"])
async def test_every_way_of_saying_stop_leaves(chat, word):
    await say(chat, "/登记")
    await say(chat, "王秀英")
    await say(chat, word)
    assert "已取消" in chat.texts_to("王阿姨")[-1]
    assert await rows(chat) == []


async def test_back_goes_one_step(chat):
    await say(chat, "/登记")
    await say(chat, "王秀英")
    await say(chat, "返回")
    assert chat.texts_to("王阿姨")[-1] == "请问您怎么称呼？"


async def test_second_miss_says_exactly_what_to_type_and_third_ends_politely(chat):
    for text in ("/登记", "王秀英", "额"):
        await say(chat, text)
    assert chat.texts_to("王阿姨")[-1] == "请回复数字，比如 3。"
    await say(chat, "嗯那个")
    second = chat.texts_to("王阿姨")[-1]
    assert "比如住三楼就回复“3”" in second and "取消" in second
    await say(chat, "啥")
    third = chat.texts_to("王阿姨")[-1]
    assert "先结束了" in third and "重新发“登记”" in third
    assert await rows(chat) == []


async def test_i_do_not_know_what_to_type_gets_the_help_at_once(chat):
    for text in ("/登记", "王秀英", "俺也不知道咋弄"):
        await say(chat, text)
    assert chat.texts_to("王阿姨")[-1].startswith("请只回复楼层的数字")  # not forwarded as a question


async def test_an_answer_understood_but_unusable_is_no_miss(chat):
    for text in ("/登记", "王秀英", "99", "88", "77", "66"):
        await say(chat, text)
    assert chat.texts_to("王阿姨")[-1] == "小区最高30楼，请再看看。"
    await say(chat, "6")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住6楼，已记下。"


async def test_a_command_or_question_inside_the_dialog_is_answered_and_the_dialog_waits(chat):
    await say(chat, "/登记")
    await say(chat, "王秀英")
    await say(chat, "/帮助")
    help_reply, reminder = chat.texts_to("王阿姨")[-2:]
    assert "我可以帮您" in help_reply or "警民群助手" in help_reply
    assert "登记还没办完" in reminder and "正在填楼层" in reminder
    await say(chat, "菜单")  # reminded once only
    assert "还没办完" not in chat.texts_to("王阿姨")[-1]
    await say(chat, "建议：小区门口加个路灯")
    assert "谢谢" in chat.texts_to("王阿姨")[-1]
    await say(chat, "5")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住5楼，已记下。"


async def test_silence_ends_the_dialog_by_itself_and_says_so(chat):
    await say(chat, "/登记")
    await say(chat, "王秀英")
    chat.take()
    await chat.advance(timedelta(minutes=31))  # nobody writes: the job fires on its own
    [note] = chat.texts_to("王阿姨", chat.take())
    assert "30分钟没有回复" in note and "重新发“登记”" in note
    assert await rows(chat) == []


async def test_the_timeout_counts_from_the_last_understood_answer(chat):
    await say(chat, "/登记")
    await chat.advance(timedelta(minutes=20))
    await say(chat, "王秀英")  # understood: the clock starts again
    await chat.advance(timedelta(minutes=20))
    await say(chat, "不晓得")  # not understood: it does not
    chat.take()
    await chat.advance(timedelta(minutes=11))
    assert any("没有回复" in t for t in chat.texts_to("王阿姨", chat.take()))


async def test_state_survives_a_restart(chat):
    await say(chat, "/登记")
    await say(chat, "王秀英")
    await chat.restart()
    await say(chat, "6")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住6楼，已记下。"


async def test_dialogs_of_two_people_do_not_mix(chat):
    await say(chat, "/登记")
    await say(chat, "/登记", who="陈大爷")
    await say(chat, "王秀英")
    await say(chat, "陈建国", who="陈大爷")
    await say(chat, "2", who="陈大爷")
    await say(chat, "5")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住5楼，已记下。"
    assert chat.texts_to("陈大爷")[-1] == "好的，陈建国住2楼，已记下。"


async def test_the_same_answer_twice_in_a_row_is_two_answers(chat):
    await say(chat, "/登记")
    await chat.say("王阿姨", "3")  # a name that happens to be "3"
    await chat.say("王阿姨", "3")  # within the same second: not mistaken for a redelivery
    assert chat.texts_to("王阿姨")[-1] == "好的，3住3楼，已记下。"


async def test_a_crash_mid_answer_is_told_once_the_bot_is_back(chat, monkeypatch):
    await say(chat, "/登记")
    await say(chat, "王秀英")

    async def killed(ctx, data, text):  # the process dies before the answer's transaction commits
        raise asyncio.CancelledError

    monkeypatch.setattr(survey.states["floor"], "handle", killed)
    with pytest.raises(asyncio.CancelledError):
        await chat.say("王阿姨", "6")
    monkeypatch.undo()
    chat.take()
    await chat.restart()
    [note] = chat.texts_to("王阿姨", chat.take())
    assert note.startswith("刚才系统重启，您的登记还没有提交") and "再说一次住几楼" in note
    await chat.restart()  # told once, not at every start
    assert chat.texts_to("王阿姨", chat.take()) == []
    await say(chat, "6")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住6楼，已记下。"


async def test_a_failed_transaction_does_not_make_the_dialog_forget_its_row(chat, monkeypatch):
    """The transaction that ends the dialog fails: the row stays, and this process follows it (the
    next answer still goes to the dialog, not around it until a restart)."""
    await say(chat, "/登记")
    await say(chat, "王秀英")

    async def failing(self, session, msg):
        raise RuntimeError("database went away before the commit")

    monkeypatch.setattr("bot.router.Router._commit_first_time", failing)
    await say(chat, "5")
    monkeypatch.undo()
    assert [r.state for r in await rows(chat)] == ["floor"]
    await say(chat, "5")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住5楼，已记下。"
