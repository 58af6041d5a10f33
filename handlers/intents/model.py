"""A calibrated linear model over character n-grams, jieba words and signals.

Trained with scikit-learn (train.py); shipped as plain arrays in model.npz (no pickle: loading
it runs no code) and scored here with numpy, which is ~20× faster per message than calling a
scikit-learn pipeline one message at a time. The scoring reproduces [TfidfVectorizer(binary,
l2) | weighted binary signals] → linear decision → per-class sigmoid calibration (CalibratedClassifierCV, ensemble=False)
exactly; tests/test_classifier_model.py checks that against scikit-learn.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handlers.intents import rules, segment
from handlers.intents.vectors import FeatureRows

MODEL_PATH = Path(__file__).with_name("model.npz")
VERIFIER_PATH = Path(__file__).with_name("verifier.npz")  # the second opinion on an alarm (train.fit_verifier)


def verifier_path(model_path: Path) -> Path:
    """Where the verifier of a model lives: verifier.npz beside model.npz, X_verifier.npz beside X.npz."""
    return VERIFIER_PATH if model_path == MODEL_PATH else model_path.with_name(model_path.stem + "_verifier.npz")


NGRAMS = (1, 2, 3, 4)
_DIGITS = re.compile(r"\d+")
# "5号楼502", "3单元", "12栋1101": where says nothing about what (emergencies and tips both give
# addresses, so their n-grams would teach that an address is an alarm).
_ADDRESS = re.compile(r"0+\s*(号楼|号院|栋|幢|单元|号|楼|室|层)(\s*0+\s*(单元|号|楼|室|层)?)*")
STRIP_ADDRESSES = True


def features(norm: str, words: str = "fast") -> list[str]:
    """Distinct text features of a normalised message.

    Digits are folded (a phone number or an amount is a shape, not a word); character n-grams
    carry typos, homophones and dialect the word list has never seen; jieba words carry
    meaning (words: "fast" segment.words, "jieba" segment.tokens, "none")."""
    folded = _DIGITS.sub("0", norm)
    if STRIP_ADDRESSES:
        folded = _ADDRESS.sub(" ", folded)
    chars = "".join(folded.split())
    out = {chars[i:i + n] for n in NGRAMS for i in range(len(chars) - n + 1)}
    if words != "none":
        cut = segment.words(folded) if words == "fast" else segment.tokens(folded)
        # isalnum() first: it settles nearly every word in C before the per-character scan.
        out.update("w:" + w for w in cut if w.isalnum() or any(c.isalnum() for c in w))
    return list(out)


# Signals that say the danger is not happening now (see classifier.DAMPING).
_DAMPING = ("past", "resolved", "hypothetical", "drill_news", "joke", "service_question", "lost_item", "mishap")


def signal_features(norm: str) -> list[str]:
    """When/whether signals, the kinds of danger and scam families named, and their
    conjunctions. A linear model cannot learn "a fire cue AND a past cue" from n-grams alone;
    these features, weighted apart from the l2-normalised text block, let it."""
    kinds, families, found, _ = rules.present(norm)
    # A leading space: no text feature has one (n-grams are taken from text without spaces).
    out = [" s:" + s for s in found] + [" k:" + k for k in kinds] + [" f:" + f for f in families]
    damped = any(s in _DAMPING for s in found)
    if kinds:
        out.append(" x:danger+damped" if damped else " x:danger")
        if "urgent_now" in found or "help_call" in found:
            out.append(" x:danger+urgent")
    if families:
        out.append(" x:family+warning" if "warning_forward" in found else " x:family")
        if any(s in found for s in ("verify_code", "safe_account", "download_app", "deposit_first",
                                    "card_number", "contact_move")):
            out.append(" x:family+asks")
    if "link" in found and "gov_link" not in found:
        out.append(" x:foreign_link")
    return out


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    index: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_classes); float32 when loaded
    intercept: np.ndarray  # (n_classes,)
    calib_a: np.ndarray  # (n_classes,) sigmoid calibration: p = 1 / (1 + exp(a*d + b))
    calib_b: np.ndarray
    words: str = "fast"  # how words are cut for features (the recipe it was trained with)
    signal_weight: float = 0.0  # value of a present signal feature (indices after the text block)
    signals_in_text: bool = False  # signals are tokens of the tf-idf block instead

    def __post_init__(self) -> None:
        # Scoring in as few numpy calls as possible (each costs a microsecond or more, and a
        # message has ~130 features): every unknown feature maps to one extra zero row, so the
        # lookup is a C-level map with a default; each row holds its coefficients times its idf
        # and times the calibration slope, and the squared idf last, so one gather and one sum
        # give both the decision and the l2 norm.
        # The rows are kept in float32 (the model is stored so; 100k features x 9 is 3.6 MB less).
        rows = np.hstack([self.coef * self.idf[:, None] * self.calib_a[None, :], (self.idf * self.idf)[:, None]])
        object.__setattr__(self, "_rows", FeatureRows(rows, self.index, np.float32))
        object.__setattr__(self, "_z0", self.calib_a * self.intercept + self.calib_b)

    def text_features(self, norm: str) -> list[str]:
        found = features(norm, self.words)
        return found + signal_features(norm) if self.signals_in_text else found

    def decision(self, norm: str) -> np.ndarray:
        get = self.index.get
        idx = [i for i in map(get, self.text_features(norm)) if i is not None]
        out = self.intercept.copy()
        if idx:
            x = self.idf[idx]
            out += (x / np.sqrt(x @ x)) @ self.coef[idx]
        sig = [i for i in map(get, signal_features(norm)) if i is not None] if self.signal_weight else []
        if sig:
            out += self.signal_weight * self.coef[sig].sum(axis=0)
        return out

    def proba(self, norm: str) -> np.ndarray:
        if self.signal_weight:  # a separate signal block: the general path
            z = self.calib_a * self.decision(norm) + self.calib_b
        else:  # the same sums as decision(), with the calibration folded in (see __post_init__)
            total = self._rows.total(self.text_features(norm))
            z = self._z0 + total[:-1] / math.sqrt(total[-1]) if total[-1] > 0 else self._z0
        p = 1.0 / (1.0 + np.exp(z))
        total = p.sum()
        return p / total if total > 0 else np.full(len(self.classes), 1.0 / len(self.classes))

    def save(self, path: Path = MODEL_PATH) -> None:
        vocab = np.array(sorted(self.index, key=self.index.__getitem__))
        buf = io.BytesIO()
        np.savez_compressed(buf, classes=np.array(self.classes), vocab=vocab,
                            idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32),
                            intercept=self.intercept, calib_a=self.calib_a, calib_b=self.calib_b,
                            words=np.array(self.words), signal_weight=np.array(self.signal_weight),
                            signals_in_text=np.array(self.signals_in_text))
        path.write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "LinearModel":
        with np.load(path, allow_pickle=False) as z:
            vocab = z["vocab"].tolist()
            return cls(tuple(z["classes"].tolist()), dict(zip(vocab, range(len(vocab)))),
                       z["idf"].astype(np.float64), np.ascontiguousarray(z["coef"]),  # float32 as stored
                       z["intercept"], z["calib_a"], z["calib_b"], str(z["words"]),
                       float(z["signal_weight"]), bool(z["signals_in_text"]))
