"""``tutor quiz``, ``tutor ask`` and ``tutor chat`` (the web app, see agent.app.launch).

    tutor quiz --topic "bias-variance trade-off" --questions 10 --seed 0 --format json > quiz.json
    tutor ask "Why does dropout reduce overfitting?"
    tutor chat --port 8000                       # http://127.0.0.1:8000

With ``--format json`` stdout holds exactly one JSON document (the :class:`schemas.Quiz`);
progress and logs go to stderr; failures exit non-zero with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys

from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The one model spec, shared by every command that loads a model."""
    parser.add_argument(
        "--model", default=None, help="model spec: 'embedded' (default), a hub id, a local HF folder or a .gguf file "
        "(env TUTOR_MODEL)"
    )
    parser.add_argument("--adapter", default=None, help="PEFT adapter folder (env TUTOR_ADAPTER); 'none' for the base")
    parser.add_argument("--notes-dir", default=None, help="folder of indexed notes (default: the data directory's)")


def _questions(value: str) -> int:
    n = int(value)
    if not 1 <= n <= MAX_QUESTIONS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_QUESTIONS}")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    quiz = sub.add_parser("quiz", help="generate a multiple-choice quiz on a topic")
    quiz.add_argument("--topic", required=True, help="what the quiz is about, e.g. 'bias-variance trade-off'")
    quiz.add_argument("--questions", type=_questions, default=DEFAULT_QUESTIONS, help="number of questions (1-20)")
    quiz.add_argument("--seed", type=int, default=0, help="seed for planning, key positions and choices")
    quiz.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    quiz.add_argument("--strategy", choices=["auto", "template", "free", "mixed"], default="auto",
                      help="template: curated question forms; free: the model phrases questions (checked)")
    quiz.add_argument("--format", choices=["json", "text"], default="text")
    add_model_arguments(quiz)
    quiz.set_defaults(handler=run_quiz)

    ask = sub.add_parser("ask", help="stream an explanation of a machine-learning question")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--max-new-tokens", type=int, default=200)
    add_model_arguments(ask)
    ask.set_defaults(handler=run_ask)

    chat = sub.add_parser("chat", help="the web app: explanations and quizzes in the browser (Chainlit)")
    chat.add_argument("--host", default="127.0.0.1",
                      help="interface to serve on (default 127.0.0.1: this computer only)")
    chat.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    chat.add_argument("--data-dir", default=None, help="where chat history and quiz state live (env TUTOR_DATA_DIR)")
    chat.add_argument("--model", default=None, help="model spec: 'embedded' (default), a local HF folder, a .gguf "
                      "file or a hub id (env TUTOR_MODEL)")
    chat.add_argument("--adapter", default=None, help="PEFT adapter folder (env TUTOR_ADAPTER); 'none' for the base")
    chat.set_defaults(handler=run_chat)


def _service(args, topic: str | None = None):
    """The tutor service; with ``topic``, the topic is checked against the knowledge first, so a
    request the tutor cannot serve fails in milliseconds, before any model is loaded."""
    from agent.quiz.planning import require_material
    from agent.quiz.service import TutorService
    from agent.settings import Settings
    from knowledge.base import KnowledgeBase
    from llm.backend import load_backend

    settings = Settings.from_env(model=args.model, adapter=args.adapter, notes_dir=args.notes_dir)
    kb = KnowledgeBase.load(settings.notes_dir)
    if topic is not None:
        require_material(kb, topic)
    return TutorService(kb, load_backend(settings.model, settings.adapter), getattr(args, "strategy", "auto"))


def run_quiz(args) -> int:
    from tqdm import tqdm

    service = _service(args, topic=args.topic)
    with tqdm(total=args.questions, desc="writing questions", unit="q", file=sys.stderr) as bar:
        quiz = service.generate_quiz(
            args.topic, args.questions, args.seed, args.difficulty, on_question=lambda i, q: bar.update(1)
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
    from agent.settings import Settings

    settings = Settings.from_env(model=args.model, adapter=args.adapter, data_dir=args.data_dir)
    return serve(settings, host=args.host, port=args.port)


def run_ask(args) -> int:
    service = _service(args)
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
