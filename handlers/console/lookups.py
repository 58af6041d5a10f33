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
    from bot.register_files import write_register
    from storage import registers

    register = registers.REGISTERS[code]
    async with app.sessions.begin() as session:
        rows = await registers.collect(session, app.config, app.registry.rows_for(code), start, end, app.clock.tz)
        _audit(app, session, name, role, "控制台 导出登记簿", f"{register.title} {start}..{end} {kind}")
    with tempfile.TemporaryDirectory(prefix="jingmin-console-") as folder:
        csv_path, xlsx_path = write_register(register, rows, app.clock.tz, Path(folder), start, end)
        path = csv_path if kind == "csv" else xlsx_path
        return path.name, path.read_bytes()


async def tip_attachment(app, name: str, role: str, tip_id: int, n: int) -> tuple[str, str, bytes] | None:
    """The n-th attachment of tip `tip_id` (from 1) as (file name, kind, bytes), decrypted for this
    one answer and on record as `线索附件` like `/线索 附件 N`; None when there is no such file."""
    from handlers.tips import attachments
    from storage import tips as store

    async with app.sessions.begin() as session:
        tip = await store.get(session, app.name, tip_id)
        rows = await store.attachments_of(session, tip_id) if tip is not None else []
        if not 1 <= n <= len(rows):
            return None
        opened = attachments.decrypt_all(app.vault, [rows[n - 1]])  # empty: the key changed since
        _audit(app, session, name, role, "线索附件", f"#{tip_id} {n}", "ok" if opened else "refused: unreadable")
    if not opened:
        return None
    row, data = opened[0]
    return attachments.file_name(tip_id, n, row), row.kind, data


async def attachment_counts(app, tip_ids: list[int]) -> dict[int, int]:
    from storage import tips as store

    async with app.sessions() as session:
        return {i: await store.attachment_count(session, i) for i in tip_ids}
