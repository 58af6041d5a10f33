"""Officers teach the classifier: every alert or forward the bot makes by its own reading carries
a case number (`纠正号 N`); `/纠正 N 类别` stores the right label as local labelled data, which
`jingmin train` adds to the shipped corpus."""

from __future__ import annotations

from bot.context import Context
from bot.masking import mask_text
from storage.understanding import correct_case, record_case

# What an officer may type for each intent (Chinese as in chat, the code names too).
LABEL_WORDS = {
    "emergency": ("紧急", "紧急求助", "报警", "emergency"),
    "scam": ("诈骗", "骗局", "scam"),
    "tip": ("线索", "举报", "tip"),
    "consultation": ("咨询", "问题", "consultation"),
    "appointment": ("预约", "appointment"),
    "dispute": ("纠纷", "矛盾", "dispute"),
    "suggestion": ("建议", "意见", "suggestion"),
    "other": ("其他", "闲聊", "无关", "不是", "other"),
}
WORD_TO_LABEL = {w: label for label, words in LABEL_WORDS.items() for w in words}

TEXTS = {
    "tag": "（纠正号 {id}：判断错了请回 /纠正 {id} 类别）",
    "done": "已记下：纠正号 {id} 是“{word}”。下次运行 jingmin train 时会学进去。",
    "not_found": "没有纠正号 {id}。请看告警或转来消息里的纠正号。",
    "bad_label": "不认识“{word}”。可以写：紧急、诈骗、线索、咨询、预约、纠纷、建议、其他。",
    "usage": "用法：/纠正 纠正号 类别，例如 /纠正 12 其他",
}


async def record(ctx: Context, predicted: str) -> int:
    """Number the message the bot is acting on; put `tag(n)` in what the officer sees."""
    case = await record_case(ctx.session, ctx.app.name, ctx.now, mask_text(ctx.text or ""), predicted)
    return case.id


def tag(case_id: int) -> str:
    return TEXTS["tag"].format(id=case_id)


async def correct(ctx: Context, n: str, word: str) -> None:
    label = WORD_TO_LABEL.get(word.strip().lower())
    if label is None:
        await ctx.reply(TEXTS["bad_label"].format(word=word.strip()))
        ctx.outcome = "refused: label"
        return
    case = await correct_case(ctx.session, ctx.app.name, int(n), label, ctx.sender.id, ctx.now)
    if case is None:
        await ctx.reply(TEXTS["not_found"].format(id=n))
        ctx.outcome = "refused: not found"
        return
    await ctx.reply(TEXTS["done"].format(id=n, word=LABEL_WORDS[label][0]))
