"""The booking diary without the bot: opening days, slots, free places, the words residents
write, booking codes and the register row of one booking. Plain values in, plain values out.

2026-12-07 is a Monday; 2026-10-01..07 is the National Day holiday and Saturday 2026-10-10 a
make-up workday (调休上班).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from bot.clock import SHANGHAI
from bot.workcal import WorkCalendar
from handlers.appointments.codes import CODE_ALPHABET, CODE_LENGTH, new_code, normal_code
from handlers.appointments.config import OpeningHours, ServiceConfig
from bot.masking import mask_name as masked_name
from handlers.appointments.export import reception_row
from handlers.appointments.parse import (day_part, parse_clock, parse_day, pick_number, read_mobile,
                                         read_name)
from handlers.appointments.slots import (Diary, Slot, find_service, free_days, free_slots, in_part, is_open,
                                         pick_slot, reminder_times, slot_times)
from handlers.appointments.texts import day_label, materials_of, place_of, when_label
from storage.appointments import BOOKED, CANCELLED, COMPLETED, NO_SHOW, Booking

MONDAY = date(2026, 12, 7)
RESIDENCE = ServiceConfig(name="居住证", aliases=["居住证签注"], materials=["本人身份证", "租房合同"],
                          slot_minutes=30, capacity=3, place="幸福里社区警务室")
ID_CARD = ServiceConfig(name="身份证", aliases=["办身份证", "身份证补办"], slot_minutes=20, capacity=2)
MIGRATION = ServiceConfig(name="户籍迁移", slot_minutes=30, capacity=2, days=["tue", "thu"])
SATURDAY_DESK = ServiceConfig(name="周六窗口", days=["sat"], hours=[OpeningHours(start="09:00", end="10:00")])
SERVICES = [RESIDENCE, ID_CARD, MIGRATION]
CALENDAR = WorkCalendar()


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), SHANGHAI)


def diary(now: datetime, taken: dict | None = None, closed: dict | None = None) -> Diary:
    return Diary(SHANGHAI, now, taken or {}, closed or {})


# ---- slot times ------------------------------------------------------------------------------------------

def test_a_day_is_cut_into_slots_of_the_service_length_within_the_opening_hours():
    times = slot_times(RESIDENCE, MONDAY, SHANGHAI)
    assert times[0] == (at(MONDAY, 9), at(MONDAY, 9, 30))
    assert (at(MONDAY, 11), at(MONDAY, 11, 30)) in times and (at(MONDAY, 16, 30), at(MONDAY, 17)) == times[-1]
    assert len(times) == 5 + 6  # 9:00-11:30 and 14:00-17:00


def test_a_slot_that_would_run_past_closing_is_not_offered():
    mornings = [start for start, _ in slot_times(ID_CARD, MONDAY, SHANGHAI) if start.hour < 12]
    assert mornings[-1] == at(MONDAY, 11)  # 11:00-11:20; 11:20-11:40 would pass 11:30


# ---- opening days ----------------------------------------------------------------------------------------

def test_weekdays_of_the_service_are_open_and_the_weekend_is_not():
    assert is_open(RESIDENCE, MONDAY, CALENDAR, {})
    assert not is_open(RESIDENCE, date(2026, 12, 12), CALENDAR, {})  # Saturday
    assert not is_open(MIGRATION, MONDAY, CALENDAR, {}) and is_open(MIGRATION, date(2026, 12, 8), CALENDAR, {})


def test_a_public_holiday_and_a_day_the_officer_closed_are_shut():
    assert not is_open(RESIDENCE, date(2026, 10, 1), CALENDAR, {})
    assert not is_open(RESIDENCE, MONDAY, CALENDAR, {MONDAY: "民警外出培训"})


def test_a_makeup_workday_opens_for_services_open_every_weekday_only():
    makeup_saturday = date(2026, 10, 10)
    assert is_open(RESIDENCE, makeup_saturday, CALENDAR, {})
    assert not is_open(MIGRATION, makeup_saturday, CALENDAR, {})


def test_a_weekend_day_the_service_lists_is_open():
    assert is_open(SATURDAY_DESK, date(2026, 12, 12), CALENDAR, {})
    assert not is_open(SATURDAY_DESK, MONDAY, CALENDAR, {})


# ---- free places -----------------------------------------------------------------------------------------

def test_free_slots_are_ahead_of_now_and_not_full():
    taken = {at(MONDAY, 9, 30): 3, at(MONDAY, 10): 1}
    slots = free_slots(RESIDENCE, MONDAY, diary(at(MONDAY, 9, 10), taken))
    assert slots[0] == Slot(at(MONDAY, 10), at(MONDAY, 10, 30), free=2)  # 9:00 is past, 9:30 full
    assert all(s.free == 3 for s in slots[1:]) and len(slots) == 9


def test_places_taken_match_a_slot_whatever_the_zone_they_were_read_in():
    taken = {at(MONDAY, 10).astimezone(timezone.utc): 3}
    slots = free_slots(RESIDENCE, MONDAY, diary(at(MONDAY, 9, 40), taken))
    assert at(MONDAY, 10) not in [s.start for s in slots]


def test_free_days_skip_the_weekend_closed_and_full_days_and_count_the_places():
    full_tuesday = {start: 3 for start, _ in slot_times(RESIDENCE, MONDAY + timedelta(days=1), SHANGHAI)}
    days = free_days(RESIDENCE, diary(at(MONDAY, 16, 10), full_tuesday, {date(2026, 12, 9): "培训"}), CALENDAR, 7)
    assert days == [(MONDAY, 3), (date(2026, 12, 10), 33), (date(2026, 12, 11), 33), (date(2026, 12, 14), 33)]


def test_free_days_are_at_most_days_ahead():
    days = free_days(RESIDENCE, diary(at(MONDAY, 8)), CALENDAR, 3)
    assert [d for d, _ in days] == [MONDAY, date(2026, 12, 8), date(2026, 12, 9)]


def test_a_day_with_no_slot_left_today_is_not_offered():
    days = free_days(RESIDENCE, diary(at(MONDAY, 17)), CALENDAR, 1)
    assert days == [(date(2026, 12, 8), 33)]


# ---- choosing -------------------------------------------------------------------------------------------

def test_a_service_by_name_alias_or_inside_a_sentence():
    assert find_service(SERVICES, "居住证") is RESIDENCE
    assert find_service(SERVICES, " 身份证补办 ") is ID_CARD
    assert find_service(SERVICES, "我要办居住证") is RESIDENCE
    assert find_service(SERVICES, "火箭发射") is None


def test_a_slot_by_number_by_a_time_inside_it_or_by_half_day():
    slots = free_slots(RESIDENCE, MONDAY, diary(at(MONDAY, 8)))
    assert pick_slot(slots, "2").start == at(MONDAY, 9, 30)
    assert pick_slot(slots, "9点45").start == at(MONDAY, 9, 30)
    assert pick_slot(slots, "下午2点").start == at(MONDAY, 14)
    assert pick_slot(slots, "下午").start == at(MONDAY, 14)
    assert pick_slot(slots, "23:00") is None and pick_slot(slots, "99") is None and pick_slot(slots, "随便") is None


def test_half_a_day_keeps_its_slots():
    slots = free_slots(RESIDENCE, MONDAY, diary(at(MONDAY, 8)))
    assert [s.start.hour for s in in_part(slots, "上午")] == [9, 9, 10, 10, 11]
    assert all(s.start.hour >= 14 for s in in_part(slots, "下午")) and in_part(slots, None) == slots


def test_the_hour_reminder_runs_before_every_slot_start_of_any_service():
    times = reminder_times(SERVICES, timedelta(minutes=60))
    assert times[:4] == [time(8, 0), time(8, 20), time(8, 30), time(8, 40)]
    assert time(13, 0) in times and times == sorted(set(times))


# ---- words ---------------------------------------------------------------------------------------------

def test_days_as_residents_write_them():
    assert parse_day("大后天", MONDAY) == date(2026, 12, 10)
    assert parse_day("12月8号上午", MONDAY) == date(2026, 12, 8)
    assert parse_day("2026/12/08", MONDAY) == date(2026, 12, 8)
    assert parse_day("星期天", MONDAY) == date(2026, 12, 13)
    assert parse_day("周一", MONDAY) == date(2026, 12, 14)  # today's weekday means next week's
    assert parse_day("9号", MONDAY) == date(2026, 12, 9)
    assert parse_day("5号", MONDAY) == date(2027, 1, 5)  # already past this month: next month's
    assert parse_day("2月30日", MONDAY) is None


def test_times_and_half_days():
    assert parse_clock("9点半") == time(9, 30)
    assert parse_clock("下午2点") == time(14, 0)
    assert parse_clock("14：30") == time(14, 30)
    assert parse_clock("2") is None and parse_clock("25:00") is None
    assert day_part("明天下午") == "下午" and day_part("明天") is None


def test_numbered_choices():
    assert pick_number(" 3 ", 4) == 2
    assert pick_number("0", 4) is None and pick_number("5", 4) is None and pick_number("3楼", 4) is None
    assert pick_number("3个", 4) == pick_number("第三个", 4) == pick_number("三", 4) == pick_number("3。", 4) == 2


def test_names_and_mobile_numbers():
    assert read_name("我叫王芳") == "王芳" and read_name("姓名：陈建国") == "陈建国"
    assert read_name("王") is None and read_name("王芳123") is None
    assert read_mobile("138 1234 5678") == "13812345678"
    assert read_mobile("+86 138-1234-5678") == "13812345678"
    assert read_mobile("23812345678") is None and read_mobile("12345") is None


def test_days_and_times_are_written_in_the_post_time_zone():
    assert day_label(MONDAY) == "12月7日（周一）"
    start = datetime(2026, 12, 8, 1, 30, tzinfo=timezone.utc)  # 09:30 in Beijing
    assert when_label(start, start + timedelta(minutes=30), SHANGHAI) == "12月8日（周二）09:30-10:00"


def test_what_to_bring_and_where_default_to_the_id_card_and_the_post():
    assert materials_of(RESIDENCE) == "本人身份证、租房合同"
    assert materials_of(ID_CARD) == "本人身份证" and materials_of(None) == "本人身份证"
    assert place_of(RESIDENCE, "警务室") == "幸福里社区警务室" and place_of(ID_CARD, "警务室") == "警务室"
    assert place_of(None, "警务室") == "警务室"


# ---- codes ---------------------------------------------------------------------------------------------

def test_codes_use_only_characters_that_cannot_be_misread():
    codes = {new_code(random.Random(seed)) for seed in range(200)}
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("".join(codes)) & set("0O1I") and len(codes) == 200


def test_the_same_random_source_gives_the_same_code_and_typed_codes_are_capitals():
    assert new_code(random.Random(7)) == new_code(random.Random(7))
    assert normal_code(" abc234 ") == "ABC234"


# ---- the register row of one booking ---------------------------------------------------------------------

def booking(status: str = BOOKED, closed_by: str | None = None, closed_at: datetime | None = None) -> Booking:
    return Booking(bot="xingfuli", code="ABC234", service="居住证", day=date(2026, 12, 8),
                   slot_start=at(date(2026, 12, 8), 9), slot_end=at(date(2026, 12, 8), 9, 30),
                   contact_id="wx:王阿姨", name="王芳", phone_enc="gAAAA-encrypted", status=status,
                   created_at=at(MONDAY, 8, 1), closed_at=closed_at, closed_by=closed_by, note="")


def test_a_booking_in_the_reception_register():
    row = reception_row(booking(), None)
    assert row.at == at(MONDAY, 8, 1)
    assert row.cells == {"类别": "预约办理", "事项": "居住证", "来源": "私聊", "群众": "王*", "办理情况": "已预约",
                         "办结时间": "", "经办人": ""}


def test_a_completed_booking_shows_when_and_by_whom():
    done = at(date(2026, 12, 8), 9, 10)
    row = reception_row(booking(COMPLETED, "wx:张警官", done), "张警官")
    assert (row.cells["办理情况"], row.cells["办结时间"], row.cells["经办人"]) == ("已办结", done, "张警官")


def test_a_resident_cancelling_has_no_officer_and_a_no_show_no_completion_time():
    cancelled = reception_row(booking(CANCELLED, "wx:王阿姨", at(MONDAY, 9)), "王阿姨")
    assert (cancelled.cells["办理情况"], cancelled.cells["办结时间"], cancelled.cells["经办人"]) == ("已取消", "", "")
    missed = reception_row(booking(NO_SHOW, "wx:张警官", at(date(2026, 12, 8), 10)), "张警官")
    assert (missed.cells["办理情况"], missed.cells["办结时间"], missed.cells["经办人"]) == ("爽约", "", "张警官")


def test_names_are_masked_after_the_first_character():
    assert masked_name("王芳") == "王*" and masked_name("欧阳娜娜") == "欧***" and masked_name("") == ""

