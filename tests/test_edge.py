"""What the door (bot.edge.admit) lets in: storable ids, names and texts, the same on every database."""

from datetime import datetime, timezone

from bot.edge import ID_MAX, NAME_MAX, admit
from bot.messages import IncomingMessage, MemberJoined

AT = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def _message(**changes) -> IncomingMessage:
    fields = dict(id="m1", sender_id="wx_wang", sender_name="王阿姨", text="身份证丢了怎么补", at=AT,
                  room_id="r1", room_name="幸福里居民群")
    return IncomingMessage(**{**fields, **changes})


def test_an_ordinary_message_is_let_in_as_it_came():
    message = _message()
    assert admit(message) is message


def test_a_lone_surrogate_or_nul_in_a_text_is_replaced_and_the_rest_kept():
    admitted = admit(_message(text="身份证\ud800丢了\x00怎么补"))
    assert admitted.text == "身份证\ufffd丢了怎么补"


def test_names_lose_control_characters_and_spaces_around_and_are_cut_to_the_column():
    admitted = admit(_message(sender_name=" 王\u200b阿姨\x07 ", room_name="群" * (NAME_MAX + 5)))
    assert admitted.sender_name == "王阿姨"
    assert admitted.room_name == "群" * NAME_MAX


def test_an_id_no_database_can_keep_drops_the_event():
    assert admit(_message(sender_id="wx_" + "x" * ID_MAX)) is None
    assert admit(_message(room_id="r\ud800")) is None
    assert admit(MemberJoined("r1", "幸福里居民群", ("wx_a", ""), ("甲", "乙"), None, AT)) is None


def test_names_inside_a_tuple_are_cleaned_each():
    joined = admit(MemberJoined("r1", "幸福里居民群", ("wx_a", "wx_b"), ("甲\x00", " 乙 "), "wx_a", AT))
    assert joined.member_names == ("甲", "乙")
