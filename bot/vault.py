"""Encryption of personal data at rest (Fernet) and keyed hashes for lookups without plaintext."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class VaultError(Exception):
    pass


class Vault:
    def __init__(self, key: str | bytes) -> None:
        key = key.encode() if isinstance(key, str) else key
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise VaultError("security.secret_key / JINGMIN_SECRET_KEY: not a Fernet key "
                             "(generate one with: python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())')") from None
        # A separate key for hashes, derived so one secret configures both.
        self._mac_key = hashlib.sha256(b"jingmin-mac:" + key).digest()

    @property
    def mac_key(self) -> bytes:
        return self._mac_key

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise VaultError("cannot decrypt: the secret key changed or the data is damaged") from None

    def keyed_hash(self, text: str) -> str:
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, key_file: Path) -> str:
    """The configured key, or (embedded default only) one kept in data/secret.key."""
    if configured:
        return configured
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    key_file.write_text(key)
    key_file.chmod(0o600)
    log.warning("no JINGMIN_SECRET_KEY set: generated one in %s (set the variable in production)", key_file)
    return key


def test_key(seed: str = "jingmin-tests") -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
