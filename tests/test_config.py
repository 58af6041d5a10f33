"""config.yaml: the sample is valid; every bad file gets one line per problem naming the key."""

import subprocess
import sys

import pytest
import yaml

from bot.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT, sample_raw


def problems_of(raw, env=None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env=env or {})
    return err.value.problems


def test_sample_config_describes_a_community_to_play_with():
    config = load_config(ROOT / "config.yaml", env={})
    categories = {g.category for g in config.groups}
    assert {"resident", "building", "work"} <= categories
    roles = {c.role for c in config.contacts}
    assert {"officer", "staff", "property", "resident"} <= roles
    assert config.services and config.guide and config.pushes.schedules


def test_unknown_category_names_the_key_and_the_choices():
    raw = sample_raw()
    raw["groups"][2]["category"] = "xx"
    assert problems_of(raw) == [
        "groups[2].category: unknown category 'xx' (resident, building, work, merchant, school)"]


def test_every_problem_is_reported_on_its_own_line():
    raw = sample_raw()
    raw["contacts"][0]["role"] = "boss"
    raw["outbox"]["room_hourly_cap"] = 0
    raw["quiet_hours"]["start"] = "25:00"
    raw["colour"] = "blue"
    found = problems_of(raw)
    assert len(found) == 4
    assert any(p.startswith("contacts[0].role: unknown role 'boss'") for p in found)
    assert any(p.startswith("outbox.room_hourly_cap:") for p in found)
    assert any(p.startswith("quiet_hours.start: '25:00' is not a time of day") for p in found)
    assert "colour: unknown key (check the spelling)" in found


def test_missing_required_key_and_cross_references():
    raw = sample_raw()
    del raw["groups"][0]["category"]
    assert problems_of(raw) == ["groups[0].category: required key is missing"]
    raw = sample_raw()
    raw["contacts"][1]["rooms"] = ["不存在的群"]
    raw["guide"][0]["service"] = "办护照"
    assert problems_of(raw) == ["contacts[1].rooms[0]: unknown group '不存在的群'",
                                "guide[0].service: unknown service '办护照'"]


def test_duplicate_group_names_are_refused():
    raw = sample_raw()
    raw["groups"].append(dict(raw["groups"][0]))
    assert problems_of(raw) == [f"groups[4].name: duplicate name '{raw['groups'][0]['name']}'"]


def test_environment_overrides_the_file():
    env = {"JINGMIN_DATABASE_URL": "postgresql+asyncpg://db/x", "WECHATY_PUPPET_SERVICE_TOKEN": "tok",
           "WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:9999", "JINGMIN_SECRET_KEY": "k"}
    config = parse_config(sample_raw(), env=env)
    assert config.database.url == "postgresql+asyncpg://db/x"
    assert (config.wechat.token, config.wechat.endpoint) == ("tok", "127.0.0.1:9999")
    assert config.security.secret_key == "k"


def test_bad_database_url_from_environment_names_the_key():
    assert problems_of(sample_raw(), env={"JINGMIN_DATABASE_URL": "mysql://x"}) == [
        "database.url: 'mysql://x' must start with sqlite+aiosqlite:// or postgresql+asyncpg://"]


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{tmp_path / 'nope.yaml'}: file not found"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: [\n  - name: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "not valid YAML" in err.value.problems[0]
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(listy)
    assert err.value.problems[0].startswith("(top level):")


def test_check_config_cli_exits_nonzero_without_traceback(tmp_path):
    raw = sample_raw()
    raw["groups"][2]["category"] = "xx"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == ("config error: groups[2].category: unknown category 'xx' "
                                  "(resident, building, work, merchant, school)")
    ok = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", str(ROOT / "config.yaml")],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_check_config_names_a_time_expression_and_a_time_zone_it_cannot_use(tmp_path):
    """Both used to pass: the bot then dropped the schedule, and ran in Asia/Shanghai regardless."""
    raw = sample_raw()
    raw["pushes"]["schedules"][0]["when"] = "每周八 09:00"
    raw["pushes"]["schedules"][1]["target"] = "5号楼群"
    raw["bot"]["timezone"] = "Asia/Shanhai"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "bot.timezone: unknown time zone 'Asia/Shanhai'" in run.stderr
    raw["bot"]["timezone"] = "Asia/Urumqi"
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    assert err.value.problems[0].startswith("pushes.schedules[0].when: '每周八 09:00' is not a time expression")
    assert err.value.problems[1].startswith("pushes.schedules[1].target: unknown group or category '5号楼群'")


def test_the_bot_runs_in_the_configured_time_zone(tmp_path):
    from bot.app import App
    from bot.transport import MemoryTransport
    from bot.vault import test_key

    raw = sample_raw()
    raw["bot"]["timezone"] = "Asia/Urumqi"
    app = App(parse_config(raw, env={}), MemoryTransport(lambda: None), secret_key=test_key())
    assert str(app.clock.tz) == "Asia/Urumqi" and app.clock.now().utcoffset().total_seconds() == 6 * 3600


def test_sim_writes_into_a_temporary_data_dir_not_the_live_bots(tmp_path):
    from bot.scenario import load_scenario

    script = tmp_path / "s.yaml"
    script.write_text("steps:\n  - say: {from: 王阿姨, text: 你好}\n", encoding="utf-8")
    config, _, _ = load_scenario(script, f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}", tmp_path)
    assert config.data_path == tmp_path
    config, _, _ = load_scenario(script, f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}")
    assert not config.data_path.resolve().is_relative_to(ROOT)
