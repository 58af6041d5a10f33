"""The classifier as a plugin: the router asks it what a resident's text is about, and
`jingmin classify` offers it to other tools (one JSON object per line)."""

from __future__ import annotations

import json
import sys

from bot.plugin import Plugin
from handlers.intents.classifier import classify

plugin = Plugin("intents", order=0)
plugin.classifies(classify)


@plugin.cli
def classify_command(sub) -> None:
    p = sub.add_parser("classify", help="read messages from stdin, print their intents as JSON lines")
    p.add_argument("--flush", action="store_true", help="flush after every line (for pipes)")
    p.set_defaults(func=_classify_lines)


def _classify_lines(args) -> int:
    """stdin: one message a line; stdout: one JSON object a line (text, intent, confidence, detail)."""
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        found = classify(text)
        print(json.dumps({"text": text, "intent": found.intent, "confidence": found.confidence,
                          "detail": found.detail}, ensure_ascii=False), flush=args.flush)
    return 0
