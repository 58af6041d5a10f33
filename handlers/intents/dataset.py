"""The labelled messages shipped with the package (handlers/intents/data/).

    data/train/*.tsv   the training corpus, several authors with different briefs
    data/dev.tsv       a development set for checking by hand (the old "holdout": rules were
                       tuned on it once, so it is not a fair test; the blind holdout lives
                       outside the package and is never read here)

Each line is `label<TAB>looks_like<TAB>text` (looks_like empty, or the intent a look-alike
resembles) or the short form `label<TAB>text`. No header, UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

DATA_DIR = Path(__file__).with_name("data")
TRAIN_DIR = DATA_DIR / "train"
DEV_PATH = DATA_DIR / "dev.tsv"

INTENTS = ("consultation", "suggestion", "tip", "emergency", "scam", "appointment", "dispute", "other")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    looks_like: str = ""
    source: str = ""  # file name (an author's batch), or "local" for officers' corrections


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


def parse_lines(lines: Iterable[str], source: str = "") -> tuple[list[Example], list[Problem]]:
    """Read TSV lines; a bad line is skipped and reported, never fatal."""
    examples, problems = [], []
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) == 2:
            cols = [cols[0], "", cols[1]]
        if len(cols) != 3:
            problems.append(Problem(n, f"{len(cols)} columns"))
            continue
        label, looks_like, text = (c.strip() for c in cols)
        if label not in INTENTS:
            problems.append(Problem(n, f"unknown label {label!r}"))
        elif looks_like and looks_like not in INTENTS:
            problems.append(Problem(n, f"unknown looks_like {looks_like!r}"))
        elif not text:
            problems.append(Problem(n, "empty text"))
        else:
            examples.append(Example(label, text, looks_like if looks_like != label else "", source))
    return examples, problems


def read(path: Path) -> tuple[list[Example], list[Problem]]:
    with path.open(encoding="utf-8-sig") as fh:
        return parse_lines(fh, path.stem)


def load(split: str | None = None) -> list[Example]:
    """`train` (all files of data/train), `dev`, or None for both."""
    paths = []
    if split in (None, "train"):
        paths += sorted(TRAIN_DIR.glob("*.tsv"))
    if split in (None, "dev"):
        paths.append(DEV_PATH)
    if split not in (None, "train", "dev"):
        raise ValueError(f"unknown split {split!r} (train, dev)")
    examples = dedupe(e for p in paths for e in read(p)[0])
    if split == "train":  # a message in dev is never trained on ("收到" was in both)
        dev = {e.text for e in read(DEV_PATH)[0]}
        examples = [e for e in examples if e.text not in dev]
    return examples


def dedupe(examples: Iterable[Example]) -> list[Example]:
    """First label wins for a repeated text: one message is one training row."""
    seen: set[str] = set()
    out = []
    for e in examples:
        if e.text not in seen:
            seen.add(e.text)
            out.append(e)
    return out
