"""Booking codes: six characters a resident can read aloud or type on a phone."""

from __future__ import annotations

import random

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
# What residents and officers may type as a code (older or hand-made codes included), any case.
CODE_PATTERN = r"[A-Za-z0-9]{4,8}"


def new_code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(typed: str) -> str:
    """abc234 -> ABC234: codes are stored in capitals."""
    return typed.strip().upper()
