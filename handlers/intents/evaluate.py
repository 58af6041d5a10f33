"""Per-class precision/recall and macro-F1.

    python -m handlers.intents.evaluate                 # shipped classifier on holdout
    python -m handlers.intents.evaluate --split train   # (optimistic: rules were written from it)
    python -m handlers.intents.evaluate --cv 5          # model re-trained per fold, train split only
    python -m handlers.intents.evaluate --rules-only    # ablation without the model
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import Callable, Iterable

from handlers.intents import dataset
from handlers.intents.classifier import INTENTS, Classifier, default_classifier
from handlers.intents.nb import NaiveBayes


@dataclass(frozen=True)
class Report:
    per_class: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    errors: list[tuple[str, str, str]]  # gold, predicted, text

    def format(self) -> str:
        lines = [f"{'intent':<13}{'prec':>7}{'recall':>8}{'f1':>7}{'n':>5}"]
        for intent, (p, r, f, n) in self.per_class.items():
            lines.append(f"{intent:<13}{p:>7.3f}{r:>8.3f}{f:>7.3f}{n:>5}")
        lines.append(f"macro-F1 {self.macro_f1:.3f}")
        return "\n".join(lines)


def report(pairs: Iterable[tuple[str, str, str]]) -> Report:
    """`pairs` holds (gold, predicted, text) triples."""
    pairs = list(pairs)
    per_class = {}
    for intent in INTENTS:
        tp = sum(g == p == intent for g, p, _ in pairs)
        predicted = sum(p == intent for _, p, _ in pairs)
        support = sum(g == intent for g, _, _ in pairs)
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[intent] = (prec, rec, f1, support)
    macro = sum(v[2] for v in per_class.values()) / len(per_class)
    return Report(per_class, macro, [t for t in pairs if t[0] != t[1]])


def run(classify: Callable[[str], object], examples: list[dataset.Example]) -> Report:
    return report((e.intent, classify(e.text).intent, e.text) for e in examples)


def cross_validate(folds: int, rules_only: bool = False, seed: int = 7) -> Report:
    """k-fold on the train split, so the holdout never influences tuning."""
    examples = dataset.load("train")
    random.Random(seed).shuffle(examples)
    pairs = []
    for k in range(folds):
        test = examples[k::folds]
        train = [e for i, e in enumerate(examples) if i % folds != k]
        model = None if rules_only else NaiveBayes.train((e.intent, e.text) for e in train)
        clf = Classifier(model)
        pairs += [(e.intent, clf.classify(e.text).intent, e.text) for e in test]
    return report(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="holdout", choices=["holdout", "train"])
    parser.add_argument("--cv", type=int, default=0, help="k-fold cross-validation on train instead")
    parser.add_argument("--rules-only", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list misclassified messages")
    args = parser.parse_args()
    if args.cv:
        result = cross_validate(args.cv, args.rules_only)
    else:
        clf = Classifier(None) if args.rules_only else default_classifier()
        result = run(clf.classify, dataset.load(args.split))
    print(result.format())
    if args.errors:
        for gold, pred, text in result.errors:
            print(f"  {gold:>12} -> {pred:<12} {text}")


if __name__ == "__main__":
    main()
