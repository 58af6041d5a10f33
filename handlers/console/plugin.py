"""The console as a plugin: its config section, its `jingmin console` commands, its pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from pydantic import Field

from bot.config import Strict
from bot.plugin import Plugin
from handlers.console import cli, security
from handlers.console.pages import bookings, district, followups, guide, login, office, overview, pushes, tips

HERE = Path(__file__).parent
PREFIX = "/console/"


class ConsoleSettings(Strict):
    """`console:` in config.yaml."""

    idle_minutes: int = Field(30, ge=1, le=24 * 60)  # a session unused this long asks to log in again
    max_failures: int = Field(5, ge=1, le=100)  # wrong passwords in a row before the account is locked
    lock_minutes: int = Field(15, ge=1, le=24 * 60)
    secure_cookie: bool = False  # true behind HTTPS: the browser sends the cookie only over TLS


plugin = Plugin("console", config=ConsoleSettings, order=900)
plugin.cli(cli.extend)


@dataclass(frozen=True)
class ConsoleState:
    app: object
    settings: ConsoleSettings
    prefix: str


@plugin.web_app(PREFIX)
def build(app) -> web.Application:
    console = web.Application()
    console["console"] = ConsoleState(app, app.config.console, PREFIX)
    aiohttp_jinja2.setup(console, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    security.install(console, console["console"])
    console.add_routes([
        web.get("/login", login.login_page), web.post("/login", login.login_post),
        web.post("/logout", login.logout),
        web.get("/", overview.overview),
        web.get("/district", district.district_page), web.post("/bot", district.switch_bot),
        web.get("/questions", followups.questions),
        web.post(r"/questions/{kind}/{id:\d+}/answer", followups.answer_question),
        web.get("/tips", tips.tips_page),
        web.post(r"/tips/{id:\d+}/{action}", tips.tip_action),
        web.get(r"/tips/{id:\d+}/files/{n:\d+}", tips.tip_file),
        web.get("/bookings", bookings.bookings_page),
        web.post("/bookings/{action}", bookings.booking_action),
        web.get("/schedules", pushes.schedules_page),
        web.post("/schedules/{kind}/{action}", pushes.schedule_action),
        web.get("/guide", guide.guide_page),
        web.post("/guide/add", guide.guide_add),
        web.get(r"/guide/{id:[A-Za-z0-9-]{1,64}}", guide.entry_page),
        web.post(r"/guide/{id:[A-Za-z0-9-]{1,64}}/{action}", guide.entry_action),
        web.get("/registers", office.registers_page),
        web.get("/registers/download", office.register_download),
        web.get("/groups", office.groups_page),
        web.post("/groups/category", office.group_category),
        web.get("/audit", office.audit_page),
    ])
    console.router.add_static("/static/", HERE / "static")
    return console
