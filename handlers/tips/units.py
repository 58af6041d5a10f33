"""Tips routed to a district's specialist units (专业+社区警务, issue #17).

A district file names units (禁毒, 经侦 ...), the tip categories each handles, the bot whose friends
their officers are, and the officers by their contact names in that bot's config. A tip of such a
category is the unit's: its officers get the masked notice privately through their own bot (an
outbox row for that bot, which sends it), see and answer it there with /线索, and every answer
reaches the reporter through the reporter's bot. Nothing of it goes to any group.

The bots of a district share one secret key: the unit's bot opens a tip another bot took.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.district import UNIT_ROLES, Unit
from storage import tips as store

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def unit_for(app: App, category: str) -> Unit | None:
    """The district unit that handles tips of `category`, if this bot is in a district that has one."""
    return app.district.unit_for(category) if app.district is not None else None


def units_of(app: App, contact_id: str) -> list[str]:
    """The names of the units of this bot that list this contact (by its config name) as an officer."""
    if app.district is None:
        return []
    names = {c.name for c in app.config.contacts if c.contact_id == contact_id}
    return [u.name for u in app.district.units if u.bot == app.name and names & set(u.officers)]


async def unit_officers(app: App, session, unit: Unit) -> list[tuple[str, str]]:
    """(contact id, name) of the unit's officers in its bot: from this bot's config when it is the
    unit's bot, else from the contacts the unit's bot wrote at its start."""
    if unit.bot == app.name:
        return [(c.contact_id, c.name) for c in app.config.contacts
                if c.name in unit.officers and c.role in UNIT_ROLES]
    return await store.config_contacts_named(session, unit.bot, unit.officers, UNIT_ROLES)
