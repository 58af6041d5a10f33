"""The bot starts on the sample community and answers /帮助."""


async def test_help_in_group_lists_only_what_a_resident_may_do(bot):
    await bot.say("王阿姨", "/帮助", room="幸福里居民群")
    [reply] = bot.take()
    assert reply.out.room_id == bot.room_id("幸福里居民群")
    assert reply.out.mention_ids == (bot.contact_id("王阿姨"),)
    assert "幸福里社区警务室" in reply.out.text
    assert "/审计" not in reply.out.text
