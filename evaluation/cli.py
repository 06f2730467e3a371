"""``tutor eval ...`` sub-commands (argparse only; models load inside the handlers).

    tutor eval arc --data ../shared/data/arc_easy_test.jsonl --mode loglik --out runs/eval/arc-easy
    tutor eval quiz --topics evaluation/data/quiz_topics.txt --out runs/quiz
    tutor eval turns --data evaluation/data/turns_test.jsonl --out runs/eval/turns --reader both
    tutor eval explain --data evaluation/data/explain_questions.jsonl --out runs/explain

``register(subparsers)`` adds ``eval`` with its own nested sub-commands: every function in
:data:`EVAL_COMMANDS`, each taking the ``eval`` subparsers (``arc`` here, ``quiz`` from
:mod:`evaluation.quiz_cli`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable


def _help(name: str) -> str:
    from evaluation.arc import ArcEvalConfig

    return next(f.metadata.get("help", "") for f in dataclasses.fields(ArcEvalConfig) if f.name == name)


def register_arc(eval_sub: argparse._SubParsersAction) -> None:
    """``tutor eval arc``: ARC-style multiple-choice accuracy (see :mod:`evaluation.arc`)."""
    p = eval_sub.add_parser(
        "arc",
        help="ARC-Challenge-style multiple-choice accuracy (loglik and/or constrained letter answers)",
        description="Evaluate a model (and adapter) on ai2_arc-format multiple-choice questions.",
    )
    p.add_argument("--data", metavar="HUB_ID|PATH", help=_help("data"))
    p.add_argument("--config", default="ARC-Challenge", help=_help("config"))
    p.add_argument("--split", default="test", help=_help("split"))
    p.add_argument("--limit", type=int, metavar="N", help=_help("limit"))
    p.add_argument("--seed", type=int, default=0, metavar="S", help=_help("seed"))
    p.add_argument("--model", metavar="SPEC", help=_help("model"))
    p.add_argument("--adapter", metavar="DIR", help=_help("adapter"))
    p.add_argument("--compare-base", action="store_true", help=_help("compare_base"))
    p.add_argument("--mode", choices=("loglik", "letter", "both"), default="both", help=_help("mode"))
    p.add_argument("--shots", type=int, default=0, metavar="K", help=_help("shots"))
    p.add_argument("--chat-template", choices=("on", "off", "both"), default="on", help=_help("chat_template"))
    p.add_argument("--batch-size", type=int, metavar="B", help=_help("batch_size"))
    p.add_argument("--device", help=_help("device"))
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16"), default="auto", help=_help("dtype"))
    p.add_argument("--out", required=True, metavar="DIR", help=_help("out"))
    p.set_defaults(handler=run_arc_command)


def run_arc_command(args: argparse.Namespace) -> int:
    from evaluation.arc import ArcEvalConfig, run_arc
    from evaluation.report import markdown

    names = {f.name for f in dataclasses.fields(ArcEvalConfig)}
    config = ArcEvalConfig(**{k: v for k, v in vars(args).items() if k in names})
    results = run_arc(config)
    print(markdown(results))
    for name, path in results["files"].items():
        print(f"{name}: {path}")
    return 0


def register_turns(eval_sub: argparse._SubParsersAction) -> None:
    """``tutor eval turns``: how well the turn reader reads labelled chat messages (see :mod:`evaluation.turns`)."""
    from evaluation.turns import TurnEvalConfig

    helps = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(TurnEvalConfig)}
    p = eval_sub.add_parser(
        "turns",
        help="turn reading: intent, topic span, count, difficulty and letter of labelled chat messages",
        description="Read labelled chat messages with the turn reader and score every field.",
    )
    p.add_argument("--data", required=True, metavar="FILE.jsonl", help=helps["data"])
    p.add_argument("--out", required=True, metavar="DIR", help=helps["out"])
    p.add_argument("--reader", choices=("rules", "model", "both"), default="both", help=helps["reader"])
    p.add_argument("--model", metavar="SPEC", help=helps["model"])
    p.add_argument("--adapter", metavar="DIR", help=helps["adapter"])
    p.add_argument("--limit", type=int, metavar="N", help=helps["limit"])
    p.set_defaults(handler=run_turns_command)


def run_turns_command(args: argparse.Namespace) -> int:
    from evaluation.turns import TurnEvalConfig, run_turns, summary

    names = {f.name for f in dataclasses.fields(TurnEvalConfig)}
    results = run_turns(TurnEvalConfig(**{k: v for k, v in vars(args).items() if k in names}))
    print(summary(results))
    for name, path in results["files"].items():
        print(f"{name}: {path}")
    return 0


# --- nested `tutor eval` commands --------------------------------------------------------------
# `arc` and `turns` live above; `quiz` (quiz-quality evaluation, evaluation/quiz_cli.py, owned by the lead) is
# hooked in below when its module is present. Add further commands to this list.
EVAL_COMMANDS: list[Callable[[argparse._SubParsersAction], object]] = [register_arc, register_turns]

try:
    from evaluation.quiz_cli import register_quiz
except ModuleNotFoundError as exc:  # not written yet: `tutor eval` works without it
    if exc.name != "evaluation.quiz_cli":
        raise
else:
    EVAL_COMMANDS.append(register_quiz)

from evaluation.explain_report import register_explain  # noqa: E402  (explanation report, light imports)

EVAL_COMMANDS.append(register_explain)


def register(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add ``tutor eval`` and every command in :data:`EVAL_COMMANDS`; returns the nested subparsers."""
    parser = subparsers.add_parser("eval", help="evaluate models: ARC-style benchmarks, quiz quality")
    eval_sub = parser.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])
    for add in EVAL_COMMANDS:
        add(eval_sub)
    return eval_sub
