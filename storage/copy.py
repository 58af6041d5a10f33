"""Copy one bot's rows from its own database (a community's SQLite file) into another (the
district's PostgreSQL), and prove nothing was lost: row counts and a checksum per table.

Only the bot's rows move: tables with a `bot` column by that column, tip replies through their tip.
Numbered rows (tips, bookings, outbox ...) keep their numbers when the target's table is still
empty; otherwise they get the target's next numbers (other communities hold the old ones), and the
rows that point at them are rewritten: attachments and replies of a tip, a custom notice in the
push log ("custom-<n>"), a booking's reminder key in the outbox ("appt:<n>:..."), a half-written
tip's attachments in its dialog. The checksums compare both sides in the source's numbering.

The whole copy is one transaction on the target: a failure leaves it as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

# Every module with tables, so Base.metadata holds them all (with their types: UTC stamps, JSON).
from storage import appointments, calendar_days, console, guide, pushes, stats, tips, understanding  # noqa: F401
from storage.models import Base

NOT_COPIED = {"console_accounts": "the district's console keeps its own accounts"}
CHUNK = 1000


@dataclass
class Reference:
    """A column that holds another table's number, whole or inside a string or list."""

    table: str
    column: str
    target: str  # the table whose id it names
    kind: str = "id"  # id | prefixed (prefix + n, then anything) | dialog_attachments

    prefix: str = ""


REFERENCES = [
    Reference("tip_attachments", "tip_id", "tips"),
    Reference("tip_replies", "tip_id", "tips"),
    Reference("push_log", "notice_id", "custom_notices", "prefixed", "custom-"),
    Reference("outbox", "dedup_key", "appointment_bookings", "prefixed", "appt:"),
    Reference("dialog_states", "data", "tip_attachments", "dialog_attachments"),
]


@dataclass
class TableCopy:
    name: str
    rows: int
    source_sum: str
    target_sum: str
    renumbered: bool = False

    @property
    def ok(self) -> bool:
        return self.source_sum == self.target_sum


@dataclass
class CopyResult:
    tables: list[TableCopy] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    def checksum(self, side: str) -> str:
        digest = hashlib.sha256()
        for t in self.tables:
            digest.update(f"{t.name}:{getattr(t, side + '_sum')}\n".encode())
        return digest.hexdigest()[:16]


class TargetHasBot(Exception):
    def __init__(self, bot: str, counts: dict[str, int]) -> None:
        listed = ", ".join(f"{t} {n}" for t, n in counts.items())
        super().__init__(f"the target already has rows of bot '{bot}' ({listed}): nothing copied")


def tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COPIED]


def _id_column(table: Table):
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and pk[0].name == "id" and pk[0].autoincrement in (True, "auto") \
            and pk[0].type.python_type is int:
        return pk[0]
    return None


def _select_rows(table: Table, bot: str):
    if "bot" in table.c:
        return select(table).where(table.c.bot == bot)
    tip_table = Base.metadata.tables["tips"]
    if table.name == "tip_replies":
        return select(table).where(table.c.tip_id.in_(select(tip_table.c.id).where(tip_table.c.bot == bot)))
    raise ValueError(f"{table.name}: no way to tell a bot's rows")


async def bot_row_counts(conn: AsyncConnection, bot: str) -> dict[str, int]:
    counts = {}
    for table in tables():
        n = (await conn.execute(select(func.count()).select_from(_select_rows(table, bot).subquery()))).scalar_one()
        if n:
            counts[table.name] = int(n)
    return counts


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def checksum(rows: list[dict]) -> str:
    lines = sorted(json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False, default=str)
                   for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _rewrite(ref: Reference, value: Any, numbers: dict[int, int]) -> Any:
    """`value` of the reference column with its numbers translated by `numbers`."""
    if value is None or not numbers:
        return value
    if ref.kind == "id":
        return numbers.get(value, value)
    if ref.kind == "prefixed":
        if not isinstance(value, str) or not value.startswith(ref.prefix):
            return value
        rest = value[len(ref.prefix):]
        digits = rest.split(":", 1)[0]
        if not digits.isdigit() or int(digits) not in numbers:
            return value
        return f"{ref.prefix}{numbers[int(digits)]}{rest[len(digits):]}"
    if ref.kind == "dialog_attachments":
        if isinstance(value, dict) and isinstance(value.get("attachments"), list):
            return {**value, "attachments": [numbers.get(n, n) if isinstance(n, int) else n
                                             for n in value["attachments"]]}
        return value
    raise ValueError(ref.kind)


