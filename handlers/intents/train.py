"""Fitting the model with scikit-learn (offline; the bot itself only loads model.npz).

    python -m handlers.intents.train            # refit the shipped model on data/train/*.tsv
    jingmin train [--eval FILE] [--extra FILE]  # shipped + officers' corrections, guarded install
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from handlers.intents import dataset
from handlers.intents.model import MODEL_PATH, VERIFIER_PATH, LinearModel, features, signal_features
from handlers.intents.normalize import normalize

INTENTS = dataset.INTENTS


@dataclass(frozen=True)
class Recipe:
    """What was chosen by 5-fold cross-validation (see the module evaluate.py, --compare)."""

    estimator: str = "svm"  # "svm": LinearSVC; "lr": LogisticRegression
    C: float = 0.5  # CV and by-author on t1-t6: fewer false alarms and warnings than 1.0
    min_df: int = 2
    lookalike_weight: float = 3.0  # hard negatives teach the boundary: count them more (1.5 before t5)
    words: str = "fast"  # words besides the n-grams: "fast" (CV: as good as "jieba", 10× faster), "none"
    signal_weight: float = 0.3  # a signal's value beside the l2-normalised text block (0: none)
    signals_in_text: bool = True  # signals as ordinary tokens of the tf-idf block (CV: better than a block)


RECIPE = Recipe()


# The second opinion on an alarm (classifier.VERIFY_MIN): emergencies against the messages that look
# like one, alone, fitted as the main model is. C chosen with VERIFY_MIN by leaving one author out
# (t1-t27).
VERIFIER = Recipe(C=0.25)


def _identity(doc):
    return doc


def fit(examples: Sequence[dataset.Example], recipe: Recipe = RECIPE, seed: int = 0) -> LinearModel:
    from scipy.sparse import hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    norms = [normalize(e.text) for e in examples]
    docs = [features(n, recipe.words) + (signal_features(n) if recipe.signals_in_text else []) for n in norms]
    labels = np.array([e.intent for e in examples])
    weights = np.array([recipe.lookalike_weight if e.looks_like else 1.0 for e in examples])
    vec = TfidfVectorizer(analyzer=_identity, binary=True, min_df=recipe.min_df, norm="l2")
    X = vec.fit_transform(docs)
    sig = None
    if recipe.signal_weight and not recipe.signals_in_text:
        sig = CountVectorizer(analyzer=_identity, binary=True)
        X = hstack([X, recipe.signal_weight * sig.fit_transform([signal_features(n) for n in norms])]).tocsr()
    if recipe.estimator == "lr":
        base = LogisticRegression(C=recipe.C * 20, max_iter=3000, class_weight="balanced")
    else:
        base = LinearSVC(C=recipe.C, class_weight="balanced", random_state=seed)
    folds = min(5, int(np.bincount(np.unique(labels, return_inverse=True)[1]).min()))
    clf = CalibratedClassifierCV(base, method="sigmoid", cv=max(2, folds), ensemble=False)
    clf.fit(X, labels, sample_weight=weights)
    if len(clf.classes_) == 2:  # the verifier: emergency or not (its signals are tokens of the text block)
        assert sig is None, "a binary model is exported with its signals in the text block"
        return _export_binary(vec, clf, recipe.words, recipe.signals_in_text)
    return _export(vec, clf, recipe.words, sig, recipe.signal_weight, recipe.signals_in_text)


def verifier_examples(examples: Sequence[dataset.Example]) -> list[dataset.Example]:
    """Emergencies, and what could be taken for one: look-alikes of an emergency and any other
    message that names a danger (a fire drill, a past fall, a question about gas)."""
    from handlers.intents import rules

    return [e for e in examples if e.intent == "emergency" or e.looks_like == "emergency"
            or rules.present(normalize(e.text))[0]]


def fit_verifier(examples: Sequence[dataset.Example], recipe: Recipe = VERIFIER, seed: int = 0) -> LinearModel:
    """A calibrated binary model, emergency or not, over the same features as the main model
    (n-grams, words and signals as tokens), exported as two classes that sum to one."""
    chosen = [replace(e, intent="emergency" if e.intent == "emergency" else "not") for e in verifier_examples(examples)]
    return fit(chosen, recipe, seed)


def _export_binary(vec, clf, words: str = "fast", signals_in_text: bool = True) -> LinearModel:
    fitted = clf.calibrated_classifiers_[0]
    assert tuple(clf.classes_) == ("emergency", "not")
    # scikit-learn's binary decision d = w.x + i is for "not": p(not) = 1 / (1 + exp(a*d + b)).
    # "emergency" gets -w, -i and -b, so that its p is 1 - p(not) and the two sum to one.
    w = np.asarray(fitted.estimator.coef_[0], dtype=np.float64)
    i = float(fitted.estimator.intercept_[0])
    a, b = float(fitted.calibrators[0].a_), float(fitted.calibrators[0].b_)
    return LinearModel(classes=("emergency", "not"), index={f: int(j) for f, j in vec.vocabulary_.items()},
                       idf=vec.idf_.astype(np.float64), coef=np.ascontiguousarray(np.stack([-w, w], axis=1)),
                       intercept=np.array([-i, i]), calib_a=np.array([a, a]), calib_b=np.array([-b, b]),
                       words=words, signal_weight=0.0, signals_in_text=signals_in_text)


def fit_classifier(examples: Sequence[dataset.Example], recipe: Recipe = RECIPE, **options):
    """The classifier as shipped: the model and the verifier, fitted on the same examples."""
    from handlers.intents.classifier import Classifier

    return Classifier(fit(examples, recipe), verifier=fit_verifier(examples, replace(VERIFIER, words=recipe.words)),
                      **options)


def _export(vec, clf, words: str = "fast", sig=None, signal_weight: float = 0.0,
            signals_in_text: bool = False) -> LinearModel:
    """The arrays model.LinearModel scores with, in the order of the fitted classes."""
    fitted = clf.calibrated_classifiers_[0]
    est = fitted.estimator
    classes = tuple(str(c) for c in clf.classes_)
    index = {f: int(i) for f, i in vec.vocabulary_.items()}
    idf = vec.idf_.astype(np.float64)
    if sig is not None:  # signal columns follow the text columns, as in the hstack
        index.update({f: len(idf) + int(i) for f, i in sig.vocabulary_.items()})
        idf = np.concatenate([idf, np.zeros(len(sig.vocabulary_))])
    return LinearModel(
        classes=classes,
        index=index,
        idf=idf,
        coef=np.ascontiguousarray(est.coef_.T, dtype=np.float64),
        intercept=np.asarray(est.intercept_, dtype=np.float64),
        calib_a=np.array([c.a_ for c in fitted.calibrators], dtype=np.float64),
        calib_b=np.array([c.b_ for c in fitted.calibrators], dtype=np.float64),
        words=words,
        signal_weight=signal_weight if sig is not None else 0.0,
        signals_in_text=signals_in_text,
    )


def shipped_examples() -> list[dataset.Example]:
    return dataset.load("train")


def main() -> None:
    examples = shipped_examples()
    model = fit(examples)
    model.save(MODEL_PATH)
    print(f"wrote {MODEL_PATH.name}: {len(examples)} messages, {len(model.index)} features, "
          f"{len(model.classes)} classes")
    verifier = fit_verifier(examples)
    verifier.save(VERIFIER_PATH)
    print(f"wrote {VERIFIER_PATH.name}: {len(verifier_examples(examples))} messages, {len(verifier.index)} features")


def combine(*sets: Iterable[dataset.Example]) -> list[dataset.Example]:
    """Later sets win for a repeated text: an officer's correction overrides the shipped label."""
    by_text: dict[str, dataset.Example] = {}
    for examples in sets:
        for e in examples:
            by_text[e.text] = e
    return list(by_text.values())


if __name__ == "__main__":
    main()
