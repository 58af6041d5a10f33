import datetime as dt
import random
from collections import Counter
from pathlib import Path

import pytest

from handlers.pushes.notices import (
    CALL_LINE,
    FRAUD_TYPES,
    MAX_TEXT_CHARS,
    Notice,
    NoticeError,
    default_notice_dir,
    load_notices,
    pick_notice,
)

LIBRARY = load_notices([default_notice_dir()])


# ---------------------------------------------------------------- the shipped library


def test_every_shipped_file_loads():
    files = sorted(default_notice_dir().glob("*.yaml"))
    assert len(files) == len(LIBRARY) >= 20


@pytest.mark.parametrize("notice", LIBRARY, ids=lambda n: n.id)
def test_shipped_notice_content(notice):
    assert len(notice.text) <= MAX_TEXT_CHARS
    assert "96110" in notice.text or "110" in notice.text
    assert notice.type in FRAUD_TYPES
    assert notice.title
    # Plain text for WeChat: no markdown or HTML leaking into the group.
    assert not any(mark in notice.text for mark in ("**", "<", "](", "#"))


def test_at_least_two_notices_per_type():
    counts = Counter(n.type for n in LIBRARY)
    assert {t: counts[t] for t in FRAUD_TYPES if counts[t] < 2} == {}


def test_as_message_is_plain_text():
    msg = LIBRARY[0].as_message()
    assert msg.startswith("【反诈提醒·") and LIBRARY[0].text in msg


# ---------------------------------------------------------------- validation

GOOD = """\
id: {id}
type: 冒充公检法
title: 标题
text: 公检法不会在电话里办案，请拨打96110。
"""


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_loads_a_minimal_file(tmp_path):
    write(tmp_path, "ok-one", GOOD.format(id="ok-one"))
    [notice] = load_notices(tmp_path)  # a single directory is accepted too
    assert notice == Notice("ok-one", "冒充公检法", "标题", "公检法不会在电话里办案，请拨打96110。")


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        (GOOD.format(id="x").replace("type: 冒充公检法", "type: 电信诈骗"), "type", "not one of"),
        (GOOD.format(id="x").replace("title: 标题\n", ""), "title", "required"),
        (GOOD.format(id="x") + "tag: [学生]\n", "tag", "unknown field"),
        (GOOD.format(id="x") + "tags: [双11]\n", "tags", "unknown tag '双11'"),
        (GOOD.format(id="x") + "tags: 学生\n", "tags", "list"),
        (GOOD.format(id="x") + "season: {months: [13]}\n", "season", "1-12"),
        (GOOD.format(id="x") + "season: [1, 2]\n", "season", "months"),
        (GOOD.format(id="x").replace("请拨打96110。", "请注意。"), "text", "96110 or 110"),
        (GOOD.format(id="x").replace("公检法不会在电话里办案", "长" * 300), "text", "at most 300"),
        (GOOD.format(id="y"), "id", "file name"),
    ],
)
def test_invalid_file_names_file_and_field(tmp_path, body, field, fragment):
    path = write(tmp_path, "x", body)
    with pytest.raises(NoticeError) as err:
        load_notices([tmp_path])
    message = str(err.value)
    assert str(path) in message
    assert f"field '{field}'" in message
    assert fragment in message
    assert "\n" not in message


def test_bad_slug(tmp_path):
    write(tmp_path, "Bad_Id", GOOD.format(id="Bad_Id"))
    with pytest.raises(NoticeError, match="field 'id'.*slug"):
        load_notices([tmp_path])


def test_broken_yaml_is_one_line(tmp_path):
    path = write(tmp_path, "broken", "id: [unclosed\n")
    with pytest.raises(NoticeError) as err:
        load_notices([tmp_path])
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_not_a_mapping(tmp_path):
    write(tmp_path, "list", "- a\n- b\n")
    with pytest.raises(NoticeError, match="expected a mapping"):
        load_notices([tmp_path])


def test_duplicate_id_across_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write(a, "same", GOOD.format(id="same"))
    write(b, "same", GOOD.format(id="same"))
    with pytest.raises(NoticeError, match="already used"):
        load_notices([a, b])


def test_missing_directory(tmp_path):
    with pytest.raises(NoticeError, match="does not exist"):
        load_notices([tmp_path / "nope"])


# ---------------------------------------------------------------- picking


def mk(nid, *, type_="冒充公检法", tags=(), months=()):
    return Notice(nid, type_, nid, "96110", tuple(tags), frozenset(months))


def test_rotation_over_20_weeks_never_repeats_within_window():
    rng = random.Random(7)
    window = 12
    sent: list[str] = []  # most recent first
    monday = dt.date(2026, 1, 5)
    for week in range(20):
        notice = pick_notice(LIBRARY, sent[:window], monday + dt.timedelta(weeks=week), rng=rng)
        assert notice is not None
        assert notice.id not in sent[:window], f"week {week}: {notice.id} repeated"
        sent.insert(0, notice.id)


