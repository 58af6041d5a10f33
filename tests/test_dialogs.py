"""Dialogs: explicit states, 取消 and 返回, a timeout, and state that survives a restart."""

from datetime import timedelta

import pytest

from bot.plugins import load_all
from bot.app import App
from bot.harness import Harness
from bot.plugin import END, EVERYONE, Plugin
from tests.conftest import make_config

demo = Plugin("demo")
survey = demo.dialog("survey")


async def ask_name(ctx, data):
    await ctx.reply("请问您怎么称呼？")


async def ask_floor(ctx, data):
    await ctx.reply(f"{data['name']}，您住几楼？（回复数字）")


@survey.state("name", prompt=ask_name)
async def got_name(ctx, data, text):
    data["name"] = text
    return "floor"


@survey.state("floor", prompt=ask_floor)
async def got_floor(ctx, data, text):
    if not text.isdigit():
        await ctx.reply("请回复数字，比如 3。")
        return None
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


async def test_dialog_runs_top_to_bottom(chat):
    await chat.say("王阿姨", "/登记")
    await chat.say("王阿姨", "王秀英")
    await chat.say("王阿姨", "三楼")
    await chat.say("王阿姨", "3")
    assert chat.texts_to("王阿姨") == [
        "请问您怎么称呼？", "王秀英，您住几楼？（回复数字）",
        "请回复数字，比如 3。", "王秀英，您住几楼？（回复数字）",
        "好的，王秀英住3楼，已记下。"]
    await chat.say("王阿姨", "3")  # the dialog is over: this is chatter again
    assert len(chat.texts_to("王阿姨")) == 5


async def test_cancel_and_back(chat):
    await chat.say("王阿姨", "/登记")
    await chat.say("王阿姨", "王秀英")
    await chat.say("王阿姨", "返回")
    assert chat.texts_to("王阿姨")[-1] == "请问您怎么称呼？"
    await chat.say("王阿姨", "取消")
    assert "已取消" in chat.texts_to("王阿姨")[-1]
    await chat.say("王阿姨", "5")
    assert "已取消" in chat.texts_to("王阿姨")[-1]


async def test_state_survives_a_restart(chat):
    await chat.say("王阿姨", "/登记")
    await chat.say("王阿姨", "王秀英")
    await chat.restart()
    await chat.say("王阿姨", "6")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住6楼，已记下。"


async def test_silence_ends_the_dialog(chat):
    await chat.say("王阿姨", "/登记")
    await chat.advance(timedelta(minutes=31))
    await chat.say("王阿姨", "王秀英")
    assert "已超过30分钟没有回复" in chat.texts_to("王阿姨")[-1]
    await chat.say("王阿姨", "/登记")
    assert chat.texts_to("王阿姨")[-1] == "请问您怎么称呼？"


async def test_dialogs_of_two_people_do_not_mix(chat):
    await chat.say("王阿姨", "/登记")
    await chat.say("陈大爷", "/登记")
    await chat.say("王阿姨", "王秀英")
    await chat.say("陈大爷", "陈建国")
    await chat.say("陈大爷", "2")
    await chat.say("王阿姨", "5")
    assert chat.texts_to("王阿姨")[-1] == "好的，王秀英住5楼，已记下。"
    assert chat.texts_to("陈大爷")[-1] == "好的，陈建国住2楼，已记下。"


async def test_the_same_answer_twice_in_a_row_is_two_answers(chat):
    await chat.say("王阿姨", "/登记")
    await chat.say("王阿姨", "3")  # a name that happens to be "3"
    await chat.say("王阿姨", "3")  # within the same second: not mistaken for a redelivery
    assert chat.texts_to("王阿姨")[-1] == "好的，3住3楼，已记下。"
