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
    assert lines and set(lines[0]) == {"at", "room", "to", "kind", "text"}


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
