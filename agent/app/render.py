"""What the student sees: the graph's typed output events -> markdown text and buttons (pure; no Chainlit).

:func:`shown` renders any complete event by its type (one table, :data:`RENDERERS`); the
streamed explanation's pieces are rendered by :func:`explanation_header`, :func:`model_text` and
:func:`explanation_footer` as they arrive.

All text that comes from a model, a student or a card is neutralised before it is shown:
:func:`literal` backslash-escapes markdown and HTML punctuation (question and option text must
read exactly as written); :func:`model_text` escapes ``< > &`` only (explanations may use
markdown, never HTML). Chainlit's ``unsafe_allow_html = false`` is the second line of defence.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from agent.graph.events import (
    ExplanationEnd, ExplanationPiece, ExplanationStart, Feedback, FileOffer, Help, Notice, Output, ProgressReport,
    QuestionShown, QuizStarted, Summary,
)
from agent.study.companion import REVIEW_TOPIC
from schemas import LETTERS
from schemas.text import strip_control

_MARKDOWN_PUNCTUATION = set("\\`*_{}[]()<>#+-.!|~&$")


@dataclass(frozen=True)
class Button:
    name: str  # the action callback ("answer", "quiz_on", "new_quiz", "retry", "review")
    label: str
    payload: dict[str, Any]
    tooltip: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file shown with a message: ``image`` inline (the progress picture), ``file`` as a download link."""

    display: str  # "image" or "file"
    name: str
    mime: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class AnswerPad:
    """The answer buttons A-D of one question (the ``AnswerPad`` custom element, ``agent/app/elements/``)."""

    quiz_id: str
    index: int
    total: int
    tooltips: list[str]
    letters: list[str] = field(default_factory=lambda: list(LETTERS))
    answered: str | None = None  # the letter graded for this question, once it is

    def props(self) -> dict[str, Any]:
        return {"quiz_id": self.quiz_id, "index": self.index, "total": self.total, "letters": self.letters,
                "tooltips": self.tooltips, "answered": self.answered}


@dataclass(frozen=True)
class Shown:
    """One chat message: markdown content, its buttons, its answer pad and its attached files."""

    content: str
    buttons: list[Button] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    pad: AnswerPad | None = None


def literal(text: str) -> str:
    """``text`` shown exactly as written: markdown/HTML punctuation escaped, control characters gone."""
    cleaned = " ".join(strip_control(text).split())
    return "".join("\\" + ch if ch in _MARKDOWN_PUNCTUATION else ch for ch in cleaned)


def model_text(text: str) -> str:
    """Model or free text shown as markdown without HTML (``<script>`` appears as text)."""
    return html.escape(strip_control(text), quote=False)


# ---------------------------------------------------------------------------------- quizzes


def question(event: QuestionShown, resumed: bool = False) -> Shown:
    """One question, its progress line and its answer pad (buttons A-D)."""
    q = event.question
    kind = "Retry question" if event.retry else "Question"
    lines = []
    if resumed:
        lines.append("_Welcome back: your quiz continues where you left it._\n")
    concept = f" · {literal(q.concept)}" if event.topic == REVIEW_TOPIC else ""  # a review spans concepts
    lines.append(f"**{kind} {event.index + 1} of {event.total}** · {literal(event.topic)}{concept}\n")
    lines.append(f"### {literal(q.question)}\n")
    lines.extend(f"- **{letter}.** {literal(option)}" for letter, option in zip(LETTERS, q.options))
    pad = AnswerPad(event.quiz_id, event.index, event.total, [option[:120] for option in q.options])
    return Shown("\n".join(lines), pad=pad)


def quiz_started(event: QuizStarted) -> Shown:
    what = "Retrying the questions you missed" if event.retry else "Quiz"
    return Shown(
        f"**{what}: {literal(event.topic)}** · {event.total} questions · {event.difficulty}\n\n"
        + (f"{literal(event.note)}\n\n" if event.note else "")
        + "Click A-D (or type the letter) to answer."
    )


def feedback(event: Feedback) -> Shown:
    """Right or wrong, the correct option, the explanation and its source, the running score."""
    g = event.graded
    number = g.index + 1
    if g.is_correct:
        head = f"✓ **Correct!** {g.correct}. {literal(g.correct_option)}"
    else:
        head = (
            f"✗ **Not quite.** You chose {g.chosen}. {literal(g.chosen_option)}\n\n"
            f"The correct answer is **{g.correct}. {literal(g.correct_option)}**"
        )
    parts = [head]
    if g.explanation:
        parts.append(literal(g.explanation))
    if g.feedback:
        parts.append(model_text(g.feedback))
    footer = f"Question {number} of {event.total} · score {event.score}/{number}"
    if event.source_title:
        footer += f" · source: {literal(event.source_title)}"
    parts.append(f"_{footer}_")
    return Shown("\n\n".join(parts))


