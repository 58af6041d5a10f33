"""A calibrated linear model over character n-grams, jieba words and signals.

Trained with scikit-learn (train.py); shipped as plain arrays in model.npz (no pickle: loading
it runs no code) and scored here with numpy, which is ~20× faster per message than calling a
scikit-learn pipeline one message at a time. The scoring reproduces TfidfVectorizer(binary,
l2) → linear decision → per-class sigmoid calibration (CalibratedClassifierCV, ensemble=False)
exactly; tests/test_classifier_model.py checks that against scikit-learn.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handlers.intents import rules, segment

MODEL_PATH = Path(__file__).with_name("model.npz")
NGRAMS = (1, 2, 3, 4)
_DIGITS = re.compile(r"\d+")


def features(norm: str) -> list[str]:
    """Distinct features of a normalised message.

    Digits are folded (a phone number or an amount is a shape, not a word); character n-grams
    carry typos, homophones and dialect the word list has never seen; jieba words carry
    meaning; signals (rules.signals) carry when/whether and what a scam asks for."""
    folded = _DIGITS.sub("0", norm)
    chars = "".join(folded.split())
    out = {chars[i:i + n] for n in NGRAMS for i in range(len(chars) - n + 1)}
    out.update("w:" + w for w in segment.tokens(folded) if any(c.isalnum() for c in w))
    out.update("s:" + s for s in rules.signals(norm))
    return list(out)


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    index: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_classes)
    intercept: np.ndarray  # (n_classes,)
    calib_a: np.ndarray  # (n_classes,) sigmoid calibration: p = 1 / (1 + exp(a*d + b))
    calib_b: np.ndarray

    def decision(self, norm: str) -> np.ndarray:
        idx = [i for i in map(self.index.get, features(norm)) if i is not None]
        if not idx:
            return self.intercept.copy()
        x = self.idf[idx]
        x = x / np.sqrt(x @ x)
        return x @ self.coef[idx] + self.intercept

    def proba(self, norm: str) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(self.calib_a * self.decision(norm) + self.calib_b))
        total = p.sum()
        return p / total if total > 0 else np.full(len(self.classes), 1.0 / len(self.classes))

    def save(self, path: Path = MODEL_PATH) -> None:
        vocab = np.array(sorted(self.index, key=self.index.__getitem__))
        buf = io.BytesIO()
        np.savez_compressed(buf, classes=np.array(self.classes), vocab=vocab,
                            idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32),
                            intercept=self.intercept, calib_a=self.calib_a, calib_b=self.calib_b)
        path.write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "LinearModel":
        with np.load(path, allow_pickle=False) as z:
            vocab = z["vocab"].tolist()
            return cls(tuple(z["classes"].tolist()), dict(zip(vocab, range(len(vocab)))),
                       z["idf"].astype(np.float64), np.ascontiguousarray(z["coef"], dtype=np.float64),
                       z["intercept"], z["calib_a"], z["calib_b"])
