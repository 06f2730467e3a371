"""What one simulated student saw, and what is wrong with it (pure: no Chainlit, no browser).

Both kinds of student turn what the chat showed into the same text lines (a browser reads the
page; a socket client strips the markdown of each message), so one check serves both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

TOPICS = [
    "overfitting", "precision and recall", "bias-variance trade-off", "dropout", "regularisation",
    "gradient descent", "learning rate", "cross-validation", "decision trees", "random forests",
    "k-means clustering", "logistic regression", "linear regression", "batch normalization",
    "activation functions", "backpropagation", "support vector machines", "principal component analysis",
    "word embeddings", "naive bayes",
]
# Free-text requests, varied so the turn reader (not a slash command) decides topic and count.
REQUESTS = [
    "quiz me on {topic}, {n} questions",
    "Can you test me on {topic}? {n} questions please",
    "I'd like a quiz about {topic} with {n} questions",
    "give me {n} questions on {topic}",
]
ERROR_PHRASES = ("Traceback", "something went wrong", "could not be loaded", "not valid any more")
# "**Question 2 of 3** · topic" heads a question; "Question 2 of 3 · score 1/2 · source: ..." is feedback.
QUESTION_LINE = re.compile(r"^(?:Retry )?Question (\d+) of (\d+) · (?!score \d)(.+)$")
SUMMARY = re.compile(r"Quiz complete: \d+ / (\d+)")
_ESCAPE = re.compile(r"\\(.)")


def request_text(index: int, topic: str, questions: int) -> str:
    """The ``index``-th student's typed request for a ``questions``-question quiz on ``topic``."""
    return REQUESTS[index % len(REQUESTS)].format(topic=topic, n=questions)


def plain(markdown: str) -> str:
    """A message's markdown as the page shows its text: no ``**``/``_`` emphasis, no backslash escapes."""
    lines = []
    for line in markdown.splitlines():
        line = line.replace("**", "").strip()
        if len(line) > 1 and line[0] == line[-1] == "_":
            line = line[1:-1]
        lines.append(_ESCAPE.sub(r"\1", line))
    return "\n".join(lines)


@dataclass
class Record:
    """One student's session: timings and what the chat showed."""

    topic: str
    request: str
    answer_by: str  # "click" (the answer button) or "letter" (typed)
    quiz_to_first_question_s: float | None = None
    answer_to_next_s: list[float] = field(default_factory=list)
    answer_to_summary_s: float | None = None
    errors: list[str] = field(default_factory=list)
    text: str = ""  # everything the chat showed, as plain lines
    refused_clicks: int = 0  # answers the app visibly refused (shown as such): counted, never retried
    diagnostics: dict = field(default_factory=dict)

    def parse(self, questions: int) -> dict:
        """Question lines, feedback lines, summaries and quiz starts in what the chat showed."""
        lines = [line.strip() for line in self.text.splitlines()]
        question_lines = [m.group(0) for line in lines if (m := QUESTION_LINE.match(line))]
        return {
            "question_lines": question_lines,
            "feedback_lines": len(re.findall(rf"Question \d+ of {questions} · score \d+/\d+", self.text)),
            "summaries": len(SUMMARY.findall(self.text)),
            "starts": sum(1 for line in question_lines if line.startswith("Question 1 of")),
        }

    def problems(self, questions: int) -> list[str]:
        """What is wrong with this session's view (empty when nothing is)."""
        problems = list(self.errors) + [f"page shows {p!r}" for p in ERROR_PHRASES if p in self.text]
        seen = self.parse(questions)
        for line in seen["question_lines"]:
            _, total, topic = QUESTION_LINE.match(line).groups()
            if int(total) != questions or topic.casefold() != self.topic.casefold():
                problems.append(f"foreign question line: {line!r}")
        if not self.errors:
            if seen["starts"] != 1 or seen["summaries"] != 1:
                problems.append(f"starts={seen['starts']} summaries={seen['summaries']}")
            if len(seen["question_lines"]) != questions:
                problems.append(f"{len(seen['question_lines'])} questions shown for a {questions}-question quiz")
            if seen["feedback_lines"] != questions:
                problems.append(f"{seen['feedback_lines']} feedback lines for {questions} answers")
        return problems

    def as_json(self, questions: int) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "text"}
        out.update(self.parse(questions))
        return out


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    """n, p50, p95 and max of a list of seconds (rounded to ms)."""
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return {"n": len(values), "p50": r(percentile(values, 50)), "p95": r(percentile(values, 95)),
            "max": r(max(values, default=None))}
