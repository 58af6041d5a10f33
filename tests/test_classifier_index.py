"""The classifier's precomputed shortcuts give the answers of the plain definitions."""

from __future__ import annotations

import math
import random

import pytest

from handlers.intents import dataset, nb, rules
from handlers.intents.normalize import normalize


@pytest.fixture(scope="module")
def texts() -> list[str]:
    messages = [normalize(e.text) for e in dataset.load()]
    rnd = random.Random(7)
    mixed = [" ".join(rnd.sample(messages, 3)) for _ in range(200)]
    pieces = [m[rnd.randrange(len(m)):] for m in messages]
    edges = ["", "[图片]", "@所有人 今晚停水", "etc认证失效", "流了好多血", "月入30000", "约个号", "大约一点"]
    return messages + mixed + pieces + edges


def test_rules_index_finds_what_trying_every_cue_finds(texts):
    """Same cues in lexicon order, so group totals and best_group ties are unchanged too."""
    for text in texts:
        every_cue = [f"{c.intent}:{c.source}" for c in rules.load_cues() if c.matches(text)]
        assert rules.score(text).hits == every_cue, text


def test_model_rows_give_the_per_class_sums(texts):
    model = nb.NaiveBayes.load()
    for text in texts:
        if not text:
            continue
        feats = [f for f in set(nb.features(text)) if any(f in ll for ll in model.log_likelihood.values())]
        scores = {c: prior + sum(model.log_likelihood[c].get(f, model.log_unseen[c]) for f in feats)
                  for c, prior in model.log_prior.items()}
        top = max(scores.values())
        norm = top + math.log(sum(math.exp(s - top) for s in scores.values()))
        assert model.log_posterior(text) == pytest.approx({c: s - norm for c, s in scores.items()}, abs=1e-9)