def test_rotation_per_type_cycles_when_all_were_sent_recently():
    rng = random.Random(1)
    of_type = [n for n in LIBRARY if n.type == "冒充公检法"]
    sent: list[str] = []
    for _ in range(4 * len(of_type)):
        notice = pick_notice(LIBRARY, sent, dt.date(2026, 6, 1), notice_type="冒充公检法", rng=rng)
        # With an unbounded history every pick after the first round is the least recently sent.
        assert notice.id not in sent[: len(of_type) - 1]
        sent.insert(0, notice.id)
    assert Counter(sent) == {n.id: 4 for n in of_type}


def test_all_recent_returns_least_recently_sent():
    notices = [mk("a"), mk("b"), mk("c")]
    assert pick_notice(notices, ["b", "a", "c"], dt.date(2026, 6, 1)).id == "c"
    assert pick_notice(notices, ["c", "b", "a", "c"], dt.date(2026, 6, 1)).id == "a"


def test_all_recent_as_a_set_still_returns_something():
    notices = [mk("a"), mk("b")]
    assert pick_notice(notices, {"a", "b"}, dt.date(2026, 6, 1), rng=random.Random(0)).id in {"a", "b"}


def test_never_returns_a_recent_one_while_others_remain():
    notices = [mk("a"), mk("b"), mk("c")]
    for seed in range(50):
        assert pick_notice(notices, {"a", "c"}, dt.date(2026, 6, 1), rng=random.Random(seed)).id == "b"


def test_type_filter_and_empty():
    notices = [mk("a"), mk("b", type_="刷单返利")]
    assert pick_notice(notices, [], dt.date(2026, 6, 1), notice_type="刷单返利").id == "b"
    assert pick_notice(notices, [], dt.date(2026, 6, 1), notice_type="虚假征信") is None
    assert pick_notice([], [], dt.date(2026, 6, 1)) is None


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2026, 1, 20), "spring"),  # 28 days before 2026-02-17
        (dt.date(2026, 11, 5), "double11"),
        (dt.date(2026, 6, 20), "graduation"),
        (dt.date(2026, 4, 10), "plain"),  # nothing seasonal: evergreen beats out-of-season
        (dt.date(2026, 12, 10), "year-end-months"),
    ],
)
def test_prefers_notices_in_season(day, expected):
    notices = [
        mk("plain"),
        mk("spring", tags=["春节前"]),
        mk("double11", tags=["双十一", "老年人"]),
        mk("graduation", tags=["毕业季"]),
        mk("year-end-months", months=[12]),
    ]
    for seed in range(20):
        assert pick_notice(notices, [], day, rng=random.Random(seed)).id == expected


def test_out_of_season_used_only_when_nothing_else_is_fresh():
    notices = [mk("plain"), mk("spring", tags=["春节前"])]
    assert pick_notice(notices, ["plain"], dt.date(2026, 7, 1)).id == "spring"


def test_spring_festival_window_follows_the_lunar_date():
    spring = mk("spring", tags=["春节前"])
    assert spring.in_season(dt.date(2027, 1, 20))  # 2027 festival is Feb 6
    assert not spring.in_season(dt.date(2027, 2, 10))
    assert spring.in_season(dt.date(2026, 2, 10))  # 2026 festival is Feb 17
    assert not spring.in_season(dt.date(2026, 2, 17))


def test_year_end_window_wraps_new_year():
    n = mk("n", tags=["年底"])
    assert n.in_season(dt.date(2026, 12, 31)) and n.in_season(dt.date(2027, 1, 10))
    assert not n.in_season(dt.date(2027, 3, 1))


def test_notice_is_frozen():
    with pytest.raises(AttributeError):
        LIBRARY[0].text = "x"  # type: ignore[misc]


def test_numeric_tag_is_read_as_text(tmp_path):
    write(tmp_path, "n", GOOD.format(id="n") + "tags: [618]\n")
    assert load_notices([tmp_path])[0].tags == ("618",)


def test_custom_ids_are_kept_for_notices_added_in_chat(tmp_path):
    write(tmp_path, "custom-1", GOOD.format(id="custom-1"))
    with pytest.raises(NoticeError, match="custom-1.yaml: field 'id': 'custom-1': ids starting with 'custom-'"):
        load_notices([tmp_path])


def test_a_notice_without_a_number_to_call_gets_one_in_the_message():
    short = Notice(id="custom-1", type="冒充公检法", title="", text="公检法不会电话办案。")
    assert short.as_message() == f"【反诈提醒·冒充公检法】公检法不会电话办案。\n{CALL_LINE}"
    assert "\n" + CALL_LINE not in LIBRARY[0].as_message()
