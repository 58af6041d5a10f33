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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from handlers.intents import segment

MODEL_PATH = Path(__file__).with_name("nb_model.json")
ALPHA = 0.5  # Laplace smoothing; below 1 because the vocabulary is large for the corpus


def features(text: str) -> list[str]:
    """jieba words (meaning) plus char bigrams (robust to typos and odd segmentation)."""
    words = [w for w in segment.tokens(text) if any(c.isalnum() for c in w)]
    chars = [c for c in text if not c.isspace()]
    bigrams = [a + b for a, b in zip(chars, chars[1:])]
    return words + ["#" + b for b in bigrams]


@dataclass(frozen=True)
class NaiveBayes:
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    log_unseen: dict[str, float]

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
        feats = [f for f in set(features(text)) if any(f in ll for ll in self.log_likelihood.values())]
        scores = {}
        for intent, prior in self.log_prior.items():
            ll, unseen = self.log_likelihood[intent], self.log_unseen[intent]
            scores[intent] = prior + sum(ll.get(f, unseen) for f in feats)
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
