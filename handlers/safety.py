"""Emergencies and scam scripts.

Emergency: any message classified emergency — in a group or private, from anyone, even in the
middle of a dialog — gets ONE immediate reply that fits the danger (fire, gas, violence, burglary,
self-harm, someone in the water, trapped, medical, missing: the number to call and the two or
three things to do now, handlers/safety_texts.py); officers (privately) and every work group are
alerted at once, with a 纠正号 for `/纠正`. All of it goes out at EMERGENCY priority: ahead of
every queue, never paced or capped.

Scam: a message read as a scam script gets a warning in the group naming the family and what it
asks for that no honest sender does (a code, a 安全账户, an app, a deposit, a link off gov.cn),
and the officer is told who posted it. Officers' and staff's own messages never trigger a warning
(they forward examples to warn people). In private chat the resident is warned, nobody else.
"""

from __future__ import annotations

from bot.context import Context
from bot.masking import mask_text
from bot.messages import Outgoing
from bot.outbox import EMERGENCY, HIGH
from bot.plugin import OFFICER, STAFF, Plugin
from handlers import safety_texts as T
from handlers.followup import preview, where_asked
from handlers.intents import Classification, corrections, rules
from handlers.intents.normalize import normalize
from storage.models import AuditEntry

plugin = Plugin("safety", order=90)

SCAM_REPEAT_WINDOW = "%Y%m%d%H"  # one warning per group, type and hour: a spam wall gets one reply


@plugin.intent("emergency", preempt=True, priority=100)
async def emergency(ctx: Context, found: Classification) -> bool:
    number = found.detail if found.detail in ("110", "119", "120") else "110"
    kind = getattr(found, "kind", None)
    await ctx.reply(T.EMERGENCY.get(kind, T.EMERGENCY[None]) + "\n" + T.NOTIFIED, priority=EMERGENCY)
    case = await corrections.record(ctx, "emergency")
    tag = corrections.tag(case)
    alert = T.ALERT.format(where=where_asked(ctx, ctx.message.room_id),
                           name=ctx.message.sender_name or ctx.sender.name or "居民",
                           text=preview(mask_text(ctx.text)), number=number, tag=tag)
    await alert_officers_in_full(ctx, number, tag)
    for group in ctx.app.directory.groups_in("work"):
        if group.id != ctx.message.room_id:  # that group already has the reply
            await ctx.send_to_group(group.id, alert, priority=EMERGENCY, source="notice")
    await ctx.count("emergencies", number)
    return True


OFFICER_ALERT_SOURCE = "emergency-alert"
plugin.confidential_source(OFFICER_ALERT_SOURCE)  # the whole number is not kept in the outbox


async def alert_officers_in_full(ctx: Context, number: str, tag: str = "") -> None:
    """Officers get the caller's words with any phone number whole, to call back at once; work
    groups and logs keep the masked text. A number shown this way is written to the audit log."""
    full = preview(ctx.text)
    alert = T.ALERT.format(where=where_asked(ctx, ctx.message.room_id),
                           name=ctx.message.sender_name or ctx.sender.name or "居民", text=full, number=number, tag=tag)
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
    kind = found.detail or T.SCAM_GENERIC
    why, signs = T.SCAM_WHY.get(kind, ""), _signs(ctx.text)
    if ctx.is_private:
        # Not a routine reply (storage.later): a warning waits for the server's disk
        await ctx.send(Outgoing(None, ctx.sender.id, T.SCAM_PRIVATE.format(kind=kind, why=why, signs=signs)),
                       source="scam-warning")
        await ctx.count("scam_warnings", kind)
        return True
    dedup = f"scam:{ctx.message.room_id}:{kind}:{ctx.now.strftime(SCAM_REPEAT_WINDOW)}"
    warned = await ctx.send(
        _group_post(ctx, T.SCAM_GROUP.format(kind=kind, why=why, signs=signs)),
        priority=HIGH, dedup_key=dedup, source="scam-warning")
    if warned:  # the same script again within the hour: the group and the officer already know
        case = await corrections.record(ctx, "scam")
        await ctx.notify_roles(OFFICER, T.SCAM_OFFICER.format(
            kind=kind, where=where_asked(ctx, ctx.message.room_id), tag=corrections.tag(case),
            name=ctx.message.sender_name or ctx.sender.name or "群成员", text=preview(mask_text(ctx.text))))
        await ctx.count("scam_warnings", kind)
    return True


def _group_post(ctx: Context, text: str) -> Outgoing:
    # No @: the poster may be a victim passing it on; naming them in the group would shame them.
    return Outgoing(ctx.message.room_id, None, text)


def _signs(text: str) -> str:
    """What this message asks for that no honest sender would (a code, a 安全账户, an app ...)."""
    found = set(rules.signals(normalize(text)))
    if "gov_link" in found:  # a government address is not the warning sign
        found.discard("link")
    return "".join(sentence for name, sentence in T.SCAM_SIGNS.items() if name in found)
