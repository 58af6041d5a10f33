"""How a push now went, group by group, from the states of its outbox rows.

Pure: rows in as (dedup key, status), the officer's summary out. A group's row has the dedup key
"<batch prefix><room id>"; a long text is split into rows "…#2", "…#3", and the worst of them counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from handlers.pushes.texts import TEXTS

_SEVERITY = {None: -1, "sent": 0, "uncertain": 1, "pending": 2, "sending": 2, "failed": 3}
WAITING = ("pending", "sending")


def _worse(a: str | None, b: str) -> str:
    return b if _SEVERITY.get(b, 3) > _SEVERITY.get(a, -1) else a  # type: ignore[return-value]


@dataclass(frozen=True)
class PushOutcome:
    rooms: tuple[str, ...]  # every group the push was for, in order
    states: dict[str, str]  # room id -> the worst state of its rows (no entry: no row)

    @classmethod
    def of(cls, rooms: Iterable[str], prefix: str, rows: Iterable[tuple[str, str]]) -> PushOutcome:
        states: dict[str, str] = {}
        for key, state in rows:
            room = key[len(prefix):].split("#", 1)[0]
            states[room] = _worse(states.get(room), state)
        return cls(tuple(rooms), states)

    @property
    def waiting(self) -> bool:
        """Some group's message is still queued or on its way."""
        return any(s in WAITING for s in self.states.values())

    @property
    def sent(self) -> list[str]:
        return [r for r in self.rooms if self.states.get(r) == "sent"]

    @property
    def failed(self) -> list[str]:
        """Groups it did not reach: failed, or never queued."""
        return [r for r in self.rooms if self.states.get(r) not in ("sent", "uncertain")]

    @property
    def uncertain(self) -> list[str]:
        """Groups whose message was on its way when the bot stopped: it may or may not have arrived."""
        return [r for r in self.rooms if self.states.get(r) == "uncertain"]

    def summary(self, name_of: Callable[[str], str]) -> str:
        total, sent = len(self.rooms), len(self.sent)
        failed = [name_of(r) for r in self.failed]
        text = (TEXTS["summary_failed"].format(sent=sent, total=total, failed="、".join(failed)) if failed
                else TEXTS["summary_ok"].format(sent=sent, total=total))
        if self.uncertain:
            text += TEXTS["summary_uncertain"].format(uncertain="、".join(name_of(r) for r in self.uncertain))
        return text
