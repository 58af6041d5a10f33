"""The guide scores questions with numpy (handlers/intents/vectors.py) on arrays trained before:
the same vectors and decisions as scikit-learn's, the shipped model is what training gives today,
and a bot answering from the built-in guide never loads scikit-learn or scipy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from handlers.guide import retrieval
from handlers.guide.evaluate import read_questions
from handlers.guide.plugin import GuideIndex
from handlers.guide.library import Entry, builtin_entries, unrelated_questions
from handlers.guide.retrieval import (
    MODEL_PATH, EntryModel, Retriever, canonical, confident, load, model_key, retriever_for, train_arrays,
    words,
)
from handlers.intents.vectors import Tfidf, char_grams

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [q for f in ("guide_questions.tsv", "guide_questions_author1.tsv")
             for _, q in read_questions(ROOT / "tests" / "data" / f)]


@pytest.fixture(scope="module")
def shipped():
    entries, unrelated = list(builtin_entries()), unrelated_questions()
    arrays = load(MODEL_PATH, model_key(entries, unrelated))
    assert arrays is not None, "model.npz is not trained from today's library: run `jingmin guide-train`"
    return entries, unrelated, arrays


def _examples(entries) -> list[str]:
    return [canonical(t) for e in entries for t in (e.title, *e.keywords, *e.questions, *e.asked) if canonical(t)]


def _rows(tfidf: Tfidf, analyzed: list[list[str]]) -> np.ndarray:
    out = np.zeros((len(analyzed), len(tfidf)))
    for row, terms in enumerate(analyzed):
        ids, w = tfidf.weights(terms)
        out[row, ids] = w
    return out


@pytest.mark.parametrize("analyzer, grams, settings", [
    ("char", (2, 3), {"sublinear_tf": True}),
    ("char", (1, 3), {"sublinear_tf": True}),
    ("char", (1, 2), {"binary": True}),
    ("words", None, {"sublinear_tf": True}),
])
def test_vectors_are_scikit_learns(shipped, analyzer, grams, settings):
    texts = _examples(shipped[0])
    questions = [canonical(q) for q in QUESTIONS]
    if analyzer == "char":
        theirs = TfidfVectorizer(analyzer="char", ngram_range=grams, **settings).fit(texts)
        analyze = lambda t: char_grams(t, *grams)  # noqa: E731
    else:
        theirs = TfidfVectorizer(analyzer=words, **settings).fit(texts)
        analyze = words
    ours = Tfidf.fit([analyze(t) for t in texts], sublinear=settings.get("sublinear_tf", False),
                     binary=settings.get("binary", False))
    assert ours.vocabulary == theirs.get_feature_names_out().tolist()
    assert np.allclose(ours.idf, theirs.idf_)
    assert np.allclose(_rows(ours, [analyze(q) for q in questions]), theirs.transform(questions).toarray())


def test_decisions_are_scikit_learns_decision_function(shipped):
    _, _, arrays = shipped
    model = EntryModel(arrays)
    folded = [canonical(q) for q in QUESTIONS]
    features = np.hstack([_rows(model.chars, [char_grams(t, 1, 3) for t in folded]),
                          _rows(model.words, [words(t) for t in folded])])
    def expected(coef: np.ndarray) -> np.ndarray:
        svm = LinearSVC()
        svm.coef_ = coef.T.astype(np.float64)
        svm.intercept_, svm.classes_ = model.intercept, model.classes
        values = np.full((len(folded), model.size + 1), -10.0)
        values[:, model.classes] = svm.decision_function(features)
        entries, other = values[:, :model.size], values[:, model.size:]
        return np.where(other > entries.max(axis=1, keepdims=True), np.minimum(entries, other - 1.0), entries)

    ours = model.decisions(folded)
    assert np.allclose(ours, expected(model.coef), atol=1e-9)  # the coefficients as kept (float16)
    # and as trained (float32): keeping them in half the memory moves no decision by a thousandth
    assert np.abs(ours - expected(np.asarray(arrays["model_coef"]))).max() < 1e-3


def test_the_shipped_guide_is_what_training_gives_today(shipped):
    entries, unrelated, arrays = shipped
    trained = train_arrays(entries, unrelated)
    assert sorted(trained) == sorted(arrays)
    for name, value in trained.items():
        if value.dtype.kind in "fc":
            assert np.allclose(value, arrays[name], atol=1e-6), name
        else:
            assert np.array_equal(value, arrays[name]), name
    # And answers as a guide trained now: every shipped question placed the same.
    now, loaded = Retriever(entries, unrelated, trained), Retriever(entries, unrelated, arrays)
    for q in QUESTIONS[:200]:
        a, b = now.best(q), loaded.best(q)
        assert (a.entry_id, confident(a)) == (b.entry_id, confident(b)), q


def test_the_cheap_gate_answers_exactly_what_the_full_reading_would(shipped):
    entries, unrelated, arrays = shipped
    guide = Retriever(entries, unrelated, arrays)
    chatter = ["吃了吗", "哈哈哈", "👍👍", "收到", "早上好 1234", "楼下快递到了吗", "我家孩子放学了"]
    for q in QUESTIONS + chatter:
        hit = guide.best(q)
        assert guide.answerable(q) == (hit if confident(hit) else None), q
    assert guide.answerable("哈哈哈") is None and guide.answerable("身份证丢了怎么补办").entry_id


def test_a_bot_on_the_built_in_guide_never_loads_scikit_learn_or_scipy():
    code = """
