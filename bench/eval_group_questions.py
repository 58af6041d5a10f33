"""What the bot does in a residents' group with questions people ask one another.

    python bench/eval_group_questions.py FILE.tsv      # lines: none|service TAB text
    python bench/eval_group_questions.py FILE.tsv --list   # and each line's outcome (dev files only)

Each line is said by a resident in a group of its own, through the whole bot (classifier,
guide, every plugin) on a fresh SQLite database. It prints, for `none` (neighbours' questions the
guide does not cover) and `service` (questions about a police or public service), how many the bot answered
in the group from the guide, forwarded to the officer, or replied to otherwise, and how many it
let be. Run by hand. bench/heldout/neighbour_questions.tsv is written blind (bench/heldout/README.md);
bench/dev/service_questions.tsv (150 casual service questions by a helper, labelled by topic) is for
looking at with --list, and has been looked at.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench_pipeline import App, IncomingMessage, MemoryTransport, SystemClock, make_config, test_key  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.understanding import Consultation  # noqa: E402


async def evaluate(lines: list[tuple[str, str]], listing: list | None = None) -> dict[str, Counter]:
    with tempfile.TemporaryDirectory() as data_dir:
        officer = {"name": "张警官", "id": "wx_zhang", "role": "officer"}
        # A group for each line: what one line said (a scam warning, say) holds back nothing of
        # the next (warnings are once per group and hour).
        config = make_config(f"sqlite+aiosqlite:///{data_dir}/eval.db", data_dir, contacts=[officer],
                             groups=[{"name": f"居民{i}群", "category": "resident"} for i in range(len(lines))])
        clock = SystemClock()
        app = App(config, MemoryTransport(clock.now), secret_key=test_key(), clock=clock)
        await app.start()
        app.outbox.pause()
        for task in [t for t in asyncio.all_tasks() if t.get_name() == "guide-training"]:
            await task
        outcome: dict[str, Counter] = {}
        for i, (label, text) in enumerate(lines):
            room = config.groups[i]
            async with app.sessions() as session:
                before = await session.scalar(select(func.count()).select_from(OutboxMessage))
            await app.router.handle_event(IncomingMessage(
                id=f"q{i}", sender_id=f"wx_q{i}", sender_name="居民", text=text, at=clock.now(),
                room_id=room.room_id, room_name=room.name))
            async with app.sessions() as session:
                after = await session.scalar(select(func.count()).select_from(OutboxMessage))
                row = (await session.execute(select(Consultation.status, Consultation.entry_id).where(
                    Consultation.asker_id == f"wx_q{i}"))).first()
            status, entry_id = row if row else (None, None)
            what = {"answered": "answered from the guide", "open": "forwarded to the officer"}.get(
                status, "other reply" if after > before else "let be")
            outcome.setdefault(label, Counter())[what] += 1
            if listing is not None:
                listing.append((label, f"{what} {entry_id}" if entry_id else what, text))
        await app.stop()
    return outcome


def main() -> None:
    lines = []
    for number, raw in enumerate(Path(sys.argv[1]).read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip():
            if "\t" not in raw:
                sys.exit(f"error: {sys.argv[1]}:{number}: expected label TAB text")
            label, text = raw.split("\t", 1)
            lines.append((label.strip(), text.strip()))
    listing = [] if "--list" in sys.argv else None
    for label, counts in sorted(asyncio.run(evaluate(lines, listing)).items()):
        total = sum(counts.values())
        print(f"{label}: {total}")
        for what, n in counts.most_common():
            print(f"  {what:26s} {n:4d} ({n / total:.1%})")
    for label, what, text in listing or []:
        print(f"{label}\t{what}\t{text}")


if __name__ == "__main__":
    main()
