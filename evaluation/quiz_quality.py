"""Quiz-quality evaluation: one quiz per topic, every question audited from the quiz's JSON.

    tutor eval quiz --topics evaluation/data/quiz_topics.txt --out evaluation/reports/quiz-embedded
    tutor eval quiz --topics evaluation/data/quiz_topics.txt --no-model --out runs/quiz-seeded  # seconds

What is measured, per quiz and overall (:func:`audit_quiz` is pure and also used by the fuzz test
and ``bench/quiz_soak.py``):

* validity - the printed JSON re-validates as :class:`schemas.Quiz`;
* duplicates - stems within a quiz and options within a question, compared after
  :func:`schemas.text.normalise` (counted on the raw JSON, so an invalid quiz is still counted);
* answer letters - the overall spread and the largest share of one letter within a quiz;
* key verification - ``meta.verified`` as the generator claims it, plus an independent re-check:
  lexical support of the key by the card fact, and the model re-answering from the fact alone with
  the options in a *different* (seeded) order, so that a position bias cannot agree by accident;
* stem quality - :func:`agent.quiz.checks.stem_problems` against the key, fact and concept;
* topic focus - questions drawn from the 3 cards that retrieval ranks best for the topic, and (per
  topic, :mod:`evaluation.quiz_focus`) from the concept card the planner names; the item-kind and
  difficulty mix; stems that the quizzes of other topics ask too;
* seconds per quiz and to the first question; failures (``QuizUnavailable`` messages, other errors).

Outputs (written whole, then renamed): ``results.json``, ``results.md``, ``samples.md`` (50 questions
for a person to read, also printed) and ``quiz_quality.png`` - see :mod:`evaluation.quiz_report`.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal
from pathlib import Path

from pydantic import ValidationError

from evaluation.quiz_topics import load_topics

from schemas import LETTERS, Quiz
from schemas.text import first_duplicate, normalise

# A re-answer function: (fact, question, options) -> 0-based index of the option it picks.
Reanswer = Callable[[str, str, Sequence[str]], int]
TOPIC_CARDS = 3  # "on topic" = drawn from one of the topic's best-matching cards


@dataclass(kw_only=True)
class QuizEvalConfig:
    """One evaluation run (every field is also a ``tutor eval quiz`` flag)."""

    topics: Path = field(metadata={"help": "text file, one topic per line ('#' comments)"})
    out: Path = field(metadata={"help": "report folder"})
    questions: int = field(default=10, metadata={"help": "questions per quiz"})
    seed: int = field(default=0, metadata={"help": "base seed; topic i uses seed + i (recorded per quiz)"})
    model: str | None = field(default=None, metadata={"help": "model spec (default: embedded)"})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder"})
    strategy: str = field(default="auto", metadata={"help": "template | free | mixed | auto"})
    difficulty: str = field(default="medium", metadata={"help": "quiz difficulty: easy | medium | hard"})
    samples: int = field(default=50, metadata={"help": "questions copied into samples.md (and printed)"})
    recheck: bool = field(default=True, metadata={"help": "re-answer every key with the model"})
    no_model: bool = field(default=False, metadata={"help": "seeded choices, no model (pipeline check)"})
    limit: int | None = field(default=None, metadata={"help": "only the first N topics"})


@dataclass
class QuizAudit:
    """The checks of one generated quiz (or of one failed request)."""

    topic: str
    status: str  # "ok" | "invalid" | "unavailable" | "error"
    message: str = ""
    seed: int = 0
    questions: int = 0
    letters: list[str] = field(default_factory=list)
    duplicate_stems: int = 0
    duplicate_options: int = 0
    verified_meta: int = 0
    lexical_ok: int = 0
    model_ok: int | None = None
    stem_ok: int = 0
    stem_problems: dict[str, int] = field(default_factory=dict)
    topic_cards: int = 0  # questions drawn from the 3 cards that best match the topic (retrieval)
    seconds: float = 0.0
    first_question_seconds: float | None = None
    focus: dict = field(default_factory=dict)  # evaluation.quiz_focus.topic_focus
    rows: list[dict] = field(default_factory=list)  # per question: text, options, key, fact, checks

    @property
    def max_letter_share(self) -> float:
        return max(Counter(self.letters).values()) / len(self.letters) if self.letters else 0.0


def source_fact(kb, source: str | None, explanation: str) -> str:
    """The card fact a question was written from (the explanation quotes it), else the explanation."""
    if not source or not source.startswith("card:") or source.removeprefix("card:") not in kb.cards:
        return explanation
    facts = [f.statement for f in kb.card(source.removeprefix("card:")).facts]
    wanted = normalise(explanation)
    for statement in facts:
        if normalise(statement) == wanted:
            return statement
    words = set(wanted.split())
    return max(facts, key=lambda s: len(words & set(normalise(s).split())))


def duplicate_counts(payload: dict) -> tuple[int, int]:
    """(repeated stems, questions with repeated options) in a raw quiz dict, after normalising."""
    questions = [q for q in payload.get("questions", []) if isinstance(q, dict)]
    stems = [normalise(str(q.get("question", ""))) for q in questions]
    repeated_stems = len(stems) - len(set(stems))
    repeated_options = sum(1 for q in questions if first_duplicate([str(o) for o in q.get("options", [])]))
    return repeated_stems, repeated_options


def audit_quiz(quiz_json: str, kb, reanswer: Reanswer | None = None, seed: int = 0) -> QuizAudit:
    """Audit one quiz from its JSON text (pure apart from ``reanswer``)."""
    from agent.quiz.checks import lexical_support, stem_problems
    from evaluation.quiz_focus import fact_labels

    payload = json.loads(quiz_json)
    topic = str(payload.get("topic", ""))
    stems, options = duplicate_counts(payload)
    try:
        quiz = Quiz.model_validate_json(quiz_json)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return QuizAudit(topic, "invalid", f"{where}: {first['msg']}", duplicate_stems=stems, duplicate_options=options)
    audit = QuizAudit(topic, "ok", questions=len(quiz.questions), duplicate_stems=stems, duplicate_options=options)
    audit.verified_meta = quiz.meta.verified
    audit.letters = [q.answer for q in quiz.questions]
    problems: Counter[str] = Counter()
    model_ok = 0
    core = {f"card:{h.key}" for h in kb.search(topic, k=TOPIC_CARDS, kinds=("card",))}
    audit.topic_cards = sum(1 for q in quiz.questions if q.source in core)
    for i, q in enumerate(quiz.questions):
        key = LETTERS.index(q.answer)
        fact = source_fact(kb, q.source, q.explanation)
        others = [o for j, o in enumerate(q.options) if j != key]
        lexical = lexical_support(fact, q.correct_option, others).verified
        found = stem_problems(q.question, q.correct_option, fact, q.concept)
        kind, difficulty = fact_labels(kb, q.fact_id)
        model = None
        if reanswer is not None:
            order = list(range(4))
            random.Random(f"recheck:{seed}:{i}:{q.question}").shuffle(order)
            picked = reanswer(fact, q.question, [q.options[j] for j in order])
            model = order[picked] == key
            model_ok += model
        audit.lexical_ok += lexical
        audit.stem_ok += not found
        problems.update(found)
        audit.rows.append(
            {
                "index": i,
                "question": q.question,
                "options": list(q.options),
                "answer": q.answer,
                "source": q.source,
                "fact_id": q.fact_id,
                "kind": kind,
                "difficulty": difficulty,
                "fact": fact,
                "lexical": lexical,
                "model": model,
                "stem_problems": found,
            }
        )
    audit.model_ok = model_ok if reanswer is not None else None
    audit.stem_problems = dict(problems)
    return audit


def number_type(count: int):
    """``Literal["1", ..., "count"]``: the only strings the model may answer with."""
    if not 1 <= count <= 9:
        raise ValueError("between 1 and 9 candidates")
    return Literal[tuple(str(i) for i in range(1, count + 1))]  # type: ignore[misc]


def model_reanswer(service, seed: int = 0) -> Reanswer:
    """The service's model, shown the fact, asked which option is correct (constrained to a number)."""
    from prompts.tutor import answer_with_fact_messages

    runtime = service.runtime

    def reanswer(fact: str, question: str, options: Sequence[str]) -> int:
        prompt = runtime.chat(answer_with_fact_messages(fact, question, options))
        return int(runtime.generate_text(number_type(len(options)), prompt, seed=seed, max_new_tokens=3)) - 1

    return reanswer


