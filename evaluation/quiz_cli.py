"""``tutor eval quiz``: the quiz-quality evaluation (:mod:`evaluation.quiz_quality`) on the command line.

    tutor eval quiz --topics evaluation/data/quiz_topics.txt --out evaluation/reports/quiz-embedded
    tutor eval quiz --topics evaluation/data/quiz_topics.txt --strategy free --limit 5 --out runs/quiz-free
    tutor eval quiz --topics evaluation/data/quiz_topics_review.txt --no-model --out evaluation/reports/quiz-review

The last one is the held-out review: topics never used in development, no model needed (the template
quiz path makes no model call); it prints 50 questions for a person to read and writes them to
``samples.md``, beside the per-topic focus, kind and difficulty mix, and cross-topic repeats.

``evaluation/cli.py`` hooks this in with ``register_quiz(eval_subparsers)``; argparse only here,
the model loads inside the handler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.cli import question_count
from llm.settings import add_model_arguments
from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS


def register_quiz(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``quiz`` to the ``tutor eval`` sub-commands; returns its parser."""
    parser = eval_subparsers.add_parser(
        "quiz", help="generate a quiz per topic and report validity, key checks, letter spread and speed"
    )
    parser.add_argument("--topics", type=Path, required=True, help="text file with one topic per line ('#' comments)")
    parser.add_argument("--out", type=Path, required=True, help="report folder (results.json/.md, samples.md, PNG)")
    parser.add_argument("--questions", type=question_count, default=DEFAULT_QUESTIONS,
                        help=f"questions per quiz (1-{MAX_QUESTIONS}; the report's fixed default, not TUTOR_QUESTIONS)")
    parser.add_argument("--seed", type=int, default=0, help="base quiz seed; topic i uses seed + i")
    parser.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium",
                        help="quiz difficulty (selects item kinds: easy recall ... hard application/scenario)")
    add_model_arguments(parser)
    parser.add_argument("--strategy", choices=["auto", "template", "free", "mixed"], default="auto",
                        help="template: curated question forms; free: the model phrases questions (checked)")
    parser.add_argument("--samples", type=int, default=50,
                        help="questions printed and copied into samples.md for a person to read (0: none)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N topics")
    parser.add_argument("--no-recheck", action="store_true",
                        help="skip the model re-answering each key (the lexical re-check still runs)")
    parser.add_argument("--no-model", action="store_true",
                        help="seeded choices instead of a model: a seconds-long check of the whole pipeline")
    parser.set_defaults(handler=run_quiz_eval_command)
    return parser


def run_quiz_eval_command(args) -> int:
    from evaluation.quiz_quality import QuizEvalConfig, run_quiz_eval

    if not args.topics.is_file():
        raise FileNotFoundError(f"topics file not found: {args.topics}")
    config = QuizEvalConfig(
        topics=args.topics,
        out=args.out,
        questions=args.questions,
        seed=args.seed,
        difficulty=args.difficulty,
        model=args.model,
        adapter=args.adapter,
        strategy=args.strategy,
        samples=args.samples,
        recheck=not args.no_recheck,
        no_model=args.no_model,
        limit=args.limit,
    )
    results = run_quiz_eval(config)
    if args.samples:
        from evaluation.quiz_report import samples_text

        print(samples_text(results, args.samples, args.seed))
    s = results["summary"]
    valid = s["valid_quizzes"]
    print(
        f"{s['quizzes']}/{s['topics']} quizzes, {valid['n']} valid, {s['questions']} questions, "
        f"{len(s['unavailable'])} unavailable, {len(s['errors'])} failures; report in {args.out}",
        file=sys.stderr,
    )
    return 0 if not s["errors"] else 1
