"""The classifier as a plugin: the router asks it what a resident's text is about, officers
correct it in chat (`/纠正 N 类别`), and `jingmin classify` / `jingmin train` offer it to the
shell."""

from __future__ import annotations

import json
import logging
import sys

from bot.context import Context
from bot.plugin import OFFICER, Plugin
from handlers.intents import corrections, local_model
from handlers.intents.classifier import classify

log = logging.getLogger(__name__)

plugin = Plugin("intents", order=0)
plugin.classifies(classify)


@plugin.on_start
async def use_local_model(app) -> None:
    """A model `jingmin train` installed in data_dir replaces the shipped one for this bot."""
    found = local_model.load_installed(app.config.data_path)
    if found is not None:
        app.classify = found.classify
        log.info("intents: using the model trained here (%s)", local_model.installed_path(app.config.data_path))


@plugin.command("纠正", roles=OFFICER, usage="纠正号 类别", summary="纠正机器人对一条消息的判断（学进训练数据）")
async def correct_command(ctx: Context) -> None:
    if len(ctx.args) != 2 or not ctx.args[0].lstrip("#＃").isdigit():
        await ctx.reply(corrections.TEXTS["usage"])
        ctx.outcome = "refused: usage"
        return
    await corrections.correct(ctx, ctx.args[0].lstrip("#＃"), ctx.args[1])


@plugin.cli
def classify_command(sub) -> None:
    p = sub.add_parser("classify", help="read messages from stdin, print their intents as JSON lines")
    p.add_argument("--flush", action="store_true", help="flush after every line (for pipes)")
    p.add_argument("--eval", metavar="FILE.tsv",
                   help="score a labelled file instead (label TAB text, or label TAB looks_like TAB text)")
    p.add_argument("--model", metavar="FILE.npz", help="a model file instead of the shipped one")
    p.set_defaults(func=_classify_lines)
    local_model.add_train_parser(sub)


def _classify_lines(args) -> int:
    """stdin: one message a line; stdout: one JSON object a line (text, intent, confidence, detail)."""
    from handlers.intents.classifier import load

    fn = load(args.model).classify if args.model else classify
    if args.eval:
        return local_model.print_evaluation(args.eval, fn)
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        found = fn(text)
        print(json.dumps({"text": text, "intent": found.intent, "confidence": found.confidence,
                          "detail": found.detail}, ensure_ascii=False), flush=args.flush)
    return 0
