"""Rebuild nb_model.json from the train split: `python -m handlers.intents.train`."""

from __future__ import annotations

from handlers.intents import dataset
from handlers.intents.nb import MODEL_PATH, NaiveBayes


def build() -> NaiveBayes:
    return NaiveBayes.train((e.intent, e.text) for e in dataset.load("train"))


def main() -> None:
    model = build()
    MODEL_PATH.write_text(model.to_json() + "\n", encoding="utf-8")
    size = sum(len(v) for v in model.log_likelihood.values())
    print(f"wrote {MODEL_PATH.name}: {len(model.log_prior)} classes, {size} weights")


if __name__ == "__main__":
    main()
