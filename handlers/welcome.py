"""Friend requests accepted and greeted with the menu; newcomers to a group welcomed with the menu
(joins within a minute share one welcome); room invitations accepted from officers and staff only."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.messages import FriendRequest, MemberJoined, Outgoing, RoomInvitation
from bot.plugin import Plugin
from bot.transport import TransportError
from handlers.help import menu_text

log = logging.getLogger(__name__)
plugin = Plugin("welcome")

MERGE_WINDOW = timedelta(minutes=1)
INVITERS = frozenset({"officer", "staff"})

TEXTS = {
    "friend": "您好，很高兴认识您！",
    "welcome": "欢迎 {names} 加入本群！",
    "invite_refused": "{name} 邀请我加入群“{room}”，我没有接受。如需我加入，请由社区民警或辅警邀请。",
    "invite_failed": "{name} 邀请我加入群“{room}”，但我没能加入，请稍后再邀请一次。",
}


@plugin.on("friend")
async def accept_friend(app, session, event: FriendRequest) -> None:
    if not app.config.wechat.accept_friends:
        log.info("friend request left for a person to answer", extra={"contact_id": event.contact_id})
        return
    try:
        await app.transport.accept_friend(event)
    except TransportError:
        log.warning("friend request could not be accepted", extra={"contact_id": event.contact_id})
        return
    person = await app.directory.remember(session, event.contact_id, event.contact_name, app.clock.now(),
                                          friend=True)
    await app.send(session, Outgoing(None, event.contact_id,
                                     TEXTS["friend"] + "\n" + menu_text(app, person.role)))


@plugin.on("joined")
async def member_joined(app, session, event: MemberJoined) -> None:
    names = [n for cid, n in zip(event.member_ids, event.member_names) if cid != app.transport.bot_id]
    if not names:
        return
    group = app.directory.group(event.room_id)
    if group is None or group.category is None:
        return  # an uncategorised group gets nothing from the bot
    pending = app.services.setdefault("welcome.pending", {})
    job_id = f"welcome:{event.room_id}"
    entry = pending.get(event.room_id)
    if entry is None:
        entry = pending[event.room_id] = {"names": [], "due": app.clock.now() + MERGE_WINDOW}
    entry["names"] += [n for n in names if n not in entry["names"]]
    app.scheduler.add_once(job_id, "welcome", {"room_id": event.room_id, "names": entry["names"]}, entry["due"])


@plugin.job("welcome")
async def send_welcome(app, payload: dict, due) -> None:
    app.services.setdefault("welcome.pending", {}).pop(payload["room_id"], None)
    text = TEXTS["welcome"].format(names="、".join(payload["names"])) + "\n" + menu_text(app, "resident")
    async with app.sessions.begin() as session:
        await app.send(session, Outgoing(payload["room_id"], None, text), dedup_key=f"welcome:{payload['room_id']}:{due.isoformat()}")


@plugin.on("invitation")
async def invited(app, session, event: RoomInvitation) -> None:
    inviter = app.directory.person(event.inviter_id)
    if inviter.role in INVITERS:
        try:
            await app.transport.accept_invitation(event)
            log.info("room invitation accepted", extra={"inviter": event.inviter_id})
            return
        except TransportError:
            text = TEXTS["invite_failed"]
    else:
        text = TEXTS["invite_refused"]
    for officer in app.directory.with_roles({"officer"}):
        await app.send(session, Outgoing(None, officer.id, text.format(name=inviter.name, room=event.room_name)))
