"""Friend requests accepted and greeted with the menu; newcomers to a group welcomed with the menu
(joins within a minute share one welcome); room invitations accepted from officers and staff only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.messages import FriendRequest, MemberJoined, Outgoing, RoomInvitation
from bot.plugin import Plugin
from handlers.help import menu_text

log = logging.getLogger(__name__)
plugin = Plugin("welcome", order=80)

MERGE_WINDOW = timedelta(minutes=1)
FRIEND_ATTEMPTS = 3  # accepting a friend request: tries, FRIEND_RETRY apart
FRIEND_RETRY = timedelta(minutes=5)
INVITERS = frozenset({"officer", "staff"})


@dataclass
class Greeter:
    """What this plugin remembers between events: when the next friend may be accepted, and the
    welcomes waiting out their merge window (room id -> names and due time)."""

    next_friend_slot: datetime | None = None
    pending: dict[str, dict] = field(default_factory=dict)


@plugin.provides(Greeter)
async def greeter(app) -> Greeter:
    return Greeter()

TEXTS = {
    "friend": "您好，很高兴认识您！",
    "welcome": "欢迎 {names} 加入本群！",
    "invite_refused": "{name} 邀请我加入群“{room}”，我没有接受。如需我加入，请由社区民警或辅警邀请。",
    "invite_failed": "{name} 邀请我加入群“{room}”，但我没能加入，请稍后再邀请一次。",
}


@plugin.on("friend")
async def friend_request(app, session, event: FriendRequest) -> None:
    """Queue the acceptance in the next free slot; the job accepts and greets (see accept_friend)."""
    if not app.config.wechat.accept_friends:
        log.info("friend request left for a person to answer", extra={"contact_id": event.contact_id})
        return
    now = app.clock.now()
    interval = timedelta(seconds=app.config.wechat.friend_accept_interval_seconds)
    state = app.service(Greeter)
    if state.next_friend_slot is None:  # after a restart: behind those still queued
        queued = [t for t in map(app.scheduler.next_run, app.scheduler.job_ids("friend:")) if t]
        state.next_friend_slot = max(queued) + interval if queued else now
    due = max(now, state.next_friend_slot)
    state.next_friend_slot = due + interval * (1 + app.rng.random() / 2)
    await _queue_friend(app, {"contact_id": event.contact_id, "name": event.contact_name, "hello": event.hello,
                              "request_id": event.request_id}, due, session)
    if due > now:
        log.info("friend request queued", extra={"contact_id": event.contact_id, "due": due.isoformat()})


async def _queue_friend(app, payload: dict, due, session=None) -> None:
    """In the scheduler's store, so a restart before the slot does not lose the request."""
    await app.scheduler.add_once(f"friend:{payload['request_id'] or payload['contact_id']}", "friend", payload, due,
                                 grace=timedelta(days=3), session=session)


@plugin.job("friend")
async def accept_friend(app, payload: dict, due) -> None:
    event = FriendRequest(payload["contact_id"], payload["name"], payload["hello"], app.clock.now(),
                          request_id=payload["request_id"])
    if not await app.accept_friend(event):
        attempt = payload.get("attempt", 1)
        if attempt < FRIEND_ATTEMPTS:  # the gateway may be down for a while: try again later
            await _queue_friend(app, {**payload, "attempt": attempt + 1}, app.clock.now() + FRIEND_RETRY)
        log.warning("friend request could not be accepted", extra={"contact_id": event.contact_id, "attempt": attempt})
        return
    async with app.transaction() as session:
        person = await app.directory.remember(session, event.contact_id, event.contact_name, app.clock.now(),
                                              friend=True)
        await app.send(session, Outgoing(None, event.contact_id, TEXTS["friend"] + "\n" + menu_text(app, person.role)))


@plugin.on("joined")
async def member_joined(app, session, event: MemberJoined) -> None:
    names = [n for cid, n in zip(event.member_ids, event.member_names) if cid != app.bot_id]
    if not names:
        return
    group = app.directory.group(event.room_id)
    if group is None or group.category is None:
        return  # an uncategorised group gets nothing from the bot
    pending = app.service(Greeter).pending
    job_id = f"welcome:{event.room_id}"
    entry = pending.get(event.room_id)
    if entry is None:
        # A welcome already waiting in the job store (the bot restarted within the window)
        # takes the new names too, at its own time.
        waiting, due = app.scheduler.payload(job_id), app.scheduler.next_run(job_id)
        if waiting is None or due is None:
            waiting, due = {"names": []}, app.clock.now() + MERGE_WINDOW
        entry = pending[event.room_id] = {"names": list(waiting["names"]), "due": due}
    entry["names"] += [n for n in names if n not in entry["names"]]
    await app.scheduler.add_once(job_id, "welcome", {"room_id": event.room_id, "names": entry["names"]}, entry["due"],
                                 session=session)


@plugin.job("welcome")
async def send_welcome(app, payload: dict, due) -> None:
    app.service(Greeter).pending.pop(payload["room_id"], None)
    text = TEXTS["welcome"].format(names="、".join(payload["names"])) + "\n" + menu_text(app, "resident")
    async with app.transaction() as session:
        await app.send(session, Outgoing(payload["room_id"], None, text), dedup_key=f"welcome:{payload['room_id']}:{due.isoformat()}")


@plugin.on("invitation")
async def invited(app, session, event: RoomInvitation) -> None:
    inviter = app.directory.person(event.inviter_id)
    if inviter.role in INVITERS:
        if await app.accept_invitation(event):
            log.info("room invitation accepted", extra={"inviter": event.inviter_id})
            return
        text = TEXTS["invite_failed"]
    else:
        text = TEXTS["invite_refused"]
    for officer in app.directory.with_roles({"officer"}):
        await app.send(session, Outgoing(None, officer.id, text.format(name=inviter.name, room=event.room_name)))
