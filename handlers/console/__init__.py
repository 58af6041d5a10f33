"""The officers' web console at /console/ on the bot's web server: the desk work of a 警务室 (the
week's numbers, questions waiting for an answer, tips, bookings, schedules, registers, the audit
log) on a page, for a police-post PC and a phone. Server-rendered Chinese (aiohttp-jinja2), its
own style sheet, nothing from the internet.

Accounts come from `jingmin console add-user`; each has a console role that acts with a chat role
(handlers.console.accounts.ROLES), and every action runs the chat command as that account
(handlers.console.actions), so what a role cannot do by command it cannot do on the page.
"""

from handlers.console.plugin import plugin  # noqa: F401
