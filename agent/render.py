"""Plain-text rendering of quizzes and results for the terminal (pure)."""

from __future__ import annotations

from schemas import LETTERS, Quiz, QuizResult


def quiz_as_text(quiz: Quiz, with_answers: bool = True) -> str:
    lines = [f"Quiz: {quiz.topic}  ({len(quiz.questions)} questions, model: {quiz.meta.model})", ""]
    for n, q in enumerate(quiz.questions, start=1):
        lines.append(f"{n}. {q.question}")
        lines.extend(f"   {letter}. {option}" for letter, option in zip(LETTERS, q.options))
        if with_answers:
            lines.append(f"   Answer: {q.answer}  ({q.source or 'no source'})")
        lines.append("")
    return "\n".join(lines).rstrip()


def result_as_text(result: QuizResult) -> str:
    lines = [f"Score: {result.score}/{result.total} ({result.percent:.0f}%)"]
    for g in result.graded:
        mark = "right" if g.is_correct else f"wrong (you chose {g.chosen}, correct {g.correct})"
        lines.append(f"{g.index + 1}. {mark}: {g.question}")
    if result.study_next:
        lines.append("Study next: " + ", ".join(result.study_next))
    return "\n".join(lines)
