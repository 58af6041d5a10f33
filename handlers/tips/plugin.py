"""The tips plugin object: its config (`tips:`), its confidential outbox source, its line of the
weekly report and what it tidies at start. The dialog, phrases and commands register on it from
the package's other modules (see handlers/tips/__init__.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.plugin import Plugin
from handlers.tips.attachments import sweep_files
from handlers.tips.config import TipSettings
from handlers.tips.texts import OFFICER_TEXTS
from storage import tips as store

plugin = Plugin("tips", config=TipSettings, order=60)
plugin.menu_item("私聊我说“举报”：向民警提供违法犯罪线索，可以为您保密")

# Every message to a reporter, and every full-text view, loses its recipient and text once sent.
plugin.confidential_source(store.OUTBOX_SOURCE)
# The notices to officers and the unit's group quote the tip's first words: not kept either.
plugin.confidential_source(store.NOTICE_SOURCE)


@plugin.report_line("tips")
async def open_tips_line(app, session, period) -> list[str]:
    """For the weekly report: how many tips wait, and how many of them are overdue; no names."""
    waiting = await store.open_count(session, app.name)
    if not waiting:
        return []
    overdue = await store.overdue_count(session, app.name, app.clock.now(), app.config.tips.overdue_hours)
    return [OFFICER_TEXTS["report_line"].format(open=waiting, overdue=overdue, hours=app.config.tips.overdue_hours)]


@plugin.on_start
async def setup(app) -> None:
    async with app.transaction() as session:
        # Rows left "uncertain" by a crash, and drafts of dialogs nobody came back to.
        await store.forget_recipients(session, app.name)
        await store.drop_drafts(session, app.name, older_than=app.clock.now() - timedelta(days=1))
        await sweep_files(app, session)
