"""jingmin sim: the shipped examples pass; a failed expect exits 1; an invalid scenario exits 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.scenario import play

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


async def _play(path: Path):
    out, err = io.StringIO(), io.StringIO()
    code = await play(path, out, err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_example_scenarios_pass(path):
    code, lines, err = await _play(path)
    assert code == 0, err
    district = {"bot"} if path.stem.startswith("district_") else set()  # several bots: each line names its bot
    assert lines and all(set(line) == {"at", "room", "to", "kind", "text"} | district for line in lines)


DISTRICT_EXAMPLES = [p for p in EXAMPLES if p.stem.startswith("district_")]


def test_at_least_three_district_scenarios_are_shipped():
    assert len(DISTRICT_EXAMPLES) >= 3


@pytest.mark.parametrize("path", DISTRICT_EXAMPLES, ids=lambda p: p.stem)
async def test_district_scenarios_pass_on_postgresql_too(path):
    from tests.conftest import IN_CI, PG_URL

    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but JINGMIN_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL not configured: set JINGMIN_TEST_PG_URL")
    out, err = io.StringIO(), io.StringIO()
    code = await play(path, out, err, database=PG_URL)
    assert code == 0, err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len({line["bot"] for line in lines}) >= 2


async def test_a_district_scenario_says_which_bot_sent_what_and_routes_steps_to_the_right_bot():
    code, lines, err = await _play(next(p for p in DISTRICT_EXAMPLES if p.stem == "district_tip_to_unit"))
    assert code == 0, err
    by_bot = {(line["bot"], line["to"]) for line in lines if line["to"]}
    assert ("bureau", "禁毒王警官") in by_bot and ("chunhui", "王阿姨") in by_bot
    assert ("bureau", "王阿姨") not in by_bot  # the resident hears only from her own bot
    assert not [line for line in lines if line["room"]]


DISTRICT_HEAD = """district: {name: 分局, units: [{name: 禁毒, handles: [毒品], officers: [王警官]}]}
bots:
  - {name: aa, rooms: [{name: 甲群, category: resident}], contacts: [{name: 张警官, role: officer}]}
  - {name: bb, rooms: [{name: %s, category: work}], contacts: [{name: %s, role: officer}]}
"""


@pytest.mark.parametrize("room, officer, steps, where", [
    ("甲群", "王警官", "  - advance: 1h\n", "bots[1].rooms: '甲群' is also a room of aa"),
    ("乙群", "李警官", "  - advance: 1h\n", "district.units[0].bot: no bots have its officers"),
    ("乙群", "王警官", "  - say: {from: 路人, text: 你好}\n", "steps[0] (say): 0 bots have a friend named '路人'"),
    ("乙群", "王警官", "  - say: {from: 张警官, text: 你好, bot: cc}\n", "steps[0] (say): unknown bot 'cc'"),
])
async def test_an_invalid_district_scenario_exits_2_naming_the_problem(tmp_path, room, officer, steps, where):
    script = tmp_path / "bad.yaml"
    script.write_text(DISTRICT_HEAD % (room, officer) + "steps:\n" + steps, encoding="utf-8")
    code, _, err = await _play(script)
    assert code == 2
    assert where in err and len(err.strip().splitlines()) == 1, err


async def test_a_step_naming_a_bot_outside_a_district_scenario_is_invalid(tmp_path):
    script = tmp_path / "bad.yaml"
    script.write_text("steps:\n  - say: {from: 王阿姨, text: 你好, bot: aa}\n", encoding="utf-8")
    code, _, err = await _play(script)
    assert code == 2 and "unknown key(s) ['bot']" in err


async def test_merged_welcome_is_one_message(tmp_path):
    code, lines, err = await _play(next(p for p in EXAMPLES if p.stem == "join_and_friend"))
    welcomes = [line for line in lines if line["room"] == "幸福里居民群"]
    assert len(welcomes) == 1 and "小李、老吴、小芳" in welcomes[0]["text"]


async def test_failed_expect_exits_1_with_the_reason_on_stderr(tmp_path):
    script = tmp_path / "s.yaml"
    # A Tuesday afternoon: no scheduled push or weekly report falls inside the scenario.
    script.write_text("start: 2026-12-08T15:00:00+08:00\nsteps:\n"
                      "  - say: {from: 王阿姨, text: /帮助}\n"
                      "  - expect: {to: 王阿姨, contains: 不会出现的字}\n", encoding="utf-8")
    code, lines, err = await _play(script)
    assert code == 1 and [line["to"] for line in lines] == ["王阿姨"]
    assert "steps[1] (expect)" in err and "不会出现的字" in err


@pytest.mark.parametrize("body, where", [
    ("steps:\n  - shout: {from: 王阿姨}\n", "steps[0]"),
    ("steps:\n  - say: {from: 王阿姨}\n", "steps[0] (say): missing ['text']"),
    ("steps:\n  - advance: soon\n", "steps[0] (advance)"),
    ("start: tomorrow\nsteps:\n  - advance: 1h\n", "start"),
    ("steps:\n  - say: {from: 王阿姨, room: 不存在的群, text: 你好}\n", "steps[0] (say): unknown room"),
])
async def test_invalid_scenario_exits_2_naming_the_step(tmp_path, body, where):
    script = tmp_path / "bad.yaml"
    script.write_text(body, encoding="utf-8")
    code, _, err = await _play(script)
    assert code == 2
    assert where in err and len(err.strip().splitlines()) == 1


def test_cli_exit_code(tmp_path, capsys):
    from bot.cli import main

    script = tmp_path / "bad.yaml"
    script.write_text("steps: []\n", encoding="utf-8")
    assert main(["sim", "--script", str(script)]) == 2