def generate_and_audit(service, topic: str, count: int, seed: int, reanswer: Reanswer | None = None,
                       difficulty: str = "medium") -> QuizAudit:
    """Generate one quiz and audit it; failures become audits with a status and a one-line message."""
    from agent.quiz.service import QuizUnavailable
    from evaluation.quiz_focus import topic_focus

    started = time.perf_counter()
    first: list[float] = []

    def on_question(index: int, _question) -> None:
        if index == 0:
            first.append(time.perf_counter() - started)

    try:
        quiz = service.generate_quiz(topic, count, seed, difficulty, on_question=on_question)
    except QuizUnavailable as exc:
        return QuizAudit(topic[:200], "unavailable", str(exc), seed, seconds=time.perf_counter() - started)
    except Exception as exc:  # reported, never hidden: any other exception is a bug
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return QuizAudit(topic[:200], "error", message, seed, seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    audit = audit_quiz(quiz.model_dump_json(), service.kb, reanswer, seed)
    audit.seed = seed
    audit.seconds = seconds
    audit.first_question_seconds = first[0] if first else None
    audit.focus = topic_focus(service.kb, quiz.topic, audit.rows)
    return audit


def _rate(numerator: int, denominator: int) -> dict:
    from evaluation.stats import wilson_interval

    low, high = wilson_interval(numerator, denominator) if denominator else (0.0, 1.0)
    return {"n": numerator, "of": denominator, "rate": numerator / denominator if denominator else None,
            "ci95": [round(low, 4), round(high, 4)]}


def summarise_audits(audits: Sequence[QuizAudit]) -> dict:
    """Totals and rates over all audits (JSON-ready)."""
    from evaluation.quiz_focus import summarise_focus

    made = [a for a in audits if a.status in ("ok", "invalid")]
    ok = [a for a in audits if a.status == "ok"]
    questions = sum(a.questions for a in ok)
    letters = Counter(letter for a in ok for letter in a.letters)
    seconds = [a.seconds for a in ok]
    firsts = [a.first_question_seconds for a in ok if a.first_question_seconds is not None]
    rechecked = [a for a in ok if a.model_ok is not None]
    problems: Counter[str] = Counter()
    for a in ok:
        problems.update(a.stem_problems)
    return {
        "topics": len(audits),
        "quizzes": len(made),
        "valid_quizzes": _rate(len(ok), len(made)),
        "questions": questions,
        "duplicate_stems": sum(a.duplicate_stems for a in made),
        "duplicate_options": sum(a.duplicate_options for a in made),
        "letters": {letter: letters.get(letter, 0) for letter in LETTERS},
        "max_letter_share_overall": max(letters.values()) / questions if questions else None,
        "max_letter_share_per_quiz": max((a.max_letter_share for a in ok), default=None),
        "verified_meta": _rate(sum(a.verified_meta for a in ok), questions),
        "recheck_lexical": _rate(sum(a.lexical_ok for a in ok), questions),
        "recheck_model": _rate(sum(a.model_ok for a in rechecked), sum(a.questions for a in rechecked))
        if rechecked else None,
        "recheck_either": _rate(
            sum(1 for a in rechecked for r in a.rows if r["lexical"] or r["model"]), sum(a.questions for a in rechecked)
        ) if rechecked else None,
        # Keys the card fact does not state: verified (if at all) by the model alone. A position-biased
        # model "verifies" only the keys at one letter, which shows up here.
        "unsupported_key_letters": dict(Counter(r["answer"] for a in ok for r in a.rows if not r["lexical"])),
        "stem_pass": _rate(sum(a.stem_ok for a in ok), questions),
        "topic_cards": _rate(sum(a.topic_cards for a in ok), questions),
        "stem_problems": dict(problems.most_common()),
        "focus": summarise_focus([(a.topic, a.rows, a.focus) for a in ok if a.focus]),
        "seconds_per_quiz": _spread(seconds),
        "seconds_to_first_question": _spread(firsts),
        "unavailable": [{"topic": a.topic, "message": a.message} for a in audits if a.status == "unavailable"],
        "errors": [{"topic": a.topic, "status": a.status, "message": a.message}
                   for a in audits if a.status in ("error", "invalid")],
    }


def _spread(values: Sequence[float]) -> dict | None:
    if not values:
        return None
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return {"mean": round(statistics.fmean(values), 3), "median": round(statistics.median(values), 3),
            "p90": round(p90, 3), "max": round(ordered[-1], 3), "n": len(values)}


def run_quiz_eval(config: QuizEvalConfig, service=None) -> dict:
    """Run the evaluation and write the report; returns the results dict (``service`` for tests)."""
    import os

    from tqdm import tqdm

    from evaluation.quiz_report import write_report

    topics = load_topics(config.topics)[: config.limit]
    if not topics:
        raise ValueError(f"no topics in {config.topics}")
    load_started = time.perf_counter()
    if service is None:
        service = _make_service(config)
    load_seconds = time.perf_counter() - load_started
    reanswer = model_reanswer(service, config.seed) if config.recheck and service.lm is not None else None
    audits = []
    # A seed per topic, so the key letters of different quizzes differ (and the overall spread means something).
    for i, topic in enumerate(tqdm(topics, desc="quizzes", unit="quiz")):
        audits.append(generate_and_audit(service, topic, config.questions, config.seed + i, reanswer,
                                         config.difficulty))
    results = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "environment": {
            "model": service.lm.label if service.lm is not None else "no model",
            "adapter": service.lm.adapter if service.lm is not None else None,
            "strategy": service.strategy,
            "model_load_seconds": round(load_seconds, 2),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "summary": summarise_audits(audits),
        "quizzes": [asdict(a) | {"max_letter_share": a.max_letter_share} for a in audits],
    }
    write_report(results, Path(config.out), config.samples, config.seed)
    return results


def _torch_threads() -> int | None:
    import sys

    torch = sys.modules.get("torch")  # only if a model was loaded; never imported just for this
    return torch.get_num_threads() if torch is not None else None


def _make_service(config: QuizEvalConfig):
    from agent.quiz.service import TutorService
    from knowledge.base import KnowledgeBase

    if config.no_model:
        return TutorService(KnowledgeBase.load(), None, config.strategy)
    return TutorService.create(config.model, config.adapter, strategy=config.strategy)
