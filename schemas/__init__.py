"""Pydantic contracts shared by every package (imports nothing else of ours, no torch)."""

from schemas.knowledge import ConceptCard, Fact, Misconception, NoteChunk
from schemas.quiz import (
    DEFAULT_QUESTIONS,
    LETTERS,
    MAX_QUESTIONS,
    PROMPT_VERSION,
    CandidatePick,
    Explanation,
    GradedAnswer,
    Letter,
    MultipleChoiceQuestion,
    QuestionDraft,
    Quiz,
    QuizMeta,
    PlanItem,
    QuizPlan,
    QuizResult,
    StudentAnswer,
)
from schemas.turn import INTENTS, Difficulty, Intent, Source, TurnRequest

__all__ = [
    "DEFAULT_QUESTIONS", "LETTERS", "MAX_QUESTIONS", "PROMPT_VERSION", "CandidatePick", "ConceptCard",
    "Explanation", "Fact", "GradedAnswer", "Letter", "Misconception", "MultipleChoiceQuestion", "NoteChunk",
    "PlanItem", "QuestionDraft", "Quiz", "QuizMeta", "QuizPlan", "QuizResult", "StudentAnswer",
    "INTENTS", "Difficulty", "Intent", "Source", "TurnRequest",
]
