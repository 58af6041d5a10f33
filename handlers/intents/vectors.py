"""TF-IDF vectors and linear scores of one message in numpy: what scikit-learn's TfidfVectorizer
and a linear model's decision_function compute, without scikit-learn at run time.

Calling scikit-learn for one message costs its input checks (~0.4 ms a call) and ~75 MB of
imports; a message has a hundred features or so, so a lookup, a gather and a sum do the same in
tens of microseconds. The classifier (model.py) and the guide (handlers/guide/retrieval.py) score
with these; tests/test_classifier.py and tests/test_guide_vectors.py check them against
scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")


def char_grams(text: str, low: int, high: int) -> list[str]:
    """TfidfVectorizer(analyzer="char", ngram_range=(low, high)): lower case, runs of white space
    as one, every n-gram of every length (repeats kept: they are counted)."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    n = len(text)
    return [text[i:i + k] for k in range(low, high + 1) for i in range(n - k + 1)]


class FeatureRows:
    """One row of numbers per feature of a vocabulary, plus a zero row for every feature it does
    not know: a message's rows are then one C-level lookup with a default, one gather and one sum."""

    def __init__(self, rows: np.ndarray, index: dict[str, int] | None = None, dtype=None) -> None:
        """dtype: how the rows are kept (float32 halves the memory; sums are taken in float64)."""
        self.index = index or {}
        self.absent = len(rows)
        self.rows = np.empty((len(rows) + 1, rows.shape[1]), dtype=dtype or rows.dtype)
        self.rows[:-1] = rows
        self.rows[-1] = 0

    def ids(self, features: list[str]) -> np.ndarray:
        return np.fromiter(map(self.index.get, features, repeat(self.absent)), dtype=np.intp, count=len(features))

    def total(self, features: list[str]) -> np.ndarray:
        """The sum of the features' rows (each feature counted once per time it is listed)."""
        return self.rows.take(self.ids(features), axis=0).sum(axis=0, dtype=np.float64)

    def weighted(self, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return weights @ self.rows.take(ids, axis=0)


@dataclass
class Tfidf:
    """A fitted TfidfVectorizer (smooth idf, l2 norm): its vocabulary (sorted, as scikit-learn
    numbers it), idf, and whether term counts are damped (sublinear_tf) or only present (binary)."""

    vocabulary: list[str]
    idf: np.ndarray
    sublinear: bool = False
    binary: bool = False
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = dict(zip(self.vocabulary, range(len(self.vocabulary))))

    @classmethod
    def fit(cls, documents: list[list[str]], sublinear: bool = False, binary: bool = False) -> Tfidf:
        """documents: each one's terms (analyzed)."""
        df = Counter(t for terms in documents for t in set(terms))
        vocabulary = sorted(df)
        counts = np.array([df[t] for t in vocabulary], dtype=np.float64)
        idf = np.log((len(documents) + 1) / (counts + 1)) + 1
        return cls(vocabulary, idf, sublinear, binary)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def weights(self, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """A document's row: the indices of its known terms and their l2-normalised weights."""
        get = self.index.get
        counts = Counter(i for i in map(get, terms) if i is not None)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        ids = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.binary:
            tf[:] = 1.0
        elif self.sublinear:
            tf = np.log(tf) + 1.0
        w = tf * self.idf[ids]
        norm = math.sqrt(float(w @ w))
        return ids, (w / norm if norm > 0 else w)

    def save(self, arrays: dict, prefix: str) -> None:
        arrays[prefix + "vocabulary"] = np.array(self.vocabulary, dtype=str)
        arrays[prefix + "idf"] = self.idf
        arrays[prefix + "flags"] = np.array([self.sublinear, self.binary])

    @classmethod
    def load(cls, arrays, prefix: str) -> Tfidf:
        sublinear, binary = (bool(f) for f in arrays[prefix + "flags"])
        return cls(arrays[prefix + "vocabulary"].tolist(), np.asarray(arrays[prefix + "idf"], dtype=np.float64),
                   sublinear, binary)


class Columns:
    """A sparse matrix kept by columns (CSC arrays): `matrix @ vector` for a sparse vector is a gather
    of the vector's columns and one bincount."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: int) -> None:
        self.indptr, self.indices, self.data, self.rows = indptr, indices, data, rows

    @classmethod
    def of(cls, matrix) -> Columns:
        """From a scipy sparse matrix (at build time)."""
        csc = matrix.tocsc()
        csc.sort_indices()
        return cls(csc.indptr.astype(np.int64), csc.indices.astype(np.int64), csc.data.astype(np.float64),
                   csc.shape[0])

    def dot(self, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """matrix @ v, where v is zero but at `ids` (distinct) where it is `weights`."""
        if not len(ids):
            return np.zeros(self.rows)
        starts, ends = self.indptr[ids], self.indptr[ids + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(self.rows)
        # The positions of every stored value of the chosen columns, in one vector.
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        at = np.arange(total) + offsets
        return np.bincount(self.indices[at], self.data[at] * np.repeat(weights, lengths), minlength=self.rows)

    def save(self, arrays: dict, prefix: str) -> None:
        arrays[prefix + "indptr"], arrays[prefix + "indices"] = self.indptr, self.indices
        arrays[prefix + "data"], arrays[prefix + "rows"] = self.data, np.array(self.rows)

    @classmethod
    def load(cls, arrays, prefix: str) -> Columns:
        return cls(arrays[prefix + "indptr"], arrays[prefix + "indices"], arrays[prefix + "data"],
                   int(arrays[prefix + "rows"]))
