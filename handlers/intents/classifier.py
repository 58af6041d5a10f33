"""Intent classification: weighted rules first, naive Bayes for what the rules miss.

Decision order matters and is deliberate:
1. emergency — a decisive rule score wins outright (recall first: a missed fire or a missing
   child costs far more than a needless "call 119" reply);
2. scam — only when type-specific scam cues add up (precision first: a false warning on a
   resident's message is insulting and trains people to ignore the warnings);
3. everything else — rule score plus the model's log posterior, highest wins.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from handlers.intents import rules
from handlers.intents.nb import MODEL_PATH, NaiveBayes
from handlers.intents.normalize import normalize

INTENTS = ("consultation", "suggestion", "tip", "emergency", "scam", "appointment", "dispute", "other")

EMERGENCY_MIN = 3.0  # one decisive cue ("着火", "救命") or two supporting ones
MODEL_EMERGENCY_MIN = 0.4  # the model alone calls an emergency only when it is fairly sure
SCAM_MIN = 4.0  # never a single cue: "客服" or "一折" alone is ordinary chat
RULE_WEIGHT = 5.0  # rules dominate; the model mostly breaks ties and covers rule-less text
# The number follows the strongest *specific* cue (fire/gas, injury/illness, crime); generic
# calls for help ("救命", "快来人", lexicon group `help`) count toward the intent only. When a
# police emergency is tied with a fire/medical one, 110 dispatches the others; with no specific
# cue at all, 110.
SERVICE_TIE_ORDER = ("110", "119", "120")


def _service(scores: rules.RuleScores) -> str:
    return scores.best_group("emergency", SERVICE_TIE_ORDER, only=SERVICE_TIE_ORDER) or "110"


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    detail: str | None = None  # emergency: '110'|'119'|'120'; scam: type such as '刷单返利'


class Classifier:
    def __init__(self, model: NaiveBayes | None, rule_weight: float = RULE_WEIGHT) -> None:
        self.model = model
        self.rule_weight = rule_weight

    def classify(self, text: str | None) -> Classification:
        norm = normalize(text)
        if not any(c.isalnum() for c in norm):  # empty, emoji-only, punctuation-only
            return Classification("other", 0.95)
        scores = rules.score(norm)
        if scores.intent["emergency"] >= EMERGENCY_MIN:
            return Classification("emergency", _squash(scores.intent["emergency"]), _service(scores))
        combined = self._combine(norm, scores)
        # Softmax in rule-point units: a one-point lead reads as ~0.7, not a saturated 1.0,
        # so callers can tell a clear case from a coin toss.
        scaled = {k: v / self.rule_weight for k, v in combined.items()}
        intent = max(combined, key=combined.__getitem__)
        if intent == "emergency" and _softmax_at(scaled, intent) < MODEL_EMERGENCY_MIN:
            # A coin-toss guess with no emergency cue ("3号楼201", an answer to "which building?")
            # must not wake the officers: the emergency handler preempts every flow.
            scaled["emergency"] = combined["emergency"] = -math.inf
            intent = max(combined, key=combined.__getitem__)
        detail = _scam_type(scores) if intent == "scam" else None
        if intent == "emergency":  # the model spotted it below the rule threshold: still alert
            detail = _service(scores)
        return Classification(intent, round(_softmax_at(scaled, intent), 3), detail)

    def _combine(self, norm: str, scores: rules.RuleScores) -> dict[str, float]:
        posterior = self.model.log_posterior(norm) if self.model else {}
        combined = {}
        for intent in INTENTS:
            rule = scores.intent.get(intent, 0.0)
            # Rules-only (no model): `other` wins unless some rule scored at least one point.
            combined[intent] = self.rule_weight * rule + posterior.get(intent, 0.0 if intent == "other" else -1.0)
        if scores.intent.get("scam", 0.0) < SCAM_MIN:
            combined["scam"] = -math.inf  # precision gate, see module docstring
        return combined


def _scam_type(scores: rules.RuleScores) -> str | None:
    kind = scores.best_group("scam")
    return None if kind in (None, "其他诈骗") else kind


def _squash(score: float) -> float:
    """Map an unbounded rule score to 0..1 (3 → 0.78, 6 → 0.95)."""
    return round(1.0 - math.exp(-score / 2.0), 3)


def _softmax_at(scores: dict[str, float], key: str) -> float:
    finite = [v for v in scores.values() if v != -math.inf]
    top = max(finite)
    total = sum(math.exp(v - top) for v in finite)
    return math.exp(scores[key] - top) / total


_default: Classifier | None = None
_default_lock = threading.Lock()


def default_classifier() -> Classifier:
    """Built on first use: loads the shipped model (and, through it, jieba's dictionary)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                model = NaiveBayes.load(MODEL_PATH) if MODEL_PATH.exists() else None
                _default = Classifier(model)
    return _default


def classify(text: str) -> Classification:
    return default_classifier().classify(text)
