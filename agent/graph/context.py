"""What a graph run needs besides its state: the tutor service, the turn reader, the question cache,
the study companion and the student.

Passed per run as LangGraph's runtime context (``graph.astream(..., context=TutorContext(...))``),
never checkpointed: a restarted server builds a new one and the state carries on. The graph
depends on the two protocols below only, not on the classes that implement them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from agent.graph.cache import QuestionCache
from agent.turns import TurnReader  # interface A: free text -> TurnRequest, never raises
from schemas import MultipleChoiceQuestion, QuizPlan

if TYPE_CHECKING:  # type-only: the graph never constructs these
    from agent.quiz.service import ExplanationStream
    from agent.quiz.writing import Written
    from agent.study.companion import StudyCompanion
    from knowledge.base import KnowledgeBase


class Service(Protocol):
    """What the graph uses of :class:`agent.quiz.service.TutorService`."""

    kb: KnowledgeBase

    def plan(self, topic: str | None, count: int, seed: int, difficulty: str,
             asked: Mapping[str, float] | None = None, source: str = "any") -> QuizPlan: ...

    def write_question(self, plan: QuizPlan, index: int, taken: list[MultipleChoiceQuestion]) -> Written: ...

    def explain(self, question: str, topic: str | None = None) -> ExplanationStream: ...


@dataclass(kw_only=True)
class TutorContext:
    """Run dependencies of the tutor graph."""

    service: Service = field(metadata={"help": "plans, writes and explains (agent.quiz.service.TutorService)"})
    read_turn: TurnReader = field(metadata={"help": "free text -> TurnRequest"})
    thread_id: str = field(metadata={"help": "the chat thread (also the checkpointer's thread id)"})
    cache: QuestionCache = field(default_factory=QuestionCache, metadata={"help": "questions written ahead"})
    seed: int | None = field(default=None, metadata={"help": "fixed base seed for quizzes (tests); None: random"})
    study: StudyCompanion | None = field(
        default=None, metadata={"help": "per-student memory of facts (agent.study); None: nothing is recorded"}
    )
    user: str = field(default="", metadata={"help": "the student (Chainlit user identifier); '': anonymous"})
    recording: list[Awaitable[None]] = field(
        default_factory=list, metadata={"help": "study writes of this run still running (agent.graph.study_nodes)"}
    )

    @property
    def studying(self) -> bool:
        """Whether answers are recorded and review, progress and export are available."""
        return self.study is not None and bool(self.user)
