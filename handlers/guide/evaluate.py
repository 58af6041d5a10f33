"""How well the guide places residents' questions: `jingmin guide-eval FILE.tsv`.

FILE.tsv: `entry_id<TAB>question` a line; entry_id `-` (or none, other) for a question the guide
does not cover (it should be forwarded). Blank lines, `#` comments and an `id<TAB>question` header
are skipped. Measured on the built-in library alone, so figures compare across communities.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from handlers.guide.library import builtin_entries, unrelated_questions
from handlers.guide.plugin import plugin
from handlers.guide.retrieval import MODEL_PATH, Retriever, confident, model_key, retriever_for, save, train_arrays

UNCOVERED = "-"
UNCOVERED_LABELS = frozenset({UNCOVERED, "none", "other", "uncovered"})
HEADERS = frozenset({"id", "entry_id", "label"})


@dataclass
class GuideScore:
    covered: int = 0  # questions on a topic the library has
    right: int = 0  # ... answered with that entry
    wrong: int = 0  # ... answered with another entry
    uncovered: int = 0  # questions on no topic of the library
    uncovered_answered: int = 0  # ... answered anyway (wrongly)
    top1: int = 0  # covered questions whose best entry is right, threshold aside
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)  # (expected, given or "", question)

    @property
    def forwarded(self) -> int:
        return self.covered - self.right - self.wrong

    def rate(self, n: int, of: int) -> float:
        return n / of if of else 0.0

    def lines(self) -> list[str]:
        return [
            f"covered questions: {self.covered}",
            f"  answered with the right entry: {self.right} ({self.rate(self.right, self.covered):.1%})",
            f"  answered with a wrong entry:   {self.wrong} ({self.rate(self.wrong, self.covered):.1%})",
            f"  forwarded to the officer:      {self.forwarded} ({self.rate(self.forwarded, self.covered):.1%})",
            f"  best entry right (no threshold): {self.rate(self.top1, self.covered):.1%}",
            f"uncovered questions: {self.uncovered}, answered anyway: {self.uncovered_answered} "
            f"({self.rate(self.uncovered_answered, self.uncovered):.1%})",
        ]


def read_questions(path: Path) -> list[tuple[str, str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, question = line.partition("\t")
        if not sep or not question.strip():
            raise ValueError(f"{path}:{n}: expected entry_id<TAB>question")
        label = label.strip()
        if n == 1 and label.lower() in HEADERS:
            continue
        question = question.split("\t")[0]  # further columns (style, author) are not ours to read
        rows.append((UNCOVERED if label.lower() in UNCOVERED_LABELS else label, question.strip()))
    return rows


def evaluate(rows: list[tuple[str, str]], retriever: Retriever | None = None) -> GuideScore:
    retriever = retriever or retriever_for(list(builtin_entries()), unrelated_questions())
    score = GuideScore()
    for label, question in rows:
        hit = retriever.best(question)
        answered = hit.entry_id if confident(hit) else None
        if label == UNCOVERED:
            score.uncovered += 1
            score.uncovered_answered += answered is not None
            if answered:
                score.mistakes.append((label, answered, question))
            continue
        score.covered += 1
        score.top1 += hit is not None and hit.entry_id == label
        if answered == label:
            score.right += 1
        else:
            score.wrong += answered is not None
            score.mistakes.append((label, answered or "", question))
    return score


@plugin.cli
def guide_eval_command(sub) -> None:
    p = sub.add_parser("guide-eval", help="measure the built-in guide on labelled questions (entry_id TAB question)")
    p.add_argument("file", type=Path)
    p.add_argument("--mistakes", action="store_true", help="list every question not answered right")
    p.set_defaults(func=_print_evaluation)


def _print_evaluation(args) -> int:
    try:
        rows = read_questions(args.file)
    except (OSError, ValueError) as exc:
        print(f"guide-eval: {exc}", file=sys.stderr)
        return 2
    known = {e.id for e in builtin_entries()}
    unknown = Counter(label for label, _ in rows if label != UNCOVERED and label not in known)
    if unknown:
        print(f"guide-eval: not entries of the library: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    score = evaluate(rows)
    print("\n".join(score.lines()))
    if args.mistakes:
        for expected, given, question in score.mistakes:
            print(f"{expected}\t{given or '(forwarded)'}\t{question}")
    return 0


@plugin.cli
def guide_train_command(sub) -> None:
    p = sub.add_parser("guide-train", help="train the built-in guide and ship it (handlers/guide/model.npz); "
                                           "run after changing library.yaml, asking.yaml or unrelated.yaml")
    p.set_defaults(func=_train_builtin)


def _train_builtin(args) -> int:
    entries, unrelated = list(builtin_entries()), unrelated_questions()
    save(train_arrays(entries, unrelated), model_key(entries, unrelated), MODEL_PATH)
    print(f"guide-train: {len(entries)} entries, written to {MODEL_PATH}")
    return 0
