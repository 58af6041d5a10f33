"""Intent classification: the calibrated model decides, a few safety rules back it up.

1. The model (model.py) gives calibrated probabilities for the eight intents.
2. Emergency comes first, recall first: it wins when its probability passes EMERGENCY_MIN even
   if another intent is a little higher (a missed fire costs far more than a needless "call
   119"), or when a decisive cue ("救命", "拿刀") is present, nothing says the event is past,
   a drill, a joke or a question about a service, and the model does not all but rule it out;
   and a second model, of emergencies against their look-alikes alone, does not rule it out.
3. Otherwise the most probable intent, unless it is below MIN_CONFIDENCE: then `other` (quiet in
   groups; the menu in private).
4. The detail comes from the rules: the emergency's number (110/119/120, with its kind) and the
   scam's family.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from handlers.intents import rules
from handlers.intents.dataset import INTENTS
from handlers.intents.model import MODEL_PATH, LinearModel, verifier_path
from handlers.intents.normalize import normalize

# Chosen by 5-fold cross-validation on the training data (never on a holdout): with a damping
# signal present the model must be surer, which halved false alarms on look-alikes for 0.7
# points of emergency recall.
EMERGENCY_MIN = 0.35
EMERGENCY_MIN_DAMPED = 0.5
EMERGENCY_MIN_UNNAMED = 0.5  # no danger, call for help or urgency named ("路灯好像有点暗")
MIN_CONFIDENCE = 0.40
# A decisive cue ("救命", "着火了") rings the alarm below EMERGENCY_MIN, but not when the model,
# which has read the whole message, puts it this low: "救命 这个月又胖了五斤", "真着火了消防车都进不来
# 建议…", "热得要着火了". Chosen by leaving one training author out in turn (t1–t20, 8,761
# messages): 26 of the 88 false alarms on look-alikes were such a cue under 0.2, and no
# emergency was caught that way below 0.35.
DECISIVE_MIN = 0.2
# A message that warns about scams ("转发派出所提醒：骗子常用话术…") quotes the script it warns
# of: with a warning signal present the model must be this sure before the bot warns back.
SCAM_MIN_WARNED = 0.7
# The second opinion: a model of emergencies against their look-alikes alone (train.fit_verifier)
# must give an alarm at least this. Chosen by leaving one training author out in turn (t1-t27,
# 10,704 messages): false alarms on look-alikes 75 -> 63 of 2,260 for 2 of 1,936 emergencies
# more missed; a higher EMERGENCY_MIN buys as few false alarms at three times the misses.
VERIFY_MIN = 0.15
# Too short to be what the intent needs: a scam script says what it wants (the shortest in the
# training data has 14 characters); a tip, a dispute or a suggestion says about what. "你好",
# "那个啥" are other, whatever the model makes of five characters.
# A question or a booking needs a few words too: "是！", "不办了！", "取消！" are answers, and
# read as a booking they would start one ("预约" alone is a phrase of the booking plugin).
MIN_CHARS = {"scam": 10, "tip": 5, "dispute": 5, "suggestion": 5, "consultation": 4, "appointment": 4}
# Letters and digits only: "是！" or "不办了！！" are one and three characters, whatever the
# punctuation around them.
_NOT_CONTENT = re.compile(r"[\W_]+")
# A message this short (in letters and digits) is an emergency only if it names the danger, calls
# for help or says it is urgent ("着火了", "救命", "快来"): inside a dialog residents answer
# "不办了！", "算了！", "不对！", and the emergency reply preempts the dialog.
SHORT_CHARS = 8
# Signals that the message is about an event, not the event: past, resolved, "if", a drill or
# the news, a joke, a lost key or card.
DAMPING = frozenset({"past", "resolved", "hypothetical", "drill_news", "joke", "lost_item", "mishap"})
URGENT = frozenset({"help_call", "urgent_now"})
# A decisive cue is overruled by these too (a question about a service names the danger).
NOT_DECISIVE = DAMPING | {"service_question"}


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    detail: str | None = None  # emergency: '110'|'119'|'120'; scam: the family such as '刷单返利'
    kind: str | None = None  # emergency: fire|gas|trapped|medical|violence|burglary|missing|self_harm
    urgent: bool = False  # emergency: the writer calls for help or says it is happening now ("救命", "快来")


class Classifier:
    def __init__(self, model: LinearModel, emergency_min: float = EMERGENCY_MIN,
                 min_confidence: float = MIN_CONFIDENCE, emergency_min_damped: float = EMERGENCY_MIN_DAMPED,
                 scam_min_warned: float = SCAM_MIN_WARNED, verifier: LinearModel | None = None,
                 verify_min: float = VERIFY_MIN) -> None:
        self.model = model
        self.verifier, self.verify_min = verifier, verify_min
        self.scam_min_warned = scam_min_warned
        self._scam = model.classes.index("scam")
        self.emergency_min = emergency_min
        self.emergency_min_damped = emergency_min_damped
        self.min_confidence = min_confidence
        self._emergency = model.classes.index("emergency")
        self._other = model.classes.index("other")

    def classify(self, text: str | None) -> Classification:
        norm = normalize(text)
        if not any(c.isalnum() for c in norm):  # empty, emoji-only, punctuation-only
            return Classification("other", 0.95)
        p = self.model.proba(norm)
        p_em = float(p[self._emergency])
        if self._alarm(norm, p_em) and self._verified(norm):
            return _emergency(norm, max(p_em, 0.5))
        p[self._emergency] = 0.0  # not an emergency: the best of the rest, given that
        p /= max(p.sum(), 1e-9)
        top = int(p.argmax())
        if top == self._scam and p[top] < self.scam_min_warned and "warning_forward" in rules.signals(norm):
            p[top] = 0.0  # a warning about the script, not the script
            p /= max(p.sum(), 1e-9)
            top = int(p.argmax())
        intent, confidence = self.model.classes[top], float(p[top])
        short = _content_chars(norm)
        if (confidence < self.min_confidence or short < MIN_CHARS.get(intent, 0)
                or (short <= SHORT_CHARS and "refusal" in rules.signals(norm))):
            return Classification("other", round(1.0 - confidence, 3))
        detail = rules.scam_family(norm) if intent == "scam" else None
        return Classification(intent, round(confidence, 3), detail)

    def _verified(self, norm: str) -> bool:
        """The verifier, which has seen only emergencies and their look-alikes, does not rule it out."""
        return self.verifier is None or float(self.verifier.proba(norm)[0]) >= self.verify_min

    def _alarm(self, norm: str, p_em: float) -> bool:
        if p_em < self.emergency_min and not rules.decisive(norm):
            return False  # the common case, decided without looking further
        if not _says_something(norm):  # "3号楼201": an answer to a dialog's question
            return False
        kinds, _, signals, decisive = rules.present(norm)
        named = bool(kinds) or bool(URGENT & signals)
        if not named and _content_chars(norm) <= SHORT_CHARS:
            return False
        if DAMPING & signals:
            return p_em >= self.emergency_min_damped
        if decisive and not NOT_DECISIVE & signals:
            return p_em >= DECISIVE_MIN
        return p_em >= (self.emergency_min if named else max(self.emergency_min, EMERGENCY_MIN_UNNAMED))


# An address, a time or a number and nothing else (dialog answers: "3号楼201", "明天上午").
_BARE = re.compile(r"[\d零一二三四五六七八九十百两]+|号楼|号院|单元|楼|栋|室|层|号|门|院|上午|下午|晚上|明天|今天|后天|"
                   r"周.|星期.|点|半|我家|住|在|的|[^\w]")


def _content_chars(norm: str) -> int:
    return len(_NOT_CONTENT.sub("", norm))


def _says_something(norm: str) -> bool:
    return len(_BARE.sub("", norm)) >= 2


def _emergency(norm: str, confidence: float) -> Classification:
    kind = rules.emergency_kind(norm)
    urgent = bool(URGENT & rules.signals(norm))
    if kind is None:  # "救命", "快报警": no danger named, the police dispatch the rest
        return Classification("emergency", round(confidence, 3), "110", None, urgent)
    return Classification("emergency", round(confidence, 3), kind.service, kind.name, urgent)


_default: Classifier | None = None
_default_lock = threading.Lock()


def load(path: Path = MODEL_PATH) -> Classifier:
    """The model at `path` and its verifier beside it (none there: the model alone decides)."""
    beside = verifier_path(path)
    return Classifier(LinearModel.load(path), verifier=LinearModel.load(beside) if beside.exists() else None)


def default_classifier() -> Classifier:
    """Built on first use: loads the shipped model (and, through it, jieba's dictionary)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load()
    return _default


def classify(text: str | None) -> Classification:
    return default_classifier().classify(text)


__all__ = ["INTENTS", "Classification", "Classifier", "classify", "default_classifier", "load"]
