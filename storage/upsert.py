"""INSERT ... ON CONFLICT for both databases we run on."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_on(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession):
    return insert_on(session.bind.dialect.name)


@cache
def plain_insert(table: Table):
    """INSERT into `table`, built once (storage.later knows a statement by its object)."""
    return table.insert()


@cache
def insert_ignoring(dialect: str, table: Table, conflict: tuple[str, ...] | None = None):
    """INSERT ... ON CONFLICT DO NOTHING into `table`, built once per dialect (building one is
    not cheap on a hot path). Execute it with a dict of values (rowcount: 1 if inserted, 0 if
    the row was there) or a list of them."""
    return insert_on(dialect)(table).on_conflict_do_nothing(index_elements=list(conflict) if conflict else None)
