"""Who is who and which group is which, cached in memory, written through to the database.

Roles are looked up by the stable contact id, never by nickname: a resident who renames
themselves "张警官" is still a resident. The copy in memory changes once the row has committed:
a transaction that fails leaves no role, name or category behind that the database does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from storage.db import after_commit
from storage.models import Contact, Room


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str = "resident"
    is_friend: bool = False


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    category: str | None
    member_count: int = 0
    last_active_at: datetime | None = None


class Directory:
    def __init__(self, bot: str) -> None:
        self.bot = bot
        self.people: dict[str, Person] = {}
        self.groups: dict[str, Group] = {}
        # Contacts config names: they keep that name whatever their WeChat nickname (a district's
        # other bots find a unit's officers by it, and officers are listed by it).
        self.configured: frozenset[str] = frozenset()

    async def load(self, session: AsyncSession) -> None:
        for c in (await session.execute(select(Contact).where(Contact.bot == self.bot))).scalars():
            self.people[c.id] = Person(c.id, c.name, c.role, c.is_friend)
        for r in (await session.execute(select(Room).where(Room.bot == self.bot))).scalars():
            self.groups[r.id] = Group(r.id, r.name, r.category, r.member_count, r.last_active_at)

    async def seed(self, session: AsyncSession, config: Config, now: datetime) -> None:
        """Config is the operator's word: its groups' categories and the roles it spells out win at
        start; a contact listed without a role keeps one bound by code since, a known group the name
        it was last renamed to."""
        changed = []
        for g in config.groups:
            known = self.groups.get(g.room_id)
            # A known group keeps the name WeChat last gave it (a rename), unless it had none, and
            # its member count and when it was last active.
            name = known.name if known is not None and known.name != known.id else g.name
            group = Group(g.room_id, name, g.category, known.member_count if known else 0,
                          known.last_active_at if known else None)
            if group != known:
                changed.append(group)
        await self.save_groups(session, changed, now)
        self.configured = frozenset(c.contact_id for c in config.contacts)
        for c in config.contacts:
            role = c.role if "role" in c.model_fields_set else self.role_of(c.contact_id)
            await self.save_person(session, Person(c.contact_id, c.name, role, c.friend), now, source="config")

    # ---- people ----------------------------------------------------------------------------

    def role_of(self, contact_id: str) -> str:
        person = self.people.get(contact_id)
        return person.role if person else "resident"

    def person(self, contact_id: str, name: str = "") -> Person:
        return self.people.get(contact_id) or Person(contact_id, name or contact_id)

    def with_roles(self, roles: frozenset[str] | set[str]) -> list[Person]:
        return [p for p in self.people.values() if p.role in roles]

    async def save_person(self, session: AsyncSession, person: Person, now: datetime,
                          source: str | None = None) -> Person:
        row = await session.get(Contact, (self.bot, person.id))
        if row is None:
            row = Contact(bot=self.bot, id=person.id, created_at=now, role_source="default")
            session.add(row)
        row.name, row.role, row.is_friend = person.name, person.role, person.is_friend
        if source:
            row.role_source = source
        await session.flush()
        after_commit(session, lambda: self.people.__setitem__(person.id, person))
        return person

    async def remember(self, session: AsyncSession, contact_id: str, name: str, now: datetime,
                       *, friend: bool | None = None) -> Person:
        """Keep a contact a flow needs (a friend, someone in a dialog); keeps an existing role."""
        known = self.people.get(contact_id)
        person = known or Person(contact_id, name)
        if name and person.name != name and contact_id not in self.configured:
            person = replace(person, name=name)
        if friend is not None:
            person = replace(person, is_friend=friend)
        if person == known:
            return person
        return await self.save_person(session, person, now)

    # ---- groups ----------------------------------------------------------------------------

    def group(self, room_id: str) -> Group | None:
        return self.groups.get(room_id)

    def groups_in(self, category: str) -> list[Group]:
        return [g for g in self.groups.values() if g.category == category]

    def group_named(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    async def save_group(self, session: AsyncSession, group: Group, now: datetime) -> Group:
        await self.save_groups(session, [group], now)
        return group

    async def save_groups(self, session: AsyncSession, groups: list[Group], now: datetime) -> None:
        """Many groups in one read and one flush (189 groups at start-up)."""
        if not groups:
            return
        rows = {r.id: r for r in (await session.execute(select(Room).where(
            Room.bot == self.bot, Room.id.in_([g.id for g in groups])))).scalars()}
        for group in groups:
            row = rows.get(group.id)
            if row is None:
                row = rows[group.id] = Room(bot=self.bot, id=group.id, created_at=now)
                session.add(row)
            row.name, row.category, row.member_count = group.name, group.category, group.member_count
            row.last_active_at = group.last_active_at
        await session.flush()
        after_commit(session, lambda: self.groups.update((g.id, g) for g in groups))
