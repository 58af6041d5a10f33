"""YAML read with libyaml where PyYAML was built with it (about 8x faster than the pure-Python
loader: the guide's library, its question forms and the lexicon are read at start-up), else
with the pure-Python loader. Both build the same data from the same text and raise
yaml.YAMLError with the line of the problem."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
