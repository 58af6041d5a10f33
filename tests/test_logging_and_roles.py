"""Personal numbers never reach the logs; roles are bound by one-time codes, not by nicknames."""

import io
import json
import logging
from datetime import timedelta

import pytest

from bot.logs import MaskingJsonFormatter
from bot.masking import mask_phone, mask_text
from handlers.admin import create_bind_code


@pytest.mark.parametrize("raw,masked", [
    ("电话13812345678", "电话138****5678"),
    ("身份证210211199001011234", "身份证210211********1234"),
    ("身份证21021119900101123X号", "身份证210211********123X号"),
    ("订单号2021123456789012345678", "订单号2021123456789012345678"),  # too long to be either
    ("座机041188881234", "座机041188881234"),
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_phone():
    assert mask_phone("13812341234") == "138****1234"


def test_every_log_line_is_masked_including_extras_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingJsonFormatter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("居民 13912345678 来电", extra={"id_number": "210211199001011234"})
        try:
            raise ValueError("bad phone 15800001111")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "13912345678" not in out and "210211199001011234" not in out and "15800001111" not in out
    first = json.loads(out.splitlines()[0])
    assert first["msg"] == "居民 139****5678 来电" and first["id_number"] == "210211********1234"


async def make_code(bot, role, ttl_shift=timedelta(0)):
    async with bot.app.sessions.begin() as session:
        code = await create_bind_code(session, bot.app.name, role, bot.clock.now() - ttl_shift)
    return code.code


async def test_bind_code_sent_privately_grants_the_role(bot):
    code = await make_code(bot, "staff")
    await bot.say("小周", "/审计", room="幸福里居民群")
    assert "只有社区民警可以使用" in bot.take()[-1].out.text
    await bot.say("小周", code)
    assert "绑定成功" in bot.texts_to("小周")[-1]
    assert bot.app.directory.role_of("wx_zhou") == "staff"
    await bot.restart()
    assert bot.app.directory.role_of("wx_zhou") == "staff"
    await bot.say("小周", code)  # used once already
    assert "已过期或已被使用" in bot.texts_to("小周")[-1]


async def test_expired_or_group_posted_code_does_nothing(bot):
    code = await make_code(bot, "officer", ttl_shift=timedelta(minutes=11))
    await bot.say("陈大爷", code)
    assert "已过期" in bot.texts_to("陈大爷")[-1]
    fresh = await make_code(bot, "officer")
    await bot.say("陈大爷", fresh, room="幸福里居民群")  # in a group: not a binding
    assert bot.app.directory.role_of("wx_chen") == "resident"
