"""The core knows no feature: plugins are found by name, bring their own config, commands and
records, and what the product promises has a producer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import Field
from sqlalchemy import select

import handlers
from bot.app import App
from bot.config import ConfigError, Strict, parse_config
from bot.harness import Harness
from bot.plugin import EVERYONE, OFFICER, STAFF, Plugin
from bot.plugins import available, load_all
from bot.registry import Registry, RegistryError
from storage.models import AuditEntry
from storage.registers import REGISTERS
from tests.conftest import ROOT, make_config, sample_raw


def test_nothing_in_the_core_imports_a_feature():
    """bot/ and storage/ never import handlers: features arrive as plugins, found by name."""
    offenders = []
    for folder in ("bot", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "handlers"]
    assert offenders == []


def test_every_register_and_report_line_the_product_promises_has_a_producer():
    registry = Registry(load_all())
    assert set(handlers.PRODUCT_REGISTERS) == set(REGISTERS)
    missing = [code for code in handlers.PRODUCT_REGISTERS if not registry.rows_for(code)]
    assert missing == [], f"registers nobody fills: {missing}"
    lines = {spec.name for spec in registry.report_lines}
    assert set(handlers.PRODUCT_REPORT_LINES) <= lines
    for code, owners in handlers.REGISTER_PRODUCERS.items():
        for owner in owners:
            plugin = next(p for p in registry.plugins if p.name == owner)
            assert any(r.register == code for r in plugin.register_providers), f"{owner} adds no rows to {code}"


def test_a_plugin_set_without_the_producer_is_caught():
    """The check above is not vacuous: leave out the disputes plugin and its register is empty."""
    registry = Registry([p for p in load_all() if p.name != "disputes"])
    assert registry.rows_for("dispute") == []


def test_installed_plugins_are_found_by_entry_point_and_loaded_in_their_order():
    names = [p.name for p in load_all()]
    assert set(names) == set(available())
    assert names[:3] == ["intents", "help", "admin"]  # by Plugin(order=...), not alphabetically


def test_config_can_name_the_plugins_and_an_unknown_one_is_a_config_error():
    raw = sample_raw()
    raw["plugins"] = ["help", "tips", "no_such_feature"]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    assert err.value.problems == [f"plugins: unknown plugin 'no_such_feature' (installed: {', '.join(available())})"]


def test_a_section_belongs_to_its_plugin_only():
    """With only `help` loaded, the tips section is an unknown key, named like any other."""
    raw = {"plugins": ["help"], "tips": {"daily_limit": 3}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    assert err.value.problems == ["tips: unknown key (check the spelling)"]


def test_a_plugins_own_section_is_validated_with_key_paths():
    raw = sample_raw()
    raw["tips"]["daily_limit"] = 0
    raw["services"][0]["days"] = ["monday"]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    assert err.value.problems == [
        "services[0].days: unknown weekday 'monday' (mon, tue, wed, thu, fri, sat, sun)",
        "tips.daily_limit: Input should be greater than or equal to 1",
    ]


class GreetingSettings(Strict):
    word: str = Field("你好", min_length=1)


greeter = Plugin("greeter", config=GreetingSettings)
greeter.command_group("问候", roles=EVERYONE, summary="问候")


@greeter.subcommand("问候", "说", pattern=r"(?P<name>\S{1,10})", usage="名字", summary="向某人问好")
async def say_hello(ctx, name: str) -> None:
    await ctx.reply(f"{ctx.app.config.greeter.word}，{name}！")


@greeter.subcommand("问候", "清空", roles=OFFICER, summary="清空问候")
async def clear(ctx) -> None:
    await ctx.reply("已清空。")


def greeter_config(db_url: str, **sections):
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    raw["plugins"] = [*available(), "tests.test_plugins:greeter"]
    raw.update(sections)
    return parse_config(raw, env={})


def test_an_outside_plugin_named_in_config_brings_its_section(db_url):
    config = greeter_config(db_url, greeter={"word": "早上好"})
    assert config.greeter.word == "早上好"
    with pytest.raises(ConfigError) as err:
        greeter_config(db_url, greeter={"word": ""})
    assert err.value.problems == ["greeter.word: String should have at least 1 character"]


async def test_subcommands_parse_their_arguments_check_roles_and_are_audited_each(db_url):
    async with Harness(greeter_config(db_url)) as bot:
        await bot.say("王阿姨", "/问候 说 张警官", room="幸福里居民群")
        assert bot.texts_to("幸福里居民群")[-1] == "你好，张警官！"
        await bot.say("王阿姨", "/问候 说 张警官 和 小刘", room="幸福里居民群")  # does not fit the pattern
        assert bot.texts_to("幸福里居民群")[-1] == "用法：/问候 说 名字"
        await bot.say("王阿姨", "/问候 清空", room="幸福里居民群")
        assert "只有社区民警可以使用" in bot.texts_to("幸福里居民群")[-1]
        await bot.say("张警官", "/问候")
        assert bot.texts_to("张警官")[-1] == "用法：/问候 说 名字\n/问候 清空"
        await bot.say("张警官", "/问候 清空")
        assert bot.texts_to("张警官")[-1] == "已清空。"
        await bot.say("张警官", "/帮助")
        assert "/问候" in bot.texts_to("张警官")[-1]  # the overview: one line a command
        await bot.say("张警官", "/帮助 问候")
        help_text = bot.texts_to("张警官")[-1]
        assert "/问候 说 名字：向某人问好" in help_text and "/问候 清空：清空问候" in help_text
        async with bot.app.sessions() as s:
            audited = (await s.execute(select(AuditEntry.command, AuditEntry.outcome).order_by(AuditEntry.id))).all()
    # A resident's refused try at an officer's subcommand is on record too; /帮助 by an officer is.
    assert [tuple(a) for a in audited] == [("问候 清空", "refused: role"), ("问候", "usage"), ("问候 清空", "ok"),
                                           ("帮助", "ok"), ("帮助", "ok")]


def test_two_plugins_cannot_claim_the_same_command_or_section():
    one, two = Plugin("one", config=GreetingSettings, config_key="shared"), Plugin("two")
    one.command("同名")(say_hello)
    two.command("同名")(say_hello)
    with pytest.raises(RegistryError, match="command '同名' declared by one and two"):
        Registry([one, two])
    three = Plugin("three", config=GreetingSettings, config_key="shared")
    with pytest.raises(RegistryError, match="config section 'shared' declared by one and three"):
        Registry([one, three])


async def test_a_bot_with_only_some_plugins_runs_and_reads_nothing_as_an_intent(db_url):
    """No classifier plugin: residents' texts are 'other'; commands still work."""
    raw = {"database": {"url": db_url}, "plugins": ["help"],
           "groups": [{"name": "幸福里居民群", "category": "resident"}],
           "contacts": [{"name": "张警官", "role": "officer"}]}
    config = parse_config(raw, env={})
    async with Harness(config) as bot:
        assert [p.name for p in bot.app.registry.plugins] == ["help"]
        await bot.say("王阿姨", "着火了！快来人", room="幸福里居民群")
        assert bot.take() == []
        await bot.say("张警官", "/帮助")
        assert "/帮助" in bot.texts_to("张警官")[-1]


def test_an_app_refuses_a_config_parsed_without_its_plugins_sections(db_url):
    config = parse_config({"database": {"url": db_url}, "plugins": ["help"]}, env={})
    with pytest.raises(RegistryError, match="without the section"):
        App(config, transport=None, secret_key="x" * 44, plugins=load_all())


async def test_services_are_typed_and_built_once_per_bot(db_url):
    from handlers.guide import GuideIndex

    async with Harness(make_config(db_url)) as bot:
        index = bot.app.service(GuideIndex)
        assert index is bot.app.service(GuideIndex)
        assert index.match("办居住证要带什么") is not None
        with pytest.raises(LookupError, match="no loaded plugin provides Path"):
            bot.app.service(Path)
