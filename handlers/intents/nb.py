"""A small multinomial naive Bayes over jieba words and character bigrams.

The rules know the domain; this model covers phrasing the rules never anticipated
(colloquial word order, dialect). It is trained from the train split of the shipped data
set by `python -m handlers.intents.train` and stored as JSON, so nothing is downloaded or
trained at run time.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from handlers.intents import segment

MODEL_PATH = Path(__file__).with_name("nb_model.json")
ALPHA = 0.5  # Laplace smoothing; below 1 because the vocabulary is large for the corpus


def features(text: str) -> list[str]:
    """jieba words (meaning) plus char bigrams (robust to typos and odd segmentation)."""
    # isalnum() first: it settles most words in C before the per-character scan.
    words = [w for w in segment.tokens(text) if w.isalnum() or any(c.isalnum() for c in w)]
    chars = "".join(text.split())  # split() drops exactly the characters isspace() is true for
    bigrams = [a + b for a, b in zip(chars, chars[1:])]
    return words + ["#" + b for b in bigrams]


@dataclass(frozen=True)
class NaiveBayes:
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    log_unseen: dict[str, float]
    # feature -> its log-likelihood in each class, in log_prior order (unseen ones filled in),
    # so scoring a message is one lookup per feature instead of one per feature and class.
    per_feature: dict[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vocab = list(set().union(*self.log_likelihood.values()))
        columns = [[self.log_likelihood[c].get(f, self.log_unseen[c]) for f in vocab] for c in self.log_prior]
        object.__setattr__(self, "per_feature", dict(zip(vocab, zip(*columns))))  # frozen dataclass

    @classmethod
    def train(cls, rows: Iterable[tuple[str, str]]) -> "NaiveBayes":
        counts: dict[str, Counter] = {}
        docs: Counter = Counter()
        for intent, text in rows:
            docs[intent] += 1
            # Binary counts per message: repetition ("哈哈哈哈") should not dominate.
            counts.setdefault(intent, Counter()).update(set(features(text)))
        vocab = set().union(*counts.values())
        total_docs = sum(docs.values())
        log_prior, log_likelihood, log_unseen = {}, {}, {}
        for intent, counter in counts.items():
            denom = sum(counter.values()) + ALPHA * (len(vocab) + 1)
            log_prior[intent] = math.log(docs[intent] / total_docs)
            log_likelihood[intent] = {f: math.log((n + ALPHA) / denom) for f, n in counter.items()}
            log_unseen[intent] = math.log(ALPHA / denom)
        return cls(log_prior, log_likelihood, log_unseen)

    def log_posterior(self, text: str) -> dict[str, float]:
        """Normalised log P(intent | text); features unseen in every class are ignored."""
        found = [self.per_feature[f] for f in set(features(text)) if f in self.per_feature]
        # Column sums in the same order as summing per class: the floats come out identical.
        sums = [sum(column) for column in zip(*found)] if found else [0] * len(self.log_prior)
        scores = {intent: prior + s for (intent, prior), s in zip(self.log_prior.items(), sums)}
        top = max(scores.values())
        norm = top + math.log(sum(math.exp(s - top) for s in scores.values()))
        return {k: v - norm for k, v in scores.items()}

    def to_json(self) -> str:
        rounded = {k: {f: round(v, 4) for f, v in d.items()} for k, d in self.log_likelihood.items()}
        body = {"log_prior": self.log_prior, "log_likelihood": rounded, "log_unseen": self.log_unseen}
        return json.dumps(body, ensure_ascii=False, sort_keys=True, indent=0)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "NaiveBayes":
        body = json.loads(path.read_text(encoding="utf-8"))
        return cls(body["log_prior"], body["log_likelihood"], body["log_unseen"])
