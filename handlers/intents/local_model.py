"""`jingmin train` and `jingmin classify --eval`: retrain offline on the shipped corpus plus the
officers' corrections, measure, and install the new model only if it is not worse."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from handlers.intents import dataset, evaluate

INSTALLED_NAME = "intent_model.npz"
# The blind holdout, in a checkout of the project: written by helpers that saw neither the rules
# nor the training data (bench/heldout/README.md). Set 1 (hA-hC) is left out: its misses were read.
HELDOUT_DIR = Path(__file__).resolve().parents[2] / "bench" / "heldout"
READ_SETS = frozenset({"hA.tsv", "hB.tsv", "hC.tsv"})


def blind_holdout() -> tuple[list[dataset.Example], str] | None:
    """The blind sets pooled, and how to name them; None where they are not (an installed wheel)."""
    files = sorted(p for p in HELDOUT_DIR.glob("h*.tsv") if p.name not in READ_SETS) if HELDOUT_DIR.is_dir() else []
    examples = [e for p in files for e in dataset.read(p)[0]]
    if not examples:
        return None
    return examples, f"the blind holdout ({len(examples)} messages in {len(files)} files of {HELDOUT_DIR})"


def installed_path(data_path: Path) -> Path:
    return Path(data_path) / INSTALLED_NAME


def load_installed(data_path: Path):
    from handlers.intents.classifier import load

    path = installed_path(data_path)
    return load(path) if path.exists() else None


def read_labelled(path: str) -> list[dataset.Example] | None:
    """A labelled TSV, bad lines reported on stderr; None (and a message) when unreadable."""
    try:
        examples, problems = dataset.read(Path(path))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return None
    for p in problems[:10]:
        print(f"{path}:{p.line}: skipped ({p.reason})", file=sys.stderr)
    if len(problems) > 10:
        print(f"{path}: {len(problems) - 10} more lines skipped", file=sys.stderr)
    return examples


def print_evaluation(path: str, classify) -> int:
    examples = read_labelled(path)
    if examples is None:
        return 2
    if not examples:
        print(f"error: {path} has no labelled lines (label TAB text)", file=sys.stderr)
        return 2
    print(evaluate.run(classify, examples).format())
    return 0


def add_train_parser(sub) -> None:
    from bot.clitools import add_config_option

    p = sub.add_parser("train", help="retrain the classifier on the shipped data plus officers' corrections")
    p.add_argument("--eval", metavar="FILE.tsv",
                   help="evaluation set (default: the blind holdout in bench/heldout/, else the shipped dev set)")
    p.add_argument("--extra", metavar="FILE.tsv", action="append", default=[],
                   help="more labelled messages to train on (may repeat)")
    p.add_argument("--out", metavar="FILE.npz", help=f"where to install (default: {INSTALLED_NAME} in data_dir)")
    p.add_argument("--cv", action="store_true", help="also print 5-fold cross-validation on the training data")
    p.add_argument("--dry-run", action="store_true", help="measure only, install nothing")
    add_config_option(p)
    p.set_defaults(func=cmd_train)


def _local_examples(config_path: str) -> tuple[list[dataset.Example], Path | None]:
    """Officers' corrections from the database of `config_path`, and its data_dir."""
    from bot.clitools import load_or_exit, with_database
    from storage.understanding import corrected_cases

    if not Path(config_path).exists():
        print(f"note: no {config_path}, so no officers' corrections: training on the shipped data only")
        return [], None
    config = load_or_exit(config_path)
    rows = asyncio.run(with_database(config, corrected_cases))
    return [dataset.Example(label, text, "", "local") for label, text in rows], config.data_path


def cmd_train(args: argparse.Namespace) -> int:
    from handlers.intents.classifier import load
    from handlers.intents.model import verifier_path
    from handlers.intents.train import combine, fit_classifier

    local, data_path = _local_examples(args.config)
    extra = []
    for path in args.extra:
        more = read_labelled(path)
        if more is None:
            return 2
        extra += more
    if args.eval:
        eval_examples, where = read_labelled(args.eval), args.eval
    elif (blind := blind_holdout()) is not None:
        eval_examples, where = blind
    else:
        eval_examples, where = dataset.load("dev"), "the shipped dev set (no blind holdout here: not a checkout)"
    if not eval_examples:
        print("error: the evaluation set is empty or unreadable", file=sys.stderr)
        return 2
    examples = combine(dataset.load("train"), extra, local)
    print(f"training on {len(examples)} messages ({len(local)} officers' corrections, {len(extra)} extra)")
    started = time.perf_counter()
    candidate = fit_classifier(examples)
    print(f"trained in {time.perf_counter() - started:.1f} s")
    if args.cv:
        print("5-fold cross-validation:\n" + evaluate.cross_validate(examples, 5).format())
    shipped = evaluate.run(load().classify, eval_examples)
    new = evaluate.run(candidate.classify, eval_examples)
    print(f"shipped model on {where}:\n{shipped.format()}\n\nnew model on {where}:\n{new.format()}")
    worse = [f"{name} {b:.3f} < {a:.3f}" for name, a, b in (
        ("macro-F1", shipped.macro_f1, new.macro_f1),
        ("emergency recall", shipped.recall("emergency"), new.recall("emergency")))
        if b < a - 1e-9]
    if worse:
        print("not installed: the new model does worse than the shipped one (" + "; ".join(worse) + ")")
        return 1
    if args.dry_run:
        print("dry run: nothing installed")
        return 0
    out = Path(args.out) if args.out else installed_path(data_path or Path("data"))
    out.parent.mkdir(parents=True, exist_ok=True)
    candidate.model.save(out)
    candidate.verifier.save(verifier_path(out))
    print(f"installed {out} (the bot uses it from its next start)")
    return 0
