"""Loading the labelled message set (tests/data/intents.tsv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DATA_PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "intents.tsv"


@dataclass(frozen=True)
class Example:
    split: str
    intent: str
    text: str


def load(split: str | None = None, path: Path = DATA_PATH) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [Example(r["split"], r["intent"], r["text"]) for r in reader]
    return [r for r in rows if split is None or r.split == split]