async def _new_numbers(target: AsyncConnection, table: Table, n: int) -> list[int]:
    """n ids the target will never hand out again (PostgreSQL: from the table's sequence)."""
    if target.dialect.name == "postgresql":
        seq = (await target.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})).scalar_one()
        rows = await target.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": n})
        return [int(r[0]) for r in rows]
    top = (await target.execute(select(func.max(table.c.id)))).scalar_one() or 0
    return list(range(top + 1, top + 1 + n))


async def _after_explicit_ids(target: AsyncConnection, table: Table) -> None:
    """Ids inserted as they were: move the PostgreSQL sequence past them."""
    if target.dialect.name == "postgresql":
        await target.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table.name}), 1))"))


async def copy_bot(source: AsyncConnection, target: AsyncConnection, bot: str) -> CopyResult:
    """Copy `bot`'s rows from `source` to `target` (both at the schema's head), in the target's
    open transaction. Raises TargetHasBot if the target has any row of that bot."""
    existing = await bot_row_counts(target, bot)
    if existing:
        raise TargetHasBot(bot, existing)
    result = CopyResult(skipped=dict(NOT_COPIED))
    numbers: dict[str, dict[int, int]] = {}  # table -> source id -> target id
    for table in tables():
        rows = [dict(r._mapping) for r in await source.execute(_select_rows(table, bot))]
        source_sum = checksum(rows)
        id_col = _id_column(table)
        renumbered = False
        if id_col is not None and rows:
            empty = (await target.execute(select(func.count()).select_from(table))).scalar_one() == 0
            if empty:
                numbers[table.name] = {}
            else:
                fresh = await _new_numbers(target, table, len(rows))
                numbers[table.name] = {r["id"]: n for r, n in zip(sorted(rows, key=lambda r: r["id"]), fresh)}
                renumbered = True
        moved = []
        for row in rows:
            row = dict(row)
            if id_col is not None and numbers.get(table.name):
                row["id"] = numbers[table.name][row["id"]]
            for ref in REFERENCES:
                if ref.table == table.name:
                    row[ref.column] = _rewrite(ref, row[ref.column], numbers.get(ref.target, {}))
            moved.append(row)
        for i in range(0, len(moved), CHUNK):
            await target.execute(table.insert(), moved[i:i + CHUNK])
        if id_col is not None and rows and not renumbered:
            await _after_explicit_ids(target, table)
        # tips come before their replies (sorted_tables follows the foreign keys): the same query finds them
        back = [dict(r._mapping) for r in await target.execute(_select_rows(table, bot))]
        result.tables.append(TableCopy(table.name, len(rows), source_sum,
                                       checksum(_in_source_numbers(table, back, numbers)), renumbered))
    return result


def _in_source_numbers(table: Table, rows: list[dict], numbers: dict[str, dict[int, int]]) -> list[dict]:
    """Target rows written back in the source's numbering, to compare checksums."""
    inverse = {name: {new: old for old, new in m.items()} for name, m in numbers.items()}
    out = []
    for row in rows:
        row = dict(row)
        if _id_column(table) is not None and inverse.get(table.name):
            row["id"] = inverse[table.name].get(row["id"], row["id"])
        for ref in REFERENCES:
            if ref.table == table.name:
                row[ref.column] = _rewrite(ref, row[ref.column], inverse.get(ref.target, {}))
        out.append(row)
    return out
