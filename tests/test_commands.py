"""Officers type commands on phones: full-width marks, odd spacing and @-mentions all parse."""

import pytest

from bot.commands import parse_command


@pytest.mark.parametrize("text", [
    "/统计 上周 居民群", "／统计　上周　居民群", "＃统计  上周\t居民群", "#统计 上周 居民群 ",
    "  /  统计 上周   居民群", "@警民群助手\u2005/统计 上周 居民群", "@警民群助手 ＃统计　上周 居民群",
])
def test_same_command_however_typed(text):
    parsed = parse_command(text)
    assert parsed is not None
    assert (parsed.name, parsed.args) == ("统计", ["上周", "居民群"])


def test_rest_keeps_the_announcement_text():
    parsed = parse_command("/公告 今天下午2点 停水，请大家提前储水。 全部")
    assert parsed.rest == "今天下午2点 停水，请大家提前储水。 全部"


@pytest.mark.parametrize("text", ["", "/", "#", "统计 上周", "请问 /帮助 怎么用", "＃"])
def test_not_a_command(text):
    assert parse_command(text) is None
