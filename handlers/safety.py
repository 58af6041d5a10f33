"""Emergencies and scam scripts.

Emergency: any message classified emergency — in a group or private, from anyone, even in the
middle of a dialog — gets an immediate reply naming the number to call (119 fire/gas, 120
injury/illness, 110 crime/violence/missing person) and what to do now; officers (privately) and
every work group are alerted at once. All of it goes out at EMERGENCY priority: ahead of every
queue, never paced or capped.

Scam: a message matching a known scam script gets a warning in the group naming the type, and
the officer is told who posted it. Officers' and staff's own messages never trigger a warning
(they forward examples to warn people). In private chat the resident is warned, nobody else.
"""

from __future__ import annotations

from bot.context import Context
from bot.masking import mask_text
from bot.messages import Outgoing
from bot.outbox import EMERGENCY, HIGH
from bot.plugin import OFFICER, STAFF, Plugin
from handlers.followup import preview, where_asked
from handlers.intents import Classification
from storage.models import AuditEntry

plugin = Plugin("safety", order=90)

TEXTS = {
    "119": "请马上拨打 119 火警电话！\n"
           "· 先离开危险的地方，不要坐电梯，用湿毛巾捂住口鼻，弯着腰往外走。\n"
           "· 闻到煤气味：不要开灯、不要开关电器、不要在屋里打电话，先开窗，关掉燃气阀门，到屋外再打电话。\n"
           "· 打电话时说清楚几号楼几单元几楼、有没有人被困。\n"
           "已经通知社区民警。",
    "120": "请马上拨打 120 急救电话！\n"
           "· 说清楚地址（几号楼几单元几室）和病人的情况。\n"
           "· 不要随便搬动病人，让他平躺或侧躺，保持呼吸通畅；流血的地方用干净的布用力按住。\n"
           "· 请家人或邻居到楼下、小区门口接救护车。\n"
           "已经通知社区民警。",
    "110": "请马上拨打 110 报警！\n"
           "· 先保护好自己，躲到安全的地方，锁好门，不要和坏人硬拼。\n"
           "· 孩子或老人走失：马上报警，不用等24小时，说清楚穿什么衣服、长什么样、最后在哪里看到。\n"
           "· 记住对方的样子和往哪里跑了。\n"
           "已经通知社区民警。",
    "alert": "【紧急】{where}，{name}：{text}\n已提醒对方拨打 {number}。请立即处置。",
    "scam_group": "⚠️ 提醒大家：刚才这条消息很像“{kind}”诈骗。{why}\n"
                  "不要点里面的链接，不要扫码，不要转账，不要告诉对方验证码。"
                  "拿不准就打 96110 反诈专线，或者问社区民警。",
    "scam_private": "您发来的这条消息很像“{kind}”诈骗。{why}\n"
                    "不要点里面的链接，不要扫码，不要转账，不要告诉对方验证码。"
                    "拿不准就打 96110 反诈专线，或者问社区民警。",
    "scam_officer": "疑似诈骗信息（{kind}）：{where}，{name} 发的：{text}\n已在群里提醒大家。",
}
SCAM_WHY = {
    "刷单返利": "刷单本身就是诈骗，先给点小甜头，再让您垫付大钱。",
    "虚假投资理财": "“稳赚不赔”“内幕消息”都是骗人的，钱投进去就取不出来。",
    "虚假贷款": "正规贷款放款前不收任何费用，要先交钱的都是骗子。",
    "冒充客服退款": "真客服不会让您点链接、开共享屏幕或者转账“退款”。",
    "冒充公检法": "公安、检察院、法院不会打电话办案，更没有“安全账户”。",
    "虚假征信": "征信不能“修复”“消除”，让您转账注销账户的都是骗子。",
    "游戏交易": "私下买卖游戏账号、装备，付了钱对方就不见了。",
    "婚恋交友": "网上刚认识就带您投资、赌博的，是“杀猪盘”。",
    "冒充领导熟人": "说换了新号、急着要钱的，一定要打原来的电话核实。",
    "虚假购物": "价格低得离谱、要先转账再发货的，多半是骗局。",
}
SCAM_GENERIC = "诈骗"
SCAM_REPEAT_WINDOW = "%Y%m%d%H"  # one warning per group, type and hour: a spam wall gets one reply


@plugin.intent("emergency", preempt=True, priority=100)
async def emergency(ctx: Context, found: Classification) -> bool:
    number = found.detail if found.detail in ("110", "119", "120") else "110"
    await ctx.reply(TEXTS[number], priority=EMERGENCY)
    alert = TEXTS["alert"].format(where=where_asked(ctx, ctx.message.room_id),
                                  name=ctx.message.sender_name or ctx.sender.name or "居民",
                                  text=preview(mask_text(ctx.text)), number=number)
    await alert_officers_in_full(ctx, number)
    for group in ctx.app.directory.groups_in("work"):
        if group.id != ctx.message.room_id:  # that group already has the reply
            await ctx.send_to_group(group.id, alert, priority=EMERGENCY, source="notice")
    await ctx.count("emergencies", number)
    return True


OFFICER_ALERT_SOURCE = "emergency-alert"
plugin.confidential_source(OFFICER_ALERT_SOURCE)  # the whole number is not kept in the outbox


async def alert_officers_in_full(ctx: Context, number: str) -> None:
    """Officers get the caller's words with any phone number whole, to call back at once; work
    groups and logs keep the masked text. A number shown this way is written to the audit log."""
    full = preview(ctx.text)
    alert = TEXTS["alert"].format(where=where_asked(ctx, ctx.message.room_id),
                                  name=ctx.message.sender_name or ctx.sender.name or "居民", text=full, number=number)
    officers = ctx.app.directory.with_roles(OFFICER)
    for person in officers:
        await ctx.send_to_contact(person.id, alert, priority=EMERGENCY, source=OFFICER_ALERT_SOURCE)
    if full != mask_text(full) and officers:
        ctx.session.add(AuditEntry(bot=ctx.app.name, at=ctx.now, actor_id=ctx.sender.id, actor_role=ctx.role,
                                   room_id=ctx.message.room_id, command="紧急求助 号码",
                                   args=mask_text(full)[:1000],
                                   outcome=f"full number sent to {len(officers)} officer(s)"))


@plugin.intent("scam", priority=100)
async def scam(ctx: Context, found: Classification) -> bool:
    if ctx.role in STAFF:
        return False  # an officer forwarding an example is warning people, not scamming them
    kind = found.detail or SCAM_GENERIC
    why = SCAM_WHY.get(kind, "")
    if ctx.is_private:
        await ctx.reply(TEXTS["scam_private"].format(kind=kind, why=why))
        await ctx.count("scam_warnings", kind)
        return True
    dedup = f"scam:{ctx.message.room_id}:{kind}:{ctx.now.strftime(SCAM_REPEAT_WINDOW)}"
    warned = await ctx.send(
        _group_post(ctx, TEXTS["scam_group"].format(kind=kind, why=why)),
        priority=HIGH, dedup_key=dedup, source="scam-warning")
    if warned:  # the same script again within the hour: the group and the officer already know
        await ctx.notify_roles(OFFICER, TEXTS["scam_officer"].format(
            kind=kind, where=where_asked(ctx, ctx.message.room_id),
            name=ctx.message.sender_name or ctx.sender.name or "群成员", text=preview(mask_text(ctx.text))))
        await ctx.count("scam_warnings", kind)
    return True


def _group_post(ctx: Context, text: str) -> Outgoing:
    # No @: the poster may be a victim passing it on; naming them in the group would shame them.
    return Outgoing(ctx.message.room_id, None, text)
