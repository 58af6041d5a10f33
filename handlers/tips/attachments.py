"""A tip's attachments as files for the officer who asks for them.

They are decrypted into files of a private temporary folder (0700, one per request, files 0600)
only so the outbox can send them; the outbox deletes each once it is out, and `sweep_files` the
ones no outbox row is waiting for (left by a crash, a rollback or a message given up on).
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from pathlib import Path

from bot.vault import Vault, VaultError
from storage import tips as store

# Decrypted attachments wait here (one 0700 folder per request) only until the outbox sends them.
ATTACHMENT_DIR = Path(tempfile.gettempdir()) / "jingmin-tip-files"
SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")
DEFAULT_SUFFIX = {"image": ".jpg", "video": ".mp4"}


def decrypt_all(vault: Vault, rows: list[store.TipAttachment]) -> list[tuple[store.TipAttachment, bytes]]:
    """The attachments that can still be read (a changed key leaves the others out)."""
    opened = []
    for row in rows:
        try:
            opened.append((row, base64.b64decode(vault.decrypt(row.data_enc.decode()))))
        except (VaultError, ValueError):
            continue
    return opened


def file_name(tip_id: int, n: int, row: store.TipAttachment) -> str:
    """线索3-附件1.jpg: the officer sees the tip's number, never the reporter's own file name."""
    return f"线索{tip_id}-附件{n}{suffix(row)}"


def suffix(row: store.TipAttachment) -> str:
    """The sent file keeps only the extension of the reporter's file name: the name may say who they are."""
    found = Path(row.name).suffix
    return found.lower() if SAFE_SUFFIX.match(found) else DEFAULT_SUFFIX.get(row.kind, "")


def new_folder(bot: str) -> Path:
    """A fresh private folder for one request's files."""
    return Path(tempfile.mkdtemp(dir=_root(bot)))


def _root(bot: str) -> Path:
    root = ATTACHMENT_DIR / bot
    ATTACHMENT_DIR.mkdir(mode=0o700, exist_ok=True)
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


async def sweep_files(app, session) -> None:
    """Delete this bot's decrypted files no outbox row is waiting to send, and the folders they
    leave empty."""
    root = ATTACHMENT_DIR / app.name
    if not root.is_dir():
        return
    waiting = await store.files_waiting(session, app.name)
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if str(path) not in waiting:
                path.unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()
