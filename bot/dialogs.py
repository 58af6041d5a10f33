"""Multi-step dialogs as explicit finite states, stored in the database between messages.

Rules every dialog shares: 取消/退出 leaves, 返回 goes back one step, silence longer than the
timeout ends it (the next message is then handled as if there were no dialog), and a restart
loses nothing because the state lives in `dialog_states`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import IncomingMessage, MessageKind
from bot.plugin import END, DialogSpec
from storage.models import DialogState

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

CANCEL_WORDS = frozenset({"取消", "退出", "不办了", "算了"})
BACK_WORDS = frozenset({"返回", "上一步"})

TEXTS = {
    "cancelled": "好的，已取消。需要时随时再找我。",
    "timed_out": "您上次没有办完的事项已超过{minutes}分钟没有回复，已自动结束。需要的话请重新开始。",
    "text_please": "请用文字回复，或回复“取消”退出。",
}


def dialog_key(message: IncomingMessage) -> str:
    return f"{message.sender_id}|{message.room_id or ''}"


class Dialogs:
    def __init__(self, bot: str, specs: dict[str, DialogSpec], timeout: timedelta) -> None:
        self.bot = bot
        self.specs = specs
        self.timeout = timeout
        self._active: set[str] = set()  # keys with a stored dialog: spares chatter a database read

    async def load(self, session: AsyncSession) -> None:
        keys = await session.execute(select(DialogState.chat_key).where(DialogState.bot == self.bot))
        self._active = set(keys.scalars())

    def maybe_active(self, message: IncomingMessage) -> bool:
        return dialog_key(message) in self._active

    async def start(self, ctx: Context, name: str, state: str, data: dict[str, Any]) -> None:
        key = dialog_key(ctx.message)
        row = await ctx.session.get(DialogState, (self.bot, key))
        if row is None:
            row = DialogState(bot=self.bot, chat_key=key)
            ctx.session.add(row)
        row.dialog, row.state, row.data, row.history = name, state, data, []
        self._touch(row, ctx.now)
        self._active.add(key)
        await self.specs[name].states[state].prompt(ctx, data)

    async def current(self, session: AsyncSession, message: IncomingMessage) -> DialogState | None:
        return await session.get(DialogState, (self.bot, dialog_key(message)))

    async def handle(self, ctx: Context) -> bool:
        """Feed the message to the sender's dialog; False when there is none (any more)."""
        row = await self.current(ctx.session, ctx.message)
        if row is None or row.dialog not in self.specs or row.state not in self.specs[row.dialog].states:
            await self._end(ctx, row)
            return False
        spec = self.specs[row.dialog]
        if spec.reply_source:
            ctx.reply_source = spec.reply_source
        if row.expires_at <= ctx.now:
            await self._end(ctx, row)
            if spec.on_timeout:
                await spec.on_timeout(ctx, dict(row.data))
            await ctx.reply(TEXTS["timed_out"].format(minutes=int(self.timeout.total_seconds() // 60)))
            return False
        text = ctx.text.strip()
        if text in CANCEL_WORDS:
            await self._end(ctx, row)
            if spec.on_cancel:
                await spec.on_cancel(ctx, dict(row.data))
            await ctx.reply(TEXTS["cancelled"])
            return True
        if text in BACK_WORDS:
            await self._go_back(ctx, spec, row)
            return True
        await self._advance(ctx, spec, row, text)
        return True

    async def _advance(self, ctx: Context, spec: DialogSpec, row: DialogState, text: str) -> None:
        state = spec.states[row.state]
        if ctx.message.kind != MessageKind.TEXT and not state.accepts_attachments:
            await ctx.reply(TEXTS["text_please"])
            return
        data = dict(row.data)
        nxt = await state.handle(ctx, data, text)
        if nxt == END:
            await self._end(ctx, row)
            return
        row.data = data
        self._touch(row, ctx.now)
        if nxt is None:  # not understood: the handler said why; ask again
            await state.prompt(ctx, data)
            return
        if nxt != row.state:
            row.history = [*row.history, row.state]
        row.state = nxt
        await spec.states[nxt].prompt(ctx, data)

    async def _go_back(self, ctx: Context, spec: DialogSpec, row: DialogState) -> None:
        if row.history:
            *rest, previous = row.history
            row.history, row.state = rest, previous
        self._touch(row, ctx.now)
        await spec.states[row.state].prompt(ctx, dict(row.data))

    async def end(self, ctx: Context) -> None:
        """End the sender's dialog from inside a handler (e.g. after a confirmation)."""
        await self._end(ctx, await self.current(ctx.session, ctx.message))

    async def _end(self, ctx: Context, row: DialogState | None) -> None:
        key = dialog_key(ctx.message)
        if row is not None:
            await ctx.session.execute(
                delete(DialogState).where(DialogState.bot == self.bot, DialogState.chat_key == key))
        self._active.discard(key)

    def _touch(self, row: DialogState, now: datetime) -> None:
        row.updated_at = now
        row.expires_at = now + self.timeout
