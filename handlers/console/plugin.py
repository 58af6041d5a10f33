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
from handlers.console import cli, pages, security

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
        web.get("/login", pages.login_page), web.post("/login", pages.login_post),
        web.post("/logout", pages.logout),
        web.get("/", pages.overview),
        web.get("/questions", pages.questions),
        web.post(r"/questions/{kind}/{id:\d+}/answer", pages.answer_question),
        web.get("/tips", pages.tips_page),
        web.post(r"/tips/{id:\d+}/{action}", pages.tip_action),
        web.get(r"/tips/{id:\d+}/files/{n:\d+}", pages.tip_file),
        web.get("/bookings", pages.bookings_page),
        web.post("/bookings/{action}", pages.booking_action),
        web.get("/schedules", pages.schedules_page),
        web.post("/schedules/{kind}/{action}", pages.schedule_action),
        web.get("/registers", pages.registers_page),
        web.get("/registers/download", pages.register_download),
        web.get("/groups", pages.groups_page),
        web.post("/groups/category", pages.group_category),
        web.get("/audit", pages.audit_page),
    ])
    console.router.add_static("/static/", HERE / "static")
    return console
