"""What a graph run needs besides its state: the tutor service, the question cache, the classifier.

Passed per run as LangGraph's runtime context (``graph.astream(..., context=TutorContext(...))``),
never checkpointed: a restarted server builds a new one and the state carries on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.graph.cache import QuestionCache
from agent.graph.routing import Classifier


@dataclass(kw_only=True)
class TutorContext:
    """Run dependencies of the tutor graph."""

    service: object = field(metadata={"help": "agent.quiz.service.TutorService (plans, writes, explains)"})
    thread_id: str = field(metadata={"help": "the chat thread (also the checkpointer's thread id)"})
    cache: QuestionCache = field(default_factory=QuestionCache, metadata={"help": "questions written ahead"})
    classify: Classifier | None = field(default=None, metadata={"help": "free text -> intent; None: keywords"})
    seed: int | None = field(default=None, metadata={"help": "fixed base seed for quizzes (tests); None: random"})
