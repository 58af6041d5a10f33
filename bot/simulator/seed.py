"""A SimWorld holding the community of a config (its groups and contacts)."""

from __future__ import annotations

from bot.config import Config
from bot.simulator.world import SimWorld

BOT_ID = "wx_bot"
BOT_NAME = "警民群助手"


def world_from_config(config: Config, clock=None, bot_id: str = BOT_ID, bot_name: str = BOT_NAME) -> SimWorld:
    world = SimWorld(bot_id=bot_id, bot_name=bot_name, clock=clock)
    for contact in config.contacts:
        world.add_contact(contact.contact_id, contact.name, friend=contact.friend)
    for group in config.groups:
        members = [c.contact_id for c in config.contacts if group.name in c.rooms]
        world.add_room(group.room_id, group.name, members)
    return world


def ensure_contact(world: SimWorld, name: str, contact_id: str | None = None, friend: bool = True) -> str:
    """The id of the contact called `name`, made up (as a new resident) if the world has none."""
    for contact in world.contacts.values():
        if contact.name == name or contact.id == contact_id:
            return contact.id
    contact_id = contact_id or f"wx:{name}"
    world.add_contact(contact_id, name, friend=friend)
    return contact_id


def room_named(world: SimWorld, name: str) -> str:
    for room in world.rooms.values():
        if room.topic == name or room.id == name:
            return room.id
    raise KeyError(f"unknown room '{name}'")