import sys
from handlers.guide.library import builtin_entries, unrelated_questions
from handlers.guide.retrieval import confident, retriever_for
hit = retriever_for(list(builtin_entries()), unrelated_questions()).best("身份证丢了怎么补办")
assert confident(hit), hit
print(sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_communitys_own_entries_are_trained_once_apart_and_kept_in_its_data_directory(tmp_path, monkeypatch):
    own = Entry("tushushi", "社区图书室", ("图书室", "借书"), ("社区图书室几点开门", "图书室在哪里借书"),
                "社区图书室在活动中心二楼，每天九点到五点开放。", "config")
    entries = [*builtin_entries(), own]
    monkeypatch.setattr(retrieval, "TRAIN_APART", True)
    monkeypatch.setattr(retrieval, "train_arrays", lambda *a: pytest.fail("trained in the bot's process"))
    first = retriever_for(entries, unrelated_questions(), tmp_path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [f"guide-{model_key(entries, unrelated_questions())}.npz"]
    monkeypatch.setattr(retrieval, "_built", type(retrieval._built)())  # a new process
    monkeypatch.setattr(retrieval, "train_arrays", lambda *a: pytest.fail("trained again"))
    monkeypatch.setattr(retrieval, "_train_apart", lambda *a: pytest.fail("trained again"))
    again = retriever_for(entries, unrelated_questions(), tmp_path)
    assert again is not first
    assert again.answerable("请问图书室几点开门").entry_id == first.answerable("请问图书室几点开门").entry_id == own.id


async def test_a_first_start_answers_from_the_built_in_guide_while_its_own_entries_train(db_url, monkeypatch):
    import asyncio

    from bot.harness import Harness
    from tests.conftest import make_config

    monkeypatch.setattr(retrieval, "TRAIN_APART", True)  # as a bot does: in a child, in the background
    monkeypatch.setattr(retrieval, "_built", type(retrieval._built)())  # a new process
    config = make_config(db_url, guide=[
        {"id": "hk-chusheng", "title": "新生儿落户", "questions": ["孩子出生了怎么上户口"],
         "answer": "本社区新生儿落户：每周二、四到幸福路派出所户籍窗口。"},
        {"id": "tushushi", "title": "社区图书室", "keywords": ["图书室"], "questions": ["社区图书室几点开门"],
         "answer": "社区图书室在活动中心二楼，每天九点到五点开放。"}])
    async with Harness(config) as bot:
        [training] = [t for t in asyncio.all_tasks() if t.get_name() == "guide-training"]
        index = bot.app.service(GuideIndex)
        answering = index.retriever
        # Meanwhile: a built-in question, with the community's own answer where it replaced one.
        await bot.say("王阿姨", "宝宝刚生下来去哪报户口", room="幸福里居民群")
        assert "每周二、四" in bot.texts_to("幸福里居民群", bot.take())[-1]
        await training
        await bot.say("陈大爷", "请问社区图书室几点开门？", room="幸福里居民群")
        assert "九点到五点" in bot.texts_to("幸福里居民群", bot.take())[-1]
        # The built-in guide that answered meanwhile is let go (~25 MB the bot would keep for nothing).
        assert index.retriever is not answering and answering not in retrieval._built.values()
    assert list((config.data_path / "guide").glob("guide-*.npz"))  # the next start need not train
