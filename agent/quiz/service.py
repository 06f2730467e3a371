"""The quiz and explanation service the CLI, the graph and the evaluations call.

    service = TutorService.create(notes=NoteLibrary(notes_dir))   # embedded model, curated cards
    quiz = service.generate_quiz("bias-variance trade-off", count=10, seed=0)
    mine = service.for_user("ada")                   # the same model, the cards plus ada's notes only
    for piece in service.explain("How do I pick k in k-means?", topic="k-means").pieces: print(piece, end="")

A quiz is planned first (:mod:`agent.quiz.planning`), then written one question at a time
(:mod:`agent.quiz.writing`), so callers can show question 1 while 2..N are being written.
Nothing invalid leaves this module: a question that cannot be written is replaced by a spare
fact; if the spares run out, :class:`QuizUnavailable` explains why. Explanations are
:mod:`agent.explain`'s job; ``explain`` delegates to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from agent.explain import ExplanationStream, Explainer
from agent.quiz.planning import QuizUnavailable, plan_quiz
from agent.quiz.writing import QuestionWriter, Written
from knowledge.base import KnowledgeBase
from knowledge.library import NoteLibrary
from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS, MultipleChoiceQuestion, Quiz, QuizPlan

__all__ = ["TutorService", "QuizUnavailable", "ExplanationStream"]


class TutorService:
    """Knowledge + (optional) model: plans, writes and assembles quizzes; streams explanations."""

    def __init__(self, kb: KnowledgeBase, lm=None, strategy: str = "auto", runtime=None,
                 notes: NoteLibrary | None = None):
        """``runtime``: a :class:`llm.structured.StructuredRuntime` (built from ``lm`` when None); tests pass a fake.
        ``notes``: every student's notes; :meth:`for_user` gives the service on the cards plus one student's notes."""
        self.kb = kb
        self.notes = notes
        self._per_user: dict[str, tuple[tuple, TutorService]] = {}
        self._per_user_lock = threading.Lock()
        self.lm = lm
        self.runtime = runtime
        if lm is not None and runtime is None:  # a LoadedModel (in process) or a ServedModel (openai backend)
            from llm.backend import runtime_for

            self.runtime = runtime_for(lm)
        if strategy == "auto":
            # The 135M model cannot phrase questions reliably, with or without the tutor adapter
            # (measured in evaluation/reports/phrasing); a larger model may, under the checks.
            strategy = "template" if lm is None or lm.spec.kind == "embedded" else "mixed"
        self.strategy = strategy
        # Planning and template questions use no model (bench/results/quiz_ablation.json); only the
        # free/mixed strategies call it, to phrase questions.
        self.writer = QuestionWriter(kb, self.runtime, strategy)
        self.explainer = Explainer(kb, lm, self.runtime)

    @classmethod
    def create(
        cls, model: str | None = None, adapter: str | None = None, notes_dir: Path | None = None, strategy: str = "auto",
        notes: NoteLibrary | None = None,
    ) -> "TutorService":
        """The service on the backend the settings choose (:func:`llm.backend.load_backend`)."""
        from llm.backend import load_backend

        return cls(KnowledgeBase.load(notes_dir), load_backend(model, adapter), strategy, notes=notes)

    def for_user(self, user: str) -> "TutorService":
        """This service on the cards plus ``user``'s notes, and no one else's (rebuilt when their notes change)."""
        if self.notes is None or not user:
            return self
        fingerprint = self.notes.fingerprint(user)
        with self._per_user_lock:
            cached = self._per_user.get(user)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
        chunks = self.notes.chunks(user)
        if not chunks:
            return self
        kb = KnowledgeBase(list(self.kb.cards.values()), list(self.kb.chunks.values()) + chunks)
        scoped = TutorService(kb, self.lm, self.strategy, self.runtime)
        with self._per_user_lock:
            self._per_user[user] = (fingerprint, scoped)
        return scoped

    # ------------------------------------------------------------------- quizzes

    def plan(
        self, topic: str | None, count: int = DEFAULT_QUESTIONS, seed: int = 0, difficulty: str = "medium",
        asked: Mapping[str, float] | None = None, source: str = "any",
    ) -> QuizPlan:
        """The quiz plan on ``topic``; ``asked`` (fact id -> when the student was last asked it) steers it to
        fresh facts; ``source="notes"`` ("quiz me on my notes"): from the student's notes only."""
        if not 1 <= count <= MAX_QUESTIONS:
            raise QuizUnavailable(f"A quiz has between 1 and {MAX_QUESTIONS} questions.")
        return plan_quiz(
            self.kb,
            topic,
            count=count,
            seed=seed,
            difficulty=difficulty,
            model_label=self.lm.label if self.lm is not None else "",
            adapter=self.lm.adapter if self.lm is not None else None,
            strategy=self.strategy,
            asked=asked,
            source=source,
        )

    def write_question(
        self, plan: QuizPlan, index: int, taken: list[MultipleChoiceQuestion] = ()
    ) -> Written:
        """Question ``index`` of ``plan``, distinct from ``taken``; spares replace unusable facts.

        Question ``index``'s own spares (every n-th) are tried first, then any other spare whose fact
        no question has taken: a hard quiz plans computation items first, and one that cannot be
        written must not end the quiz while the concept has other facts.
        """
        letter = plan.letters[index]
        seen = {q.question.casefold() for q in taken}
        used = {q.fact_id for q in taken if q.fact_id}
        own = list(plan.spares[index::len(plan.items)])
        rest = [s for s in plan.spares if s not in own and s.fact_id not in used]
        candidates = [plan.items[index], *own, *rest]
        for n, item in enumerate(candidates):
            written = self.writer.write(item, letter, seed=plan.meta.seed * 100 + index + 7919 * n)
            if written is not None and written.question.question.casefold() not in seen:
                return written
        raise QuizUnavailable(
            f"I could not write a verified question {index + 1} for \"{plan.topic[:80]}\"; "
            "please try another topic or fewer questions."
        )

    def assemble(self, plan: QuizPlan, written: list[Written], seconds: float = 0.0) -> Quiz:
        """The final, re-validated quiz."""
        meta = plan.meta.model_copy(
            update={
                "seconds": round(seconds, 3),
                "verified": sum(1 for w in written if w.verified_by),
                "sources": sorted({w.question.source for w in written if w.question.source}),
                "strategy": _strategy_label({w.strategy for w in written}),
            }
        )
        payload = {"topic": plan.topic, "questions": [w.question.model_dump() for w in written], "meta": meta.model_dump()}
        return Quiz.model_validate(payload)

    def generate_quiz(
        self,
        topic: str,
        count: int = DEFAULT_QUESTIONS,
        seed: int = 0,
        difficulty: str = "medium",
        on_question: Callable[[int, MultipleChoiceQuestion], None] | None = None,
    ) -> Quiz:
        """Plan, write every question, assemble: a valid quiz or :class:`QuizUnavailable`."""
        started = time.perf_counter()
        plan = self.plan(topic, count, seed, difficulty)
        written: list[Written] = []
        for index in range(len(plan.items)):
            item = self.write_question(plan, index, [w.question for w in written])
            written.append(item)
            if on_question is not None:
                on_question(index, item.question)
        return self.assemble(plan, written, time.perf_counter() - started)

    # -------------------------------------------------------------- explanations

    def explain(self, question: str, topic: str | None = None, *, max_new_tokens: int | None = None) -> ExplanationStream:
        """A short answer to ``question`` from the facts that answer it, then key facts and sources.

        ``topic`` is the turn reader's span of the question (None when it found none).
        """
        return self.explainer.explain(question, topic, max_new_tokens=max_new_tokens)


def _strategy_label(used: set[str]) -> str:
    return used.pop() if len(used) == 1 else "mixed"
