"""What every page shares: the page frame (account, csrf token, menu, flash), running an action
as the account and showing its answer on the next page (POST-redirect-GET), the role check."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from handlers.console import accounts as account_store
from handlers.console.actions import ActionResult, may, run_as
from handlers.console.security import csrf_token
from handlers.console.texts import DISTRICT_PAGES, NAV, PAGE_NEEDS, TEXTS, TITLE

# Characters of an action's answer kept in the cookie for the next page: the whole cookie must stay
# under the 4 KB browsers keep (600 Chinese characters are 1.8 KB, 2.4 KB encrypted).
FLASH_MAX = 600


def state_of(request: web.Request):
    return request.config_dict["console"]


async def page(request: web.Request, template: str, status: int = 200, **values) -> web.Response:
    """A page with what every page needs: the account, the csrf token, the menu, the flash, and for
    a district account the bot switcher."""
    state = state_of(request)
    session = await get_session(request)
    account = request.get("account")
    nav = [(key, label) for key, label in NAV if account is not None and may_open(state.app, account.role, key)]
    values.update(title=TITLE, t=TEXTS, nav=nav, prefix=state.prefix, csrf=csrf_token(session),
                  account=account, flash=session.pop("flash", None),
                  role_name=account_store.ROLE_NAMES.get(account.role, "") if account else "",
                  bots=[], viewed="")
    if account is not None and account.role == "district":
        values.update(bots=await bots_of(request), viewed=await viewed_bot(request))
    return aiohttp_jinja2.render_template(template, request, values, status=status)


async def bots_of(request: web.Request) -> list[str]:
    """The bots a district account may look at."""
    from handlers.console.district import district_bots

    app = state_of(request).app
    async with app.sessions() as db:
        return await district_bots(app, db)


async def viewed_bot(request: web.Request) -> str:
    """The bot whose numbers the page shows: a district account's choice, else the bot serving the
    page (an officer's or staff account is this bot's only)."""
    app, account = state_of(request).app, request["account"]
    if account.role != "district":
        return app.name
    chosen = (await get_session(request)).get("bot")
    return chosen if chosen and chosen in await bots_of(request) else app.name


async def act(request: web.Request, command: str, back: str) -> web.Response:
    """Run a command as the account, keep its answer for the next page, go back (POST-redirect-GET)."""
    state, account = state_of(request), request["account"]
    result = await run_as(state.app, account.name, account.role, command)
    await flash(request, result)
    raise web.HTTPSeeOther(f"{state.prefix}{back}")


async def flash(request: web.Request, result: ActionResult) -> None:
    session = await get_session(request)
    session["flash"] = {"ok": result.ok, "text": result.text[:FLASH_MAX]}


async def form(request: web.Request) -> dict:
    return dict(await request.post())


def may_open(app, role: str, key: str) -> bool:
    if key in DISTRICT_PAGES:
        return role == "district"
    needs = PAGE_NEEDS.get(key)
    return needs is None or may(app, role, *needs)


def refuse_page_unless(request: web.Request, key: str) -> None:
    """A page whose listing command the role may not run is refused, as the command would be."""
    if not may_open(state_of(request).app, request["account"].role, key):
        raise web.HTTPForbidden(text=TEXTS["no_right"])


def refuse_unless(request: web.Request, command: str, verb: str | None = None) -> None:
    """The page's own check before running (the router checks again, and audits the refusal)."""
    if not may(state_of(request).app, request["account"].role, command, verb):
        raise web.HTTPForbidden(text=TEXTS["no_right"])


def who(app, contact_id: str) -> str:
    known = app.directory.people.get(contact_id)  # never a raw WeChat id
    return known.name if known and known.name else "居民"


def where(app, room_id: str | None) -> str:
    group = app.directory.group(room_id) if room_id else None
    return "私聊" if room_id is None else (group.name if group else "群聊")
