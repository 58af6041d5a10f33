"""Every rule cue must be seen in the training data: a cue that matches only messages the model
is measured on was tuned on them (the old lexicon had 122 such cues)."""

from __future__ import annotations

from handlers.intents import dataset, rules
from handlers.intents.normalize import normalize

# Plain domain words a cue may hold before any training message uses them, each with why.
ALLOWED_UNSEEN = {
}


def test_every_cue_matches_some_training_message():
    texts = [normalize(e.text) for e in dataset.load("train")]
    unseen = []
    for group in rules.lexicon().all_groups():
        for cue in group.cues:
            if cue not in ALLOWED_UNSEEN and not any(rules.cue_matches(cue, t) for t in texts):
                unseen.append(f"{group.name}: {cue}")
    assert not unseen, "cues no training message contains (add training data or drop them):\n" + "\n".join(unseen)


def test_allowlist_holds_only_real_cues():
    cues = {c for g in rules.lexicon().all_groups() for c in g.cues}
    assert set(ALLOWED_UNSEEN) <= cues, set(ALLOWED_UNSEEN) - cues
