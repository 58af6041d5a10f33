"""The pure part of a tip: receipts, summaries, what a resident's answers mean, quota and overdue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import SHANGHAI
from handlers.tips.receipts import (CATEGORIES, category_of, category_options, confirms, is_overdue, local_stamp,
                                    new_receipt, quota_key, receipt_in, show_receipt, summarise,
                                    wants_confidential, when_where_of)

# ---- the receipt --------------------------------------------------------------------------------


def test_a_receipt_is_sixteen_digits_and_never_the_same_twice():
    made = {new_receipt() for _ in range(200)}
    assert len(made) == 200
    assert all(len(r) == 16 and r.isdigit() for r in made)


def test_a_receipt_is_shown_in_groups_of_four():
    assert show_receipt("1234567812345678") == "1234 5678 1234 5678"


@pytest.mark.parametrize("typed", ["1234567812345678", "1234 5678 1234 5678", "12345678 12345678",
                                   " 1234\t5678 12345678 "])
def test_a_receipt_is_read_however_the_resident_spaced_it(typed):
    assert receipt_in(typed) == "1234567812345678"


@pytest.mark.parametrize("typed", ["123456781234567", "12345678123456789", "1234 5678 1234 5678 9"])
def test_a_code_of_another_length_is_no_tip_receipt(typed):
    assert receipt_in(typed) is None  # a booking code or the like: another feature's


# ---- the summary officers see first ------------------------------------------------------------------


def test_a_short_text_is_its_own_summary_with_the_phone_masked():
    assert summarise("有人在卖假药，电话13812345678") == "有人在卖假药，电话138****5678"


def test_a_long_text_is_cut_at_forty_characters_after_masking():
    text = "楼" * 35 + "13812345678" + "尾巴"
    summary = summarise(text)
    assert summary == "楼" * 35 + "138**…"
    assert "13812" not in summary  # cut first, the number's first five digits would have shown unmasked


def test_an_id_number_in_a_tip_is_masked_in_the_summary():
    assert summarise("他的身份证号是110101199003077777") == "他的身份证号是110101********7777"


def test_line_breaks_and_runs_of_spaces_become_one_space():
    assert summarise("5号楼\n\n地下室   晚上") == "5号楼 地下室 晚上"


# ---- what the resident answers -------------------------------------------------------------------


@pytest.mark.parametrize("said, category", [
    ("1", "诈骗/经济犯罪"), ("2", "毒品"), ("5", "其他"), (" 3 ", "食品药品"),
    ("治安/盗窃", "治安/盗窃"), ("有人搞传销", "诈骗/经济犯罪"), ("车被偷了", "治安/盗窃"),
    ("卖过期的奶粉", "食品药品"), ("别的事", "其他"),
])
def test_the_category_is_understood_by_number_name_or_word(said, category):
    assert category_of(said) == category


@pytest.mark.parametrize("said", ["0", "6", "9", "随便", ""])
def test_an_unclear_category_is_not_guessed(said):
    assert category_of(said) is None


def test_the_categories_are_offered_numbered_in_order():
    assert category_options().splitlines() == [f"{i}. {c}" for i, c in enumerate(CATEGORIES, 1)]


@pytest.mark.parametrize("said, confidential", [
    ("保密", True), ("要保密。", True), ("需要！", True), ("1", True),
    ("不用", False), ("不保密", False), ("公开", False), ("2", False),
])
def test_confidentiality_is_what_the_resident_said(said, confidential):
    assert wants_confidential(said) is confidential


@pytest.mark.parametrize("said", ["随便", "都行", ""])
def test_an_unclear_confidentiality_answer_is_asked_again(said):
    assert wants_confidential(said) is None


@pytest.mark.parametrize("said, confirmed", [("确认", True), ("好的！", True), ("提交。", True), ("嗯嗯", True), ("嗯？", False),
                                             ("返回", False)])
def test_only_a_clear_yes_submits(said, confirmed):
    assert confirms(said) is confirmed


@pytest.mark.parametrize("said, kept", [("跳过", None), ("不清楚", None), (" 昨天下午，3号楼门口 ", "昨天下午，3号楼门口")])
def test_when_and_where_can_be_skipped(said, kept):
    assert when_where_of(said) == kept


# ---- the daily quota ----------------------------------------------------------------------------------


def test_the_quota_counts_by_the_communitys_day_not_utc():
    late_evening_utc = datetime(2026, 12, 7, 17, 0, tzinfo=timezone.utc)  # 01:00 on 12-08 in Shanghai
    day, key = quota_key(late_evening_utc, SHANGHAI, "wxid_a")
    assert day.isoformat() == "2026-12-08" and key == "tip-quota:2026-12-08:wxid_a"


def test_one_reporters_quota_keys_differ_from_day_to_day_and_from_other_reporters():
    now = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    today = quota_key(now, SHANGHAI, "wxid_a")[1]
    assert today != quota_key(now + timedelta(days=1), SHANGHAI, "wxid_a")[1]
    assert today != quota_key(now, SHANGHAI, "wxid_b")[1]
    assert today == quota_key(now + timedelta(hours=10), SHANGHAI, "wxid_a")[1]


# ---- overdue and times shown -----------------------------------------------------------------------


def test_a_tip_without_a_reply_is_overdue_after_the_configured_hours():
    came_in = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    assert not is_overdue(came_in, None, came_in + timedelta(hours=47, minutes=59), 48)
    assert is_overdue(came_in, None, came_in + timedelta(hours=48), 48)


def test_a_tip_an_officer_has_answered_is_never_overdue():
    came_in = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    assert not is_overdue(came_in, came_in + timedelta(hours=1), came_in + timedelta(days=10), 48)


def test_times_are_shown_on_the_communitys_clock():
    assert local_stamp(datetime(2026, 12, 7, 22, 30, tzinfo=timezone.utc), SHANGHAI) == "12-08 06:30"


def test_receipts_are_found_inside_a_longer_message_however_spaced():
    from handlers.tips.receipts import receipts_in

    assert receipts_in("帮我看看 1234 5678 1234 5678 是啥") == ["1234567812345678"]
    assert receipts_in("查询1234567812345678") == ["1234567812345678"]
    assert receipts_in("卡号 6222 0212 3456 7890 123") == []  # 19 digits: a bank card, not a receipt
    assert receipts_in("电话13812345678") == []
