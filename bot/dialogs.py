"""Multi-step dialogs as explicit finite states, stored in the database between messages.

Rules every dialog shares, so nobody gets stuck in one:
- 取消, 退出, 算了, 不约了, 不办了, 不要了, 不用了, 取消了吧 ... (with any punctuation) leave; 返回 goes
  back one step.
- A message that is clearly something else (a command, 帮助, 我的预约, 建议：…, a question the
  step did not understand) is handled as such; the dialog waits and says once where it stands.
- An answer not understood gets one short hint; the second, exactly what to type with an example
  and how to leave; the third ends the dialog politely with how to start again.
- Silence: `timeout` after the last understood answer a job (not the next message) ends it, tells
  the resident and drops what it held; a dialog may instead be parked (offered back for a while).
- A restart loses nothing (the state lives in `dialog_states`), and a message whose handling a
  crash cut off is followed, once the bot is back, by a note saying what to send again.
- What this process keeps in memory changes only once the transaction that changed the row has
  committed: a failed commit cannot leave a dialog forgotten while its row lives on.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import IncomingMessage, MessageKind, Outgoing
from bot.plugin import END, DialogSpec, DialogStateSpec, Reask
from storage.db import after_commit
from storage.models import DialogState, ProcessedMessage

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import Context

log = logging.getLogger(__name__)

TIMEOUT_JOB = "dialog-timeout"
TIMEOUT_GRACE = timedelta(days=7)  # a timeout due while the bot was down still tells the resident
META = "_dialog"  # the engine's own keys inside the stored data (handlers never see them)

EXIT_WORDS = frozenset({"取消", "退出", "算了", "不约了", "不办了", "不要了", "不用了", "取消了", "取消吧",
                        "取消了吧", "算了吧", "不约", "不办", "不弄了", "不填了", "不报了", "不预约了", "取消预约",
                        "不想约了", "不想办了", "退出吧", "结束", "停", "cancel", "quit", "exit"})
BACK_WORDS = frozenset({"返回", "上一步", "回上一步", "返回上一步", "退回"})
RESUME_WORDS = frozenset({"继续", "接着填", "接着办", "继续填", "继续办"})
_LEAD = re.compile(r"^(?:哎|唉|嗯|那|那就|还是|我|我看|要不|要不然|好吧|哦)+")
_TAIL = re.compile(r"(?:吧|了|啊|呀|哈|呢|哦|谢谢|谢谢你)+$")
_PUNCT = re.compile(r"[\s\W_]+")
# "I don't know what to do here": about the step itself, so the step's help, not a question elsewhere.
_CONFUSED = re.compile(r"不知道|不晓得|不懂|不会|看不明白|看不懂|怎么弄|咋弄|咋整|怎么办|啥意思|什么意思|怎么回|回什么|咋回")

TEXTS = {
    "cancelled": "好的，已取消。需要时随时再找我。",
    "timed_out": "您的{title}已经{minutes}分钟没有回复，先结束了，刚才填的内容没有保存。需要时请重新发“{start}”。",
    "timed_out_plain": "您没办完的{title}已经{minutes}分钟没有回复，先结束了。需要时请重新开始。",
    "text_please": "这一步请用文字回复，或回复“取消”退出。",
    "waiting": "（您的{title}还没办完，{label}。接着办请直接回复；不办了回复“取消”。）",
    "second_miss": "{help}\n不办了回复“取消”。",
    "help_default": "请照上面的提示回复。",
    "ended": "不好意思，我还是没看明白，这次的{title}先结束了。您可以重新发“{start}”再来，也可以直接到警务室找民警。",
    "ended_plain": "不好意思，我还是没看明白，这次先结束了。需要时请重新开始，也可以直接到警务室找民警。",
    "restarted": "刚才系统重启，您的{title}还没有提交。{resume}",
    "resume_default": "请把刚才的回复再发一次。",
    "resumed": "好的，接着填。",
}

Route = Any  # the router's (kind, detail): what a message that is not an answer is
OtherRoute = Callable[[bool], Route | None]  # strong=True: only what can never be an answer


def dialog_key(message: IncomingMessage) -> str:
    return f"{message.sender_id}|{message.room_id or ''}"


def _forms(text: str) -> list[str]:
    """取消。 / 那算了吧 -> 取消 / 算了吧, 算了, 算 ...: the word with punctuation and fillers off."""
    word = _PUNCT.sub("", text).lower()
    lead = _LEAD.sub("", word)
    return [w for w in (word, lead, _TAIL.sub("", word), _TAIL.sub("", lead)) if w]


def plain_words(text: str) -> str:
    forms = _forms(text)
    return forms[-1] if forms else ""


def is_exit(text: str, keeps: frozenset[str] = frozenset()) -> bool:
    forms = _forms(text)
    return any(f in EXIT_WORDS for f in forms) and not any(f in keeps for f in forms)


class Dialogs:
    def __init__(self, bot: str, specs: dict[str, DialogSpec], timeout: timedelta) -> None:
        self.bot = bot
        self.specs = specs
        self.timeout = timeout
        self._active: set[str] = set()  # keys with a stored dialog: spares chatter a database read
        self._parked: set[str] = set()  # keys with a dialog offered back (回复“继续”)
        self.app: App | None = None

    def attach(self, app: App) -> None:
        """Once the App has its scheduler and outbox: the timeout job can run."""
        self.app = app
        app.scheduler.register(TIMEOUT_JOB, self._timeout_job)

    async def load(self, session: AsyncSession) -> None:
        rows = (await session.execute(select(DialogState).where(DialogState.bot == self.bot))).scalars()
        for row in rows:
            (self._parked if _meta(row).get("parked") else self._active).add(row.chat_key)

    def maybe_active(self, message: IncomingMessage) -> bool:
        key = dialog_key(message)
        if key in self._active:
            return True
        return key in self._parked and message.kind == MessageKind.TEXT and any(
            f in RESUME_WORDS for f in _forms(message.text))

    def is_active(self, message: IncomingMessage) -> bool:
        return dialog_key(message) in self._active

    # ---- starting and ending -----------------------------------------------------------------

    async def start(self, ctx: Context, name: str, state: str, data: dict[str, Any]) -> None:
        key = dialog_key(ctx.message)
        row = await ctx.session.get(DialogState, (self.bot, key))
        if row is None:
            row = DialogState(bot=self.bot, chat_key=key)
            ctx.session.add(row)
        elif _meta(row).get("parked") and (old := self.specs.get(row.dialog)) and old.on_discard:
            await old.on_discard(ctx.app, ctx.session, _data(row))  # a new start replaces what was offered back
        row.dialog, row.state, row.history = name, state, []
        row.data = {**data, META: {}}
        await self._touch(ctx.session, row, ctx.now)
        after_commit(ctx.session, lambda: self._mark(key, active=True))
        await self.specs[name].states[state].prompt(ctx, dict(data))

    async def current(self, session: AsyncSession, message: IncomingMessage) -> DialogState | None:
        return await session.get(DialogState, (self.bot, dialog_key(message)))

    async def end(self, ctx: Context) -> None:
        """End the sender's dialog from inside a handler (e.g. after a confirmation)."""
        await self._end(ctx.session, await self.current(ctx.session, ctx.message), dialog_key(ctx.message))

    async def _end(self, session: AsyncSession, row: DialogState | None, key: str) -> None:
        if row is not None:
            await session.execute(
                delete(DialogState).where(DialogState.bot == self.bot, DialogState.chat_key == key))
            if self.app is not None:
                await self.app.scheduler.remove(_job_id(key), session=session)
            after_commit(session, lambda: self._mark(key, active=False))
        else:
            self._mark(key, active=False)  # nothing stored: nothing to wait for

    def _mark(self, key: str, *, active: bool, parked: bool = False) -> None:
        self._active.discard(key)
        self._parked.discard(key)
        if active:
            self._active.add(key)
        elif parked:
            self._parked.add(key)

    # ---- a message from someone in a dialog ----------------------------------------------------

    async def handle(self, ctx: Context, other: OtherRoute) -> bool | Route:
        """Feed the message to the sender's dialog. False: there is none (any more); True: the
        dialog took it; a route: the message is something else, to be handled as that (then
        call `remind`)."""
        row = await self.current(ctx.session, ctx.message)
        spec = self.specs.get(row.dialog) if row is not None else None
        if row is None or spec is None or row.state not in spec.states:
            await self._end(ctx.session, row, dialog_key(ctx.message))
            return False
        meta = _meta(row)
        if meta.pop("pending", None) is not None:
            _store(row, _data(row), meta)
        if spec.reply_source:
            ctx.reply_source = spec.reply_source
        if row.expires_at <= ctx.now:  # its job has not run yet (the bot was down)
            await self._time_out(ctx.app, ctx.session, row, notify=True)
            return False
        if meta.get("parked"):
            return await self._resume(ctx, spec, row, meta)
        state = spec.states[row.state]
        text = ctx.text.strip()
        if ctx.message.kind == MessageKind.TEXT and text:
            if is_exit(text, state.keeps):
                await self._cancel(ctx, spec, row)
                return True
            if any(f in BACK_WORDS for f in _forms(text)):
                await self._go_back(ctx, spec, row)
                return True
            route = other(True)
            if route is not None:
                return self._aside(ctx, row, route)
        return await self._advance(ctx, spec, row, state, text, other)

    @staticmethod
    def _aside(ctx: Context, row: DialogState, route: Route) -> Route:
        ctx.session.info["dialog_before_aside"] = (row.dialog, row.state)  # for remind
        return route

    async def _advance(self, ctx: Context, spec: DialogSpec, row: DialogState, state: DialogStateSpec,
                       text: str, other: OtherRoute) -> bool | Route:
        if ctx.message.kind != MessageKind.TEXT and not state.accepts_attachments:
            await ctx.reply(TEXTS["text_please"])
            return True
        data = _data(row)
        nxt = await state.handle(ctx, data, text)
        if isinstance(nxt, Reask) and not nxt.understood and not state.free_text and text \
                and not _CONFUSED.search(text):
            route = other(False)
            if route is not None:
                return self._aside(ctx, row, route)
        if nxt == END:
            await self._end(ctx.session, row, dialog_key(ctx.message))
            return True
        meta = _meta(row)
        if nxt is None or isinstance(nxt, Reask):
            await self._missed(ctx, spec, row, state, data, nxt)
            return True
        meta.update(misses=0, reminded=False)
        _store(row, data, meta)
        await self._touch(ctx.session, row, ctx.now)
        if nxt != row.state:
            row.history = [*row.history, row.state]
        row.state = nxt
        await spec.states[nxt].prompt(ctx, dict(data))
        return True

    async def _missed(self, ctx: Context, spec: DialogSpec, row: DialogState, state: DialogStateSpec,
                      data: dict, nxt: Reask | None) -> None:
        """One short hint; the second time exactly what to type; the third time, goodbye."""
        meta = _meta(row)
        if isinstance(nxt, Reask) and nxt.understood:
            _store(row, data, {**meta, "misses": 0})
            await self._touch(ctx.session, row, ctx.now)
            await ctx.reply(nxt.hint)
            return
        misses = meta.get("misses", 0) + 1
        if misses >= 3:
            await self._end(ctx.session, row, dialog_key(ctx.message))
            if spec.on_discard:
                await spec.on_discard(ctx.app, ctx.session, data)
            await ctx.reply(TEXTS["ended"].format(title=spec.title, start=spec.start_word) if spec.start_word
                            else TEXTS["ended_plain"])
            return
        _store(row, data, {**meta, "misses": misses})  # not understood: the silence timer runs on
        hint = nxt.hint if isinstance(nxt, Reask) else None
        if misses == 2 or _CONFUSED.search(ctx.text or ""):
            help_text = await state.help(ctx, data) if state.help else TEXTS["help_default"]
            await ctx.reply(TEXTS["second_miss"].format(help=help_text))
        elif hint:
            await ctx.reply(hint)

    async def remind(self, ctx: Context) -> None:
        """After a message handled as something else: once, briefly, where the dialog stands."""
        row = await self.current(ctx.session, ctx.message)
        spec = self.specs.get(row.dialog) if row is not None else None
        if row is None or spec is None or row.state not in spec.states:
            return
        meta = _meta(row)
        if meta.get("reminded") or meta.get("parked"):
            return
        if ctx.session.info.get("dialog_before_aside") != (row.dialog, row.state):
            return  # the aside began another dialog (举报 while booking): its question is the reminder
        label = spec.states[row.state].label or "还差几步"
        await ctx.reply(TEXTS["waiting"].format(title=spec.title, label=label))
        _store(row, _data(row), {**meta, "reminded": True})

    async def _cancel(self, ctx: Context, spec: DialogSpec, row: DialogState) -> None:
        data = _data(row)
        await self._end(ctx.session, row, dialog_key(ctx.message))
        if spec.on_discard:
            await spec.on_discard(ctx.app, ctx.session, data)
        text = await spec.on_cancel(ctx, data) if spec.on_cancel else None
        await ctx.reply(text or TEXTS["cancelled"])

    async def _go_back(self, ctx: Context, spec: DialogSpec, row: DialogState) -> None:
        if row.history:
            *rest, previous = row.history
            row.history, row.state = rest, previous
        _store(row, _data(row), {**_meta(row), "misses": 0, "reminded": False})
        await self._touch(ctx.session, row, ctx.now)
        await spec.states[row.state].prompt(ctx, _data(row))

    async def _resume(self, ctx: Context, spec: DialogSpec, row: DialogState, meta: dict) -> bool:
        """继续 within the time a parked dialog is kept: back where it was."""
        _store(row, _data(row), {"misses": 0})
        await self._touch(ctx.session, row, ctx.now)
        key = dialog_key(ctx.message)
        after_commit(ctx.session, lambda: self._mark(key, active=True))
        await ctx.reply(TEXTS["resumed"])
        await spec.states[row.state].prompt(ctx, _data(row))
        return True

    # ---- silence ---------------------------------------------------------------------------------

    async def _touch(self, session: AsyncSession, row: DialogState, now: datetime,
                     span: timedelta | None = None) -> None:
        """The silence timer starts again (an understood answer): its job moves with it."""
        row.updated_at = now
        row.expires_at = now + (span or self.timeout)
        if self.app is not None:
            await self.app.scheduler.add_once(_job_id(row.chat_key), TIMEOUT_JOB, {"key": row.chat_key},
                                              row.expires_at, grace=TIMEOUT_GRACE, session=session)

    async def _timeout_job(self, payload: dict[str, Any], due: datetime) -> None:
        app = self.app
        async with app.transaction() as session:
            row = await session.get(DialogState, (self.bot, payload.get("key", "")))
            if row is None or row.expires_at > app.clock.now():
                return  # ended, or answered since (its job was moved)
            await self._time_out(app, session, row, notify=True)

    async def _time_out(self, app: App, session: AsyncSession, row: DialogState, *, notify: bool) -> None:
        spec = self.specs.get(row.dialog)
        meta, data, key = _meta(row), _data(row), row.chat_key
        if spec is not None and not meta.get("parked") and row.state in spec.park_states and spec.park_for:
            _store(row, data, {"parked": True})
            await self._touch(session, row, app.clock.now(), spec.park_for)
            after_commit(session, lambda: self._mark(key, active=False, parked=True))
            await self._tell(app, session, key, spec, spec.park_text)
            return
        await self._end(session, row, key)
        if spec is not None and spec.on_discard:
            await spec.on_discard(app, session, data)
        if notify and not meta.get("parked"):
            minutes = int(self.timeout.total_seconds() // 60)
            text = (TEXTS["timed_out"].format(title=spec.title, minutes=minutes, start=spec.start_word)
                    if spec is not None and spec.start_word
                    else TEXTS["timed_out_plain"].format(title=spec.title if spec else "事情", minutes=minutes))
            await self._tell(app, session, key, spec, text)
        log.info("dialog timed out", extra={"dialog": row.dialog, "state": row.state})

    async def _tell(self, app: App, session: AsyncSession, key: str, spec: DialogSpec | None, text: str) -> None:
        sender, _, room = key.rpartition("|")
        out = Outgoing(room, None, text, mention_ids=(sender,)) if room else Outgoing(None, sender, text)
        await app.outbox.enqueue(session, out, source=(spec.reply_source if spec else None) or "reply")

    # ---- crashes ---------------------------------------------------------------------------------

    async def mark_pending(self, message: IncomingMessage) -> None:
        """Before a dialog's answer is handled, note it in its own transaction: if the bot dies
        before the answer's transaction commits, `recover` knows someone was left unanswered."""
        async with self.app.sessions.begin() as session:
            row = await self.current(session, message)
            if row is not None:
                row.data = {**row.data, META: {**_meta(row), "pending": message.id}}

    async def recover(self, app: App) -> None:
        """At start: each dialog a crash cut off mid-answer gets one note; every dialog has its job."""
        async with app.transaction() as session:
            rows = (await session.execute(select(DialogState).where(DialogState.bot == self.bot))).scalars().all()
            for row in rows:
                meta = _meta(row)
                await app.scheduler.add_once(_job_id(row.chat_key), TIMEOUT_JOB, {"key": row.chat_key},
                                             row.expires_at, grace=TIMEOUT_GRACE, session=session)
                pending = meta.pop("pending", None)
                if pending is None:
                    continue
                row.data = {**_data(row), META: meta}
                spec = self.specs.get(row.dialog)
                if spec is None or row.state not in spec.states or await _was_answered(session, self.bot, pending):
                    continue
                resume = spec.states[row.state].resume or TEXTS["resume_default"]
                await self._tell(app, session, row.chat_key, spec,
                                 TEXTS["restarted"].format(title=spec.title, resume=resume))
                log.info("resident told of a restart mid-dialog", extra={"dialog": row.dialog, "state": row.state})


async def _was_answered(session: AsyncSession, bot: str, message_id: str) -> bool:
    """Handled (or apologised for) after all: the id went in with the reply."""
    return await session.get(ProcessedMessage, (bot, message_id)) is not None


def _job_id(key: str) -> str:
    return f"dialog:{key}"


def _meta(row: DialogState) -> dict:
    return dict((row.data or {}).get(META) or {})


def _data(row: DialogState) -> dict:
    return {k: v for k, v in (row.data or {}).items() if k != META}


def _store(row: DialogState, data: dict, meta: dict) -> None:
    row.data = {**data, META: meta}
