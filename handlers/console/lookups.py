"""Two small things the chat commands do not do, each audited with the account's name: showing a
booking's full phone number, and handing a register over as a file."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from handlers.console.accounts import ROLES
from handlers.console.actions import actor_id
from storage.models import AuditEntry


def _audit(app, session, name: str, role: str, command: str, args: str, outcome: str = "ok") -> None:
    session.add(AuditEntry(bot=app.name, at=app.clock.now(), actor_id=actor_id(name)[:128], actor_role=ROLES[role],
                           room_id=None, command=command, args=args, outcome=outcome))


async def reveal_phone(app, name: str, role: str, code: str) -> dict:
    """The full phone number of booking `code`, once, on record."""
    from handlers.appointments.codes import normal_code
    from storage import appointments as store

    code = normal_code(code.strip()) if code.strip() else ""
    async with app.sessions.begin() as session:
        booking = await store.by_code(session, app.name, code) if code else None
        _audit(app, session, name, role, "控制台 查看电话", code, "ok" if booking else "refused: not found")
        phone = app.vault.decrypt(booking.phone_enc) if booking and booking.phone_enc else ""
    return {"code": code, "name": booking.name if booking else "", "phone": phone}


async def register_file(app, name: str, role: str, code: str, start: date, end: date, kind: str) -> tuple[str, bytes]:
    """One register for days [start, end] as CSV or XLSX (the same writer as `jingmin export registers`)."""
    from handlers.stats.export import write_register
    from storage import registers

    register = registers.REGISTERS[code]
    async with app.sessions.begin() as session:
        rows = await registers.collect(session, app.config, app.registry.rows_for(code), start, end, app.clock.tz)
        _audit(app, session, name, role, "控制台 导出登记簿", f"{register.title} {start}..{end} {kind}")
    with tempfile.TemporaryDirectory(prefix="jingmin-console-") as folder:
        csv_path, xlsx_path = write_register(register, rows, app.clock.tz, Path(folder), start, end)
        path = csv_path if kind == "csv" else xlsx_path
        return path.name, path.read_bytes()
