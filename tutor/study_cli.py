"""``tutor review``, ``tutor progress`` and ``tutor export``: the study loop in the terminal (agent.study).

    tutor quiz --topic overfitting --questions 5 --interactive     # answers go into the history
    tutor review                                                   # the facts due now, as a quiz
    tutor progress --format json                                   # mastery per area and concept
    tutor progress --png progress.png
    tutor export --what history --format anki --out deck.apkg      # one Anki note per question
    tutor quiz --topic dropout --format json > quiz.json
    tutor export --quiz quiz.json --format markdown --out quiz.md  # a printable quiz

The history lives in the web app's chat database (``TUTOR_DATABASE_URL``, else
``<TUTOR_DATA_DIR>/chat.sqlite``), per user: by default
the app's open-mode user, so the terminal and the browser share it. ``TUTOR_CLOCK_OFFSET_DAYS`` moves
"now" (to see tomorrow's reviews today). Files are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas import MAX_QUESTIONS


def register(sub: argparse._SubParsersAction) -> None:
    from agent.cli import add_model_arguments

    review = sub.add_parser("review", help="a quiz of the facts due for review now, most overdue first")
    review.add_argument("--questions", type=int, default=10, help=f"at most this many questions (1-{MAX_QUESTIONS})")
    review.add_argument("--seed", type=int, default=0, help="seed for key positions and choices")
    review.add_argument("--format", choices=["interactive", "json", "text"], default="interactive",
                        help="interactive (default): ask on stdin; json/text: print the review quiz")
    _user_argument(review)
    add_model_arguments(review)
    review.set_defaults(handler=run_review)

    progress = sub.add_parser("progress", help="mastery per area and concept, due counts, answers per day")
    progress.add_argument("--format", choices=["text", "json"], default="text")
    progress.add_argument("--png", default=None, help="also write the progress picture to this PNG file")
    _user_argument(progress)
    progress.set_defaults(handler=run_progress)

    # `tutor export merge|gguf` (finetune.cli) already owns the command: its study flags join the same parser.
    export = sub.choices.get("export") or sub.add_parser("export", help="export quizzes, history or due facts")
    export.description = (
        "Study export: tutor export --what quizzes|history|due (or --quiz FILE.json) --format anki|markdown|json "
        "--out FILE.  Model export: tutor export merge|gguf ... (see their --help)."
    )
    what = export.add_mutually_exclusive_group()
    what.add_argument("--what", choices=["quizzes", "history", "due"],
                      help="what to export from the study history")
    what.add_argument("--quiz", default=None, help="a quiz document printed by `tutor quiz --format json`")
    export.add_argument("--format", choices=["anki", "markdown", "json"], default=None, help="study export format")
    export.add_argument("--out", default=None, help="file to write (.apkg for anki)")
    _user_argument(export)
    export.set_defaults(handler=lambda args: run_export(args, export))


def _user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default=None, help="whose history (default: the web app's user, TUTOR_USERNAME)")


def _companion(args):
    from agent.terminal import default_user, open_companion
    from knowledge.base import KnowledgeBase

    args.user = args.user or default_user()
    return open_companion(KnowledgeBase.load(getattr(args, "notes_dir", None)))


def run_review(args) -> int:
    if not 1 <= args.questions <= MAX_QUESTIONS:
        raise ValueError(f"--questions must be between 1 and {MAX_QUESTIONS}")
    companion = _companion(args)
    plan = companion.review_plan(args.user, args.questions, args.seed)
    if plan is None:
        sys.stdout.write(companion.nothing_due_message(args.user) + "\n")
        return 0
    from agent.cli import _service, settings_from_args

    service = _service(args, settings_from_args(args))
    if service.lm is not None:  # provenance: the model that writes the review (the plan was made before loading it)
        meta = plan.meta.model_copy(update={"model": service.lm.label, "adapter": service.lm.adapter})
        plan = plan.model_copy(update={"meta": meta})
    sys.stderr.write(f"{len(plan.items)} facts due for review\n")
    if args.format == "interactive":
        from agent.terminal import quiz_in_terminal

        return quiz_in_terminal(service, plan, args.user, companion=companion)
    written = []
    for index in range(len(plan.items)):
        written.append(service.write_question(plan, index, [w.question for w in written]))
    quiz = service.assemble(plan, written)
    if args.format == "json":
        sys.stdout.write(quiz.model_dump_json() + "\n")
    else:
        from agent.render import quiz_as_text

        sys.stdout.write(quiz_as_text(quiz) + "\n")
    return 0


def run_progress(args) -> int:
    from agent.study.progress import progress_text

    progress = _companion(args).progress(args.user)
    if args.png:
        from agent.study.chart import progress_png
        from common.files import write_atomic

        write_atomic(args.png, progress_png(progress))
        sys.stderr.write(f"wrote {args.png}\n")
    text = progress.model_dump_json(indent=2) if args.format == "json" else progress_text(progress)
    sys.stdout.write(text + "\n")
    return 0


def run_export(args, parser: argparse.ArgumentParser) -> int:
    if not (args.what or args.quiz):
        parser.print_help(sys.stderr)
        return 2
    if not (args.format and args.out):
        parser.error("a study export needs --format and --out")
    from agent.study.export import export_bytes, quiz_export
    from common.files import write_atomic

    companion = _companion(args)
    if args.quiz:
        items = quiz_export(_read_quiz(Path(args.quiz)), companion.clock.now())
    else:
        items = companion.collect(args.user, args.what)
    if not items.questions:
        raise ValueError(f"nothing to export: {args.user} has no {args.what} yet")
    write_atomic(args.out, export_bytes(items, args.format))
    sys.stderr.write(f"wrote {len(items.questions)} questions to {args.out}\n")
    return 0


def _read_quiz(path: Path):
    from pydantic import ValidationError

    from schemas import Quiz

    try:
        return Quiz.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no such quiz file: {path}") from None
    except ValidationError as exc:
        problem = f"{exc.error_count()} errors"
        raise ValueError(f"{path} is not a quiz printed by `tutor quiz --format json` ({problem})") from None
