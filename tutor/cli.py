"""``tutor``: one command for the whole project.

    tutor chat                                   # the web app (Chainlit) on the embedded model
    tutor quiz --topic "bias-variance trade-off" --format json
    tutor ask "What is dropout?"
    tutor quiz --topic overfitting --interactive   # answer in the terminal; recorded for review
    tutor review                                 # the facts due now;  tutor progress / tutor export
    tutor notes add lecture.md                   # index your own notes
    tutor finetune --config finetune/configs/tutor_smollm2.yaml
    tutor eval arc --data ../shared/data/arc_easy_test.jsonl --out runs/eval

Each subsystem registers its own sub-commands from a light ``cli`` module (argparse only); heavy
imports (torch, transformers, chainlit) happen inside the command that needs them, so
``tutor --help`` is instant and a bad argument fails before any model loads.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Sub-command modules, each exposing ``register(subparsers)``; a module not yet present is skipped.
SUBSYSTEMS = ("agent.cli", "knowledge.cli", "finetune.cli", "evaluation.cli", "tutor.study_cli")


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line on stderr (``tutor quiz: error: ...``), exit status 2; --help is unchanged."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="tutor", description="AI teaching assistant for machine learning.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBSYSTEMS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s"
    )
    if not args.verbose:
        # bitsandbytes (imported by peft) warns on every CPU run that an optional kernel hub package is
        # absent; it must not be installed (it fetches kernels from the hub), so the warning is noise.
        logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; details with --verbose
        if args.verbose:
            logging.exception("failed")
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