def summary(event: Summary) -> Shown:
    """Final score, a review of missed questions, concepts to revisit; New quiz / Retry buttons."""
    r = event.result
    percent = round(100 * r.score / r.total)
    lines = [f"## Quiz complete: {r.score} / {r.total} ({percent}%)", f"Topic: {literal(r.topic)}"]
    missed = [g for g in r.graded if not g.is_correct]
    if missed:
        lines.append("\n### Review of missed questions")
        for g in missed:
            lines.append(
                f"\n**{g.index + 1}\\. {literal(g.question)}** You chose {g.chosen} "
                f"({literal(g.chosen_option)}); the answer is **{g.correct}. {literal(g.correct_option)}**. "
                f"_{literal(g.explanation)}_"
            )
        lines.append("\n**Concepts to revisit:** " + ", ".join(literal(c) for c in r.missed_concepts))
        if r.study_next:
            lines.append("\n**Study next:** " + ", ".join(literal(c) for c in r.study_next))
    else:
        lines.append("\nEvery answer was right. Well done!")
    if event.review_note:
        lines.append(f"\n**Review:** {literal(event.review_note)}. `/review` brings due facts back; "
                     "`/progress` shows the whole picture.")
    if event.review:
        buttons = [Button("review", "Review due facts", {"origin": f"{r.quiz_id}:review"},
                          tooltip="A quiz of the facts due now")]
    else:
        buttons = [Button("new_quiz", "New quiz", {"topic": r.topic, "origin": f"{r.quiz_id}:new"},
                          tooltip="Fresh questions on this topic")]
    if missed:
        buttons.append(Button("retry", "Retry missed questions",
                              {"quiz_id": r.quiz_id, "origin": f"{r.quiz_id}:retry"}))
    return Shown("\n".join(lines), buttons)


# ----------------------------------------------------------------------------- explanations


def explanation_header(event: ExplanationStart) -> str:
    return f"**{literal(event.question[:200])}**\n\n"


def explanation_piece(event: ExplanationPiece) -> str:
    return model_text(event.text)


def explanation_footer(event: ExplanationEnd) -> Shown:
    """Key facts and sources after a streamed explanation, plus "Quiz me on this"."""
    parts = []
    if event.key_facts:
        parts.append("**Key facts**\n" + "\n".join(f"- {literal(f)}" for f in event.key_facts))
    if event.sources:
        parts.append("_Sources: " + ", ".join(literal(s) for s in event.sources) + "_")
    else:
        parts.append("_I found nothing on this in my notes, so this answer is not grounded: check it._")
    buttons = []
    if event.topic:
        buttons.append(Button("quiz_on", "Quiz me on this", {"topic": event.topic, "origin": event.origin},
                              tooltip=f"A quiz on {event.topic}"[:120]))
    return Shown("\n\n" + "\n\n".join(parts), buttons)


def notice(event: Notice) -> Shown:
    prefix = "⚠ " if event.level in ("warning", "error") else ""
    return Shown(prefix + model_text(event.text))


def progress(event: ProgressReport) -> Shown:
    """The progress report's numbers (as ``tutor progress`` prints them) and its picture inline."""
    text = event.text.replace("`", "'")  # inside a code block: card titles and dates, shown verbatim
    return Shown(f"## Your progress\n\n```text\n{text}\n```",
                 attachments=[Attachment("image", "progress.png", "image/png", event.png)])


def file_offer(event: FileOffer) -> Shown:
    """A download: what it is, and the file as a link."""
    hint = " (import it in Anki: File > Import)" if event.filename.endswith(".apkg") else ""
    return Shown(f"**Download:** {literal(event.label)}{hint}",
                 attachments=[Attachment("file", event.filename, event.mime, event.data)])


def help_text(event: Help) -> Shown:
    return Shown(event.text)  # written by us (agent.graph.replies), markdown on purpose


RENDERERS = {
    QuestionShown: question, QuizStarted: quiz_started, Feedback: feedback, Summary: summary,
    ExplanationEnd: explanation_footer, Notice: notice, Help: help_text, ProgressReport: progress,
    FileOffer: file_offer,
    ExplanationStart: lambda e: Shown(explanation_header(e)), ExplanationPiece: lambda e: Shown(explanation_piece(e)),
}


def shown(event: Output) -> Shown:
    """Any output event as one message (the app streams explanations piece by piece instead)."""
    return RENDERERS[type(event)](event)
