"""The built-in guide on residents' own words: tests/data/guide_questions.tsv, written apart from the
library's example questions (elderly residents, 东北话 and other dialect, voice-to-text without
punctuation, typos and homophones, abbreviations), plus questions the guide does not cover.

Targets: ≥ 90 % of covered questions answered with the right entry; a wrong entry rarely (the guide
prefers forwarding to the officer); uncovered questions mostly forwarded."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.guide.evaluate import UNCOVERED, evaluate, read_questions
from handlers.guide.library import builtin_entries

QUESTIONS = Path(__file__).parent / "data" / "guide_questions.tsv"


@pytest.fixture(scope="module")
def score():
    return evaluate(read_questions(QUESTIONS))


def test_the_dev_set_is_large_varied_and_names_real_entries():
    rows = read_questions(QUESTIONS)
    ids = {e.id for e in builtin_entries()}
    assert len(rows) >= 300
    assert {label for label, _ in rows} - {UNCOVERED} <= ids
    assert len({label for label, _ in rows}) >= 100  # nearly every entry is asked about
    assert sum(label == UNCOVERED for label, _ in rows) >= 30


def test_paraphrased_questions_get_the_right_entry(score):
    print("\n".join(score.lines()))
    assert score.right / score.covered >= 0.90


def test_a_wrong_entry_is_rare(score):
    assert score.wrong / score.covered <= 0.05


def test_questions_the_guide_does_not_cover_are_mostly_forwarded(score):
    assert score.uncovered_answered / score.uncovered <= 0.25
