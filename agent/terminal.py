"""A quiz in the terminal, one question at a time: ``tutor quiz --interactive`` and ``tutor review``.

    tutor quiz --topic overfitting --questions 5 --interactive
    printf 'A\\nrunning averages\\n' | tutor quiz --topic "batch normalisation" --questions 2 --interactive

Each answer is a letter A-D or the words of one option; grading is the web app's (agent.grading),
the feedback says the same things (right/wrong, the correct option, the explanation, the source,
the running score), and every answer is recorded in the study history (agent.study), so
``tutor progress`` and ``tutor review`` see it; each question shown is recorded as asked, so the
student's next quiz on the topic avoids its fact. Questions are written one at a time, as in the app.
End of input stops the quiz; the answers given so far are kept.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from agent.grading import grade, summarise
from agent.quiz.planning import QuizUnavailable
from agent.render import result_as_text
from agent.study.companion import StudyCompanion
from schemas import LETTERS, GradedAnswer, MultipleChoiceQuestion, Quiz, QuizPlan, QuizResult, StudentAnswer
from schemas.text import normalise

PROMPT = "Your answer (A-D, or the option's words):"
_LETTER = re.compile(r"^\s*\(?([abcd])\s*[).:]?\s*$", re.IGNORECASE)


def parse_answer(text: str, options: Sequence[str]) -> str | None:
    """The letter ``text`` names: "b", "B)", the option's text, or words found in one option only."""
    match = _LETTER.match(text)
    if match:
        return match.group(1).upper()
    said = normalise(text)
    if not said:
        return None
    wanted = [normalise(o) for o in options]
    if said in wanted:
        return LETTERS[wanted.index(said)]
    if len(said) < 3:
        return None
    containing = [i for i, o in enumerate(wanted) if f" {said} " in f" {o} "]
    return LETTERS[containing[0]] if len(containing) == 1 else None


def question_text(q: MultipleChoiceQuestion, index: int, total: int, topic: str, retry: bool = False) -> str:
    kind = "Retry question" if retry else "Question"
    lines = [f"{kind} {index + 1} of {total} · {topic}", q.question]
    lines.extend(f"  {letter}. {option}" for letter, option in zip(LETTERS, q.options))
    return "\n".join(lines)


def feedback_text(g: GradedAnswer, total: int, score: int, source_title: str = "") -> str:
    """What the web app's feedback message says (agent.app.render.feedback), as plain text."""
    if g.is_correct:
        lines = [f"✓ Correct! {g.correct}. {g.correct_option}"]
    else:
        lines = [f"✗ Not quite. You chose {g.chosen}. {g.chosen_option}",
                 f"The correct answer is {g.correct}. {g.correct_option}"]
    if g.explanation:
        lines.append(g.explanation)
    footer = f"Question {g.index + 1} of {total} · score {score}/{g.index + 1}"
    lines.append(footer + (f" · source: {source_title}" if source_title else ""))
    return "\n".join(lines)


def source_title(kb, key: str | None) -> str:
    """A card's title for ``card:<id>``, the note's path for ``note:...`` (as the app shows it)."""
    if not key:
        return ""
    card = kb.cards.get(key.removeprefix("card:"))
    if card is not None:
        return card.title
    chunk = kb.chunks.get(key)
    return f"your notes: {chunk.path}" if chunk is not None else key


def run_quiz(
    service, plan: QuizPlan, companion: StudyCompanion, user: str, stdin: TextIO, stdout: TextIO, retry: bool = False
) -> QuizResult | None:
    """Ask ``plan`` one question at a time; grade, show feedback and record each answer; the result or None."""
    questions: list[MultipleChoiceQuestion] = []
    graded: list[GradedAnswer] = []
    total = len(plan.items)
    for index in range(total):
        try:
            written = service.write_question(plan, index, questions).question
        except QuizUnavailable as exc:  # as in the app: the quiz ends with the questions written so far
            stdout.write(f"\n{exc} The quiz ends after {index} question{'' if index == 1 else 's'}.\n")
            break
        questions.append(written)
        companion.record_asked(user, plan.meta.quiz_id, written)
        quiz = Quiz(topic=plan.topic, questions=questions, meta=plan.meta)
        stdout.write("\n" + question_text(written, index, total, plan.topic, retry) + "\n")
        letter = _read_letter(written, stdin, stdout)
        if letter is None:
            stdout.write("\n(input ended: the quiz stops here; your answers so far are saved)\n")
            questions.pop()
            break
        g = grade(quiz, StudentAnswer(quiz_id=plan.meta.quiz_id, index=index, letter=letter))
        graded.append(g)
        companion.record_answer(user, plan.meta.quiz_id, written, g, retry=retry)
        score = sum(a.is_correct for a in graded)
        stdout.write(feedback_text(g, total, score, source_title(service.kb, g.source)) + "\n")
        stdout.flush()
    if not graded:
        return None
    final = Quiz(topic=plan.topic, questions=questions, meta=plan.meta)
    result = summarise(final, graded)
    companion.record_quiz(user, final, result)
    stdout.write("\n" + result_as_text(result) + "\n")
    note = companion.review_note(user)
    if note:
        stdout.write(note + "\n")
    stdout.flush()
    return result


def default_user() -> str:
    """The web app's user in open mode (``TUTOR_USERNAME``, else the app's default user)."""
    from agent.app.settings import AppSettings

    return AppSettings.from_env().username


def open_companion(kb, database: str | Path | None = None) -> StudyCompanion:
    """The study memory in the chat database (``TUTOR_DATABASE_URL``, else ``<TUTOR_DATA_DIR>/chat.sqlite``)."""
    if database is None:
        from agent.settings import Settings

        database = Settings.from_env().chat_database
    return StudyCompanion.open(database, kb)


def quiz_in_terminal(service, plan: QuizPlan, user: str | None = None, retry: bool = False,
                     companion: StudyCompanion | None = None) -> int:
    """``tutor quiz --interactive`` / ``tutor review``: ask on stdin/stdout; exit status 0, or 1 with no answer."""
    companion = companion or open_companion(service.kb)
    result = run_quiz(service, plan, companion, user or default_user(), sys.stdin, sys.stdout, retry)
    return 0 if result is not None else 1


def _read_letter(q: MultipleChoiceQuestion, stdin: TextIO, stdout: TextIO) -> str | None:
    while True:
        stdout.write(PROMPT + "\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return None
        letter = parse_answer(line, q.options)
        if letter is not None:
            return letter
        stdout.write("Please answer with a letter A-D or the words of one option.\n")
