"""`jingmin check-config --district district.yaml`: the district file and every community config it
names, checked together; each problem one line naming the file and the key."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from tests.conftest import ROOT


def community(tmp_path: Path, name: str, prefix: str, **changes) -> None:
    """`name`.yaml: the sample community renamed to bot `name` and groups `prefix`..."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8").replace("幸福里", prefix))
    raw["bot"]["name"] = name
    raw["bot"]["community"] = f"{prefix}社区"
    for key, value in changes.items():
        raw[key] = value
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def district(tmp_path: Path, **changes) -> str:
    raw = {
        "name": "甘井子分局", "report_bot": "bureau", "report_room": "分局警务工作群",
        "communities": [{"bot": "bureau", "config": "bureau.yaml"}, {"bot": "chunhui", "config": "chunhui.yaml"}],
        "units": [{"name": "禁毒", "handles": ["毒品"], "bot": "bureau", "officers": ["张警官"]}],
        "schedules": [{"at": "每周一 09:00", "kind": "反诈", "target": "全区居民群"}],
    }
    raw.update(changes)
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def check(path: str) -> tuple[int, str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check-config", "--district", path])
    return code, out.getvalue(), err.getvalue().splitlines()


def check_community(config: Path) -> tuple[int, list[str]]:
    """`jingmin check-config CONFIG` of one community: (exit code, the lines on stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as ended:
        main(["check-config", str(config)])
    return ended.value.code, err.getvalue().splitlines()


def both(tmp_path: Path) -> None:
    community(tmp_path, "bureau", "分局")
    community(tmp_path, "chunhui", "春晖")


def test_a_good_district_is_ok_with_each_community(tmp_path):
    both(tmp_path)
    code, out, err = check(district(tmp_path))
    assert (code, err) == (0, [])
    assert "district.yaml: ok (2 communities, 1 units, 1 schedules, report to 分局警务工作群 by bureau)" in out
    assert "chunhui: chunhui.yaml ok (春晖社区, 4 groups" in out


def test_a_unit_officer_must_be_a_contact_of_the_units_bot(tmp_path):
    both(tmp_path)
    path = district(tmp_path, units=[{"name": "禁毒", "handles": ["毒品"], "bot": "chunhui",
                                      "officers": ["张警官", "禁毒王警官"]}])
    code, _, err = check(path)
    assert code == 2
    assert err == [f"config error: {path}: units[0].officers[1]: '禁毒王警官' is not a contact in "
                   f"{tmp_path / 'chunhui.yaml'} (the config of bot 'chunhui')"]


def test_the_report_room_must_be_a_group_of_the_report_bot(tmp_path):
    both(tmp_path)
    path = district(tmp_path, report_bot="chunhui")  # 分局警务工作群 is the bureau's group, not 春晖's
    code, _, err = check(path)
    assert code == 2
    assert err == [f"config error: {path}: report_room: '分局警务工作群' is not a group in "
                   f"{tmp_path / 'chunhui.yaml'} (the config of report_bot 'chunhui')"]


def test_a_community_config_must_carry_the_bot_name_the_district_gives_it(tmp_path):
    both(tmp_path)
    community(tmp_path, "chunhui", "春晖", bot={"name": "xingfuli", "community": "春晖社区"})
    path = district(tmp_path)
    code, _, err = check(path)
    assert code == 2
    assert err == [f"config error: {tmp_path / 'chunhui.yaml'}: bot.name: 'xingfuli', but {path} gives this "
                   "community the bot 'chunhui' (communities[1].bot)"]


def test_a_community_configs_own_problems_name_its_file_and_key(tmp_path):
    both(tmp_path)
    community(tmp_path, "chunhui", "春晖", groups=[{"name": "春晖居民群", "category": "居民"}])
    code, _, err = check(district(tmp_path))
    assert code == 2
    assert any(line.startswith(f"config error: {tmp_path / 'chunhui.yaml'}: groups[0].category: unknown category "
                               "'居民'") for line in err), err


def test_a_missing_community_config_is_named(tmp_path):
    community(tmp_path, "bureau", "分局")
    code, _, err = check(district(tmp_path))
    assert code == 2
    assert err == [f"config error: {tmp_path / 'chunhui.yaml'}: file not found"]


def test_the_district_files_own_problems_name_the_key(tmp_path):
    both(tmp_path)
    path = district(tmp_path, report_bot="nobody",
                    units=[{"name": "禁毒", "handles": ["毒品"], "bot": "ghost", "officers": ["张警官"]}])
    code, _, err = check(path)
    assert code == 2
    assert f"config error: {path}: report_bot: unknown bot 'nobody' (communities: bureau, chunhui)" in err
    assert f"config error: {path}: units[0].bot: unknown bot 'ghost' (communities: bureau, chunhui)" in err


def test_a_community_without_a_config_file_is_named(tmp_path):
    both(tmp_path)
    path = district(tmp_path, communities=[{"bot": "bureau", "config": "bureau.yaml"}, {"bot": "chunhui"}])
    code, _, err = check(path)
    assert code == 2
    assert err == [f"config error: {path}: communities[1].config: required key is missing (the community's config file)"]


def test_a_community_config_naming_a_broken_district_file_is_refused_naming_the_key(tmp_path):
    community(tmp_path, "chunhui", "春晖", district="district.yaml")
    district(tmp_path, units=[{"name": "禁毒", "handles": ["毒品"], "bot": "nobody", "officers": ["张警官"]}])
    code, err = check_community(tmp_path / "chunhui.yaml")
    assert code == 2
    assert any(line.endswith("district: " + str(tmp_path / "district.yaml") + ": units[0].bot: unknown bot "
                             "'nobody' (communities: bureau, chunhui)") for line in err), err


def test_a_community_its_district_does_not_list_is_refused(tmp_path):
    community(tmp_path, "heping", "和平", district="district.yaml")
    district(tmp_path)
    code, err = check_community(tmp_path / "heping.yaml")
    assert code == 2 and any("has no community with bot 'heping' (communities: bureau, chunhui)" in line for line in err)


def test_a_unit_officer_must_have_a_police_role(tmp_path):
    community(tmp_path, "bureau", "分局")
    community(tmp_path, "chunhui", "春晖")
    raw = yaml.safe_load((tmp_path / "bureau.yaml").read_text(encoding="utf-8"))
    officer = next(c for c in raw["contacts"] if c["name"] == "张警官")
    officer["role"] = "resident"
    (tmp_path / "bureau.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code, _, err = check(district(tmp_path))
    assert code == 2
    assert any("units[0].officers[0]: '张警官' has the role 'resident'" in line for line in err), err
