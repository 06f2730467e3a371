"""``tutor quiz``, ``tutor ask``, ``tutor chat`` (the web app, see agent.app.launch) and ``tutor users``.

    tutor quiz --topic "bias-variance trade-off" --questions 10 --seed 0 --format json > quiz.json
    tutor ask "Why does dropout reduce overfitting?"
    tutor chat --port 8000                       # http://127.0.0.1:8000

With ``--format json`` stdout holds exactly one JSON document (the :class:`schemas.Quiz`);
progress and logs go to stderr; failures exit non-zero with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys

from llm.settings import add_model_arguments
from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS


def add_tutor_arguments(parser: argparse.ArgumentParser) -> None:
    """The model flags (:func:`llm.settings.add_model_arguments`) plus the notes folder."""
    add_model_arguments(parser)
    parser.add_argument("--notes-dir", default=None, help="folder of indexed notes (default: the data directory's)")


def question_count(value: str) -> int:
    """``--questions``: a whole number from 1 to MAX_QUESTIONS (argparse type, shared with ``tutor eval quiz``)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_QUESTIONS}, not {value!r}") from None
    if not 1 <= n <= MAX_QUESTIONS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_QUESTIONS}")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    quiz = sub.add_parser("quiz", help="generate a multiple-choice quiz on a topic")
    quiz.add_argument("--topic", required=True, help="what the quiz is about, e.g. 'bias-variance trade-off'")
    quiz.add_argument("--questions", type=question_count, default=None,
                      help=f"number of questions (1-{MAX_QUESTIONS}; default: TUTOR_QUESTIONS, else "
                      f"{DEFAULT_QUESTIONS})")
    quiz.add_argument("--seed", type=int, default=0, help="seed for planning, key positions and choices")
    quiz.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    quiz.add_argument("--strategy", choices=["auto", "template", "free", "mixed"], default="auto",
                      help="template: curated question forms; free: the model phrases questions (checked)")
    quiz.add_argument("--format", choices=["json", "text"], default="text")
    quiz.add_argument("--interactive", action="store_true",
                      help="ask one question at a time on stdin (A-D or the option's words); answers are recorded")
    quiz.add_argument("--user", default=None, help="whose study history records the answers (default: the app's user)")
    add_tutor_arguments(quiz)
    quiz.set_defaults(handler=run_quiz)

    ask = sub.add_parser("ask", help="stream an explanation of a machine-learning question")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--max-new-tokens", type=int, default=200)
    add_tutor_arguments(ask)
    ask.set_defaults(handler=run_ask)

    chat = sub.add_parser("chat", help="the web app: explanations and quizzes in the browser (Chainlit)")
    chat.add_argument("--host", default=None,
                      help="interface to serve on (env TUTOR_HOST; default 127.0.0.1: this computer only)")
    chat.add_argument("--port", type=int, default=None, help="port to serve on (env TUTOR_PORT; default 8000)")
    chat.add_argument("--data-dir", default=None, help="where chat history and quiz state live (env TUTOR_DATA_DIR)")
    add_model_arguments(chat)
    chat.set_defaults(handler=run_chat)

    from agent.app.users_cli import register as register_users

    register_users(sub)


def _service(args, settings, topic: str | None = None):
    """The tutor service; with ``topic``, the topic is checked against the knowledge first, so a
    request the tutor cannot serve fails in milliseconds, before any model is loaded."""
    from agent.quiz.planning import require_material
    from agent.quiz.service import TutorService
    from knowledge.base import KnowledgeBase
    from llm.backend import load_backend

    kb = KnowledgeBase.load(settings.knowledge.notes_dir)
    if topic is not None:
        require_material(kb, topic)
    llm = settings.llm
    return TutorService(kb, load_backend(llm.model, llm.adapter), getattr(args, "strategy", "auto"))


def settings_from_args(args):
    """:class:`agent.settings.Settings` with this command's flags over the environment."""
    from agent.app.settings import AppSettings
    from agent.settings import Settings
    from knowledge.settings import KnowledgeSettings
    from llm.settings import LLMSettings

    flags = vars(args)
    return Settings.from_env(
        llm=LLMSettings.from_env(model=flags.get("model"), adapter=flags.get("adapter")),
        knowledge=KnowledgeSettings.from_env(data_dir=flags.get("data_dir"), notes=flags.get("notes_dir")),
        app=AppSettings.from_env(host=flags.get("host"), port=flags.get("port")),
        questions=flags.get("questions"),
    )


def run_quiz(args) -> int:
    from tqdm import tqdm

    settings = settings_from_args(args)
    service = _service(args, settings, topic=args.topic)
    count = settings.questions
    if args.interactive:
        from agent.terminal import default_user, open_companion, quiz_in_terminal  # recorded in the study history

        user, companion = args.user or default_user(), open_companion(service.kb, settings.chat_database)
        plan = service.plan(args.topic, count, args.seed, args.difficulty, companion.asked(user))  # fresh facts first
        return quiz_in_terminal(service, plan, user, companion=companion)
    with tqdm(total=count, desc="writing questions", unit="q", file=sys.stderr) as bar:
        quiz = service.generate_quiz(
            args.topic, count, args.seed, args.difficulty, on_question=lambda i, q: bar.update(1)
        )
    if args.format == "json":
        sys.stdout.write(quiz.model_dump_json() + "\n")
    else:
        from agent.render import quiz_as_text

        sys.stdout.write(quiz_as_text(quiz) + "\n")
    return 0


def run_chat(args) -> int:
    """Serve the Chainlit app until Ctrl-C (see agent.app.launch)."""
    from agent.app.launch import serve

    return serve(settings_from_args(args))


def run_ask(args) -> int:
    service = _service(args, settings_from_args(args))
    stream = service.explain(args.question, max_new_tokens=args.max_new_tokens)
    for piece in stream.pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    if stream.key_facts:
        sys.stdout.write("\nKey facts:\n" + "".join(f"- {f}\n" for f in stream.key_facts))
    if stream.sources:
        sys.stdout.write("Sources: " + ", ".join(stream.sources) + "\n")
    return 0
