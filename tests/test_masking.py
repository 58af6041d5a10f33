"""Masking matches how people write numbers: one table of the forms seen in chats."""

import pytest

from bot.masking import mask_phone, mask_text

PHONE = "137****1111"
ID = "210211********123X"

FORMS = [
    # mobiles, plain and inside text
    ("13700001111", PHONE),
    ("电话13700001111", f"电话{PHONE}"),
    ("电话13700001111谢谢", f"电话{PHONE}谢谢"),
    ("我的手机是13700001111，请回电", f"我的手机是{PHONE}，请回电"),
    ("tel:13700001111", f"tel:{PHONE}"),
    ("(13700001111)", f"({PHONE})"),
    ("13700001111。", f"{PHONE}。"),
    ("13700001111 3号楼", f"{PHONE} 3号楼"),
    ("住3号楼 13700001111", f"住3号楼 {PHONE}"),
    ("两个号13700001111和15800002222", f"两个号{PHONE}和158****2222"),
    # spaces and hyphens
    ("137 0000 1111", PHONE),
    ("137-0000-1111", PHONE),
    ("137 - 0000 - 1111", PHONE),
    ("1370 000 1111", PHONE),
    ("137　0000　1111", PHONE),  # full-width space
    ("137–0000–1111", PHONE),  # en dash
    ("137－0000－1111", PHONE),  # full-width hyphen
    ("1 3 7 0 0 0 0 1 1 1 1", PHONE),
    ("电话：137 0000 1111。", f"电话：{PHONE}。"),
    # country code
    ("+8613700001111", f"+86 {PHONE}"),
    ("+86 13700001111", f"+86 {PHONE}"),
    ("+86-137-0000-1111", f"+86 {PHONE}"),
    ("008613700001111", f"+86 {PHONE}"),
    ("＋86 137 0000 1111", f"+86 {PHONE}"),
    # full-width digits
    ("１３７００００１１１１", PHONE),
    ("电话１３７ ００００ １１１１", f"电话{PHONE}"),
    ("１３7０000１１11", PHONE),
    # resident IDs
    ("210211198001011234", "210211********1234"),
    ("21021119800101123X", ID),
    ("21021119800101123x", "210211********123x"),
    ("210211 19800101 123X", ID),
    ("210211-19800101-123X", ID),
    ("2102 1119 8001 0112 3X", ID),
    ("身份证210211198001011234号", "身份证210211********1234号"),
    ("身份证号：21021119800101123X，电话13700001111", f"身份证号：{ID}，电话{PHONE}"),
    ("２１０２１１１９８００１０１１２３Ｘ", "210211********123X"),
    ("２１０２１１１９８００１０１１２３ｘ", "210211********123x"),
    ("ID 210211198001011234.", "ID 210211********1234."),
    # what must stay as it is
    ("订单号2021123456789012345678", "订单号2021123456789012345678"),
    ("座机041188881234", "座机041188881234"),
    ("12345678901", "12345678901"),  # 12… is no mobile prefix
    ("1370000111", "1370000111"),  # ten digits
    ("2026-12-07 09:00", "2026-12-07 09:00"),
    ("3号楼2单元501", "3号楼2单元501"),
    ("110", "110"),
    ("wx_13700001111", f"wx_{PHONE}"),  # a contact id made of a number is masked too
    ("abc210211198001011234", "abc210211198001011234"),  # part of a longer code, no ID
]


def test_the_table_has_at_least_forty_forms():
    assert len(FORMS) >= 40


@pytest.mark.parametrize("raw,masked", FORMS)
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_phone_keeps_its_simple_form():
    assert mask_phone("13812341234") == "138****1234"
