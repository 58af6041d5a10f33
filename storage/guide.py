"""What officers changed in the service guide from chat (/指南): entries they added, answers and
questions they changed, entries they removed. The built-in library and config.yaml stay as shipped;
these rows are laid over them when the guide is built."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Stamp


class GuideEdit(Base):
    """One entry's local version: added (`added`), changed, or removed (`removed`)."""

    __tablename__ = "guide_edits"
    __table_args__ = (UniqueConstraint("bot", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str] = mapped_column(String(64))
    added: Mapped[bool] = mapped_column(Boolean, default=False)  # an entry officers wrote themselves
    title: Mapped[str | None] = mapped_column(String(128))
    questions: Mapped[list] = mapped_column(JSON, default=list)  # added to the entry's own
    answer: Mapped[str | None] = mapped_column(Text)  # None: the entry's own answer
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(Stamp)
    updated_by: Mapped[str] = mapped_column(String(128))


async def guide_edits(session: AsyncSession, bot: str) -> list[GuideEdit]:
    return list((await session.execute(
        select(GuideEdit).where(GuideEdit.bot == bot).order_by(GuideEdit.id))).scalars())


async def guide_edit(session: AsyncSession, bot: str, entry_id: str) -> GuideEdit | None:
    return (await session.execute(
        select(GuideEdit).where(GuideEdit.bot == bot, GuideEdit.entry_id == entry_id))).scalar_one_or_none()
