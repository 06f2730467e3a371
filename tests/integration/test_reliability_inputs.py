"""Bad inputs through the app's input checks and the graph: nothing escapes, nothing is corrupted.

Every case goes the way the web app sends it: typed text through
:func:`agent.app.inputs.event_from_message`, button clicks through
:func:`agent.app.inputs.event_from_action`, then one graph turn (:class:`agent.graph.runner.Tutor`),
and every output through :mod:`agent.app.render`. Each case runs twice: in a thread with no quiz,
and mid-quiz (quiz B waiting at question 2, after quiz A was left unfinished, so A's buttons are
stale). Afterwards the thread must still be where it was, and finishing the quiz must score only
the valid answers.

No model (``TutorService(kb, lm=None)``): input handling and graph state are under test, not the
model, and the whole file runs in seconds.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/integration/test_reliability_inputs.py -q
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from agent.app import render
from agent.app.inputs import event_from_action, event_from_message
from agent.app.resources import build_reader
from agent.graph.events import ExplanationPiece, ExplanationStart, Output
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from schemas import LETTERS

THREAD = "bad-inputs"
SETTINGS = {"questions": 3, "difficulty": "medium"}
FAKE = SimpleNamespace(quiz_id="f" * 32, index=0, question=SimpleNamespace(answer="A"))  # buttons when no quiz exists
TRACE_MARKERS = ("Traceback", 'File "/', "RuntimeError", "ValidationError", "KeyError", "TypeError")


@dataclass(frozen=True)
class Case:
    """A typed message (``text``/``command``) or a click (``action`` + ``payload(ctx)``)."""

    id: str
    text: Any = None
    command: str | None = None
    action: str | None = None
    payload: Callable[[dict], Any] | None = None
    grades: bool = False  # a valid answer after all (mid-quiz only): counted in the score
    expect: tuple[str, ...] = field(default_factory=tuple)  # phrases one shown message must contain


def answer(ctx, **changes):
    q = ctx["current"]
    payload = {"quiz_id": q.quiz_id, "index": q.index, "letter": q.question.answer}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not DROP}


DROP = object()
BIG = "overfitting " * 8_600  # ~100 KB

CASES = [
    # ---------------------------------------------------------------- typed messages
    Case("empty", text="", expect=("Please type",)),
    Case("none", text=None, expect=("Please type",)),
    Case("whitespace", text="   \n\t  \r\n ", expect=("Please type",)),
    Case("100kb", text="a" * 100_000, expect=("characters long",)),
    Case("100kb-words", text=BIG, expect=("characters long",)),
    Case("2001-chars", text="b" * 2001, expect=("characters long",)),
    Case("control-chars", text="\x01\x02\x1b[31mwhat is overfitting?\x07\x7f"),
    Case("only-controls", text="\x00\x01\x1b\x7f\x0b", expect=("Please type",)),
    Case("nul-bytes", text="what\x00 is\x00 regularisation?\x00"),
    Case("lone-surrogate", text="what is \ud800 bias?"),
    Case("script-tag", text="<script>alert(1)</script>"),
    Case("img-onerror", text="<img src=x onerror=alert(1)> explain dropout"),
    Case("explain-script", text="/explain <script>alert('x')</script> overfitting"),
    Case("markdown-injection", text="[click](javascript:alert(1)) ![x](http://evil.example/x.png) **b** `c`\n# H1"),
    Case("markdown-table-html", text="| a | b |\n|---|---|\n| <b>x</b> | y |\n<details open>"),
    Case("emoji", text="🤖🧠 what is overfitting? 🔥🔥"),
    Case("rtl", text="ما هو التعلم الآلي؟ \u202eevil\u202c שלום"),
    Case("zero-width", text="\u200b\u200b\u200b\ufeff", expect=("Please type",)),
    Case("combining", text="Z̴̡̛a̷l̸g̶o̵ overfitting"),
    Case("unknown-topic", text="/quiz zyzzyva quokka weaving", expect=("zyzzyva",)),
    Case("unknown-command", text="/nope <b>x</b>", expect=("I don't know the command",)),
    Case("slash-only", text="/"),
    Case("letter-e", text="E"),
    Case("letters-many", text="A B C D"),
    Case("command-menu-junk", text="x", command="../../etc/passwd\x00"),
    Case("command-huge", text="", command="quiz" * 1000),
    Case("sql-ish", text="'; DROP TABLE checkpoints; --"),
    # ---------------------------------------------------------------- button clicks
    Case("unknown-action", action="delete_everything", payload=lambda ctx: {}, expect=("not valid",)),
    Case("payload-string", action="answer", payload=lambda ctx: "not json {", expect=("not valid",)),
    Case("payload-none", action="answer", payload=lambda ctx: None, expect=("not valid",)),
    Case("payload-list", action="answer", payload=lambda ctx: [ctx["current"].quiz_id, 0, "A"], expect=("not valid",)),
    Case("missing-letter", action="answer", payload=lambda ctx: answer(ctx, letter=DROP), expect=("not valid",)),
    Case("missing-index", action="answer", payload=lambda ctx: answer(ctx, index=DROP), expect=("not valid",)),
    Case("missing-quiz-id", action="answer", payload=lambda ctx: answer(ctx, quiz_id=DROP), expect=("not valid",)),
    Case("letter-e-button", action="answer", payload=lambda ctx: answer(ctx, letter="E"), expect=("not valid",)),
    Case("letter-lowercase", action="answer", payload=lambda ctx: answer(ctx, letter="a"), expect=("not valid",)),
    Case("letter-list", action="answer", payload=lambda ctx: answer(ctx, letter=["A"]), expect=("not valid",)),
    Case("index-negative", action="answer", payload=lambda ctx: answer(ctx, index=-1), expect=("not valid",)),
    Case("index-huge", action="answer", payload=lambda ctx: answer(ctx, index=10**12), expect=("not valid",)),
    Case("index-text", action="answer", payload=lambda ctx: answer(ctx, index="zero"), expect=("not valid",)),
    Case("index-float", action="answer", payload=lambda ctx: answer(ctx, index=0.5), expect=("not valid",)),
    Case("quiz-id-int", action="answer", payload=lambda ctx: answer(ctx, quiz_id=123), expect=("not valid",)),
    Case("quiz-id-huge", action="answer", payload=lambda ctx: answer(ctx, quiz_id="q" * 10_000), expect=("not valid",)),
    Case("quiz-id-object", action="answer", payload=lambda ctx: answer(ctx, quiz_id={"$ne": None}), expect=("not valid",)),
    Case("future-index", action="answer", payload=lambda ctx: answer(ctx, index=ctx["current"].index + 1)),
    Case("stale-quiz-button", action="answer",
         payload=lambda ctx: {"quiz_id": ctx["stale"].quiz_id, "index": ctx["stale"].index, "letter": "B"}),
    Case("forged-quiz-id", action="answer", payload=lambda ctx: answer(ctx, quiz_id="0" * 32)),
    Case("extra-fields", action="answer", payload=lambda ctx: answer(ctx, admin=True, score=99), grades=True),
    Case("quiz-on-topic-int", action="quiz_on", payload=lambda ctx: {"topic": 123}, expect=("not valid",)),
    Case("quiz-on-origin-dict", action="quiz_on", payload=lambda ctx: {"topic": "x", "origin": {"a": 1}},
         expect=("not valid",)),
    Case("quiz-on-unknown-topic", action="quiz_on", payload=lambda ctx: {"topic": "zyzzyva quokka weaving"},
         expect=("zyzzyva",)),
    Case("quiz-on-huge-topic", action="quiz_on", payload=lambda ctx: {"topic": "zz" * 50_000}),
    Case("retry-stale", action="retry", payload=lambda ctx: {"quiz_id": ctx["stale"].quiz_id, "origin": "x"}),
    Case("retry-quiz-id-list", action="retry", payload=lambda ctx: {"quiz_id": ["a"]}, expect=("not valid",)),
    Case("new-quiz-origin-huge", action="new_quiz", payload=lambda ctx: {"topic": "", "origin": "o" * 500},
         expect=("not valid",)),
]


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


def open_tutor(tmp_path, service, **kwargs):
    """The graph with the turn reader the app builds."""
    return Tutor.open(tmp_path / "g.sqlite", service, read_turn=build_reader(service), write_ahead=False, **kwargs)


def shown_text(out: Output) -> str:
    """What the student would see for one graph output (as :mod:`agent.app.main` renders it)."""
    if isinstance(out, ExplanationStart):
        return render.explanation_header(out)
    if isinstance(out, ExplanationPiece):
        return render.explanation_piece(out)
    shown = render.shown(out)
    pad = " ".join(shown.pad.letters) if shown.pad is not None else ""
    return shown.content + " ".join(b.label for b in shown.buttons) + pad


async def deliver(tutor: Tutor, case: Case, ctx: dict) -> tuple[list[Output], list[str]]:
    """The case as the app handles it: (graph outputs, texts shown). Any exception fails the test."""
    if case.action is None:
        event = event_from_message(case.text, case.command, SETTINGS)
    else:
        event = event_from_action(case.action, case.payload(ctx), SETTINGS)
    if isinstance(event, str):
        return [], ["⚠ " + render.model_text(event)]
    outputs = [out async for out in tutor.turn(THREAD, event)]
    return outputs, [shown_text(out) for out in outputs]


def check_shown(case: Case, texts: list[str]) -> None:
    assert texts, "the student got no reply at all"
    for text in texts:
        for marker in TRACE_MARKERS:
            assert marker not in text, f"{marker!r} shown to the student: {text[:300]!r}"
        # HTML is escaped wherever it is echoed (``&lt;`` or a markdown backslash escape).
        assert not re.search(r"(?<!\\)<(script|img)", text, re.IGNORECASE), text[:300]
    for phrase in case.expect:
        assert any(phrase in t for t in texts), (phrase, [t[:200] for t in texts])


async def finish(tutor: Tutor) -> dict:
    """Answer every waiting question correctly; returns the summary result."""
    outputs: list[Output] = []
    for _ in range(20):
        pending = await tutor.pending_question(THREAD)
        if pending is None:
            break
        event = event_from_action("answer", {"quiz_id": pending.quiz_id, "index": pending.index,
                                             "letter": pending.question.answer}, SETTINGS)
        outputs = [out async for out in tutor.turn(THREAD, event)]
    return next(o for o in outputs if o.kind == "summary").result


async def start_quiz(tutor: Tutor, topic: str) -> dict:
    event = event_from_message(f"/quiz {topic}", None, SETTINGS)
    outputs = [out async for out in tutor.turn(THREAD, event)]
    return next(o for o in outputs if o.kind == "question")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_with_no_quiz(service, tmp_path, case):
    async with open_tutor(tmp_path, service, seed=1) as tutor:
        outputs, texts = await deliver(tutor, case, {"current": FAKE, "stale": FAKE})
        check_shown(case, texts)
        assert (await tutor.state(THREAD)).get("quiz") is None  # no quiz appeared from bad input
        if case.action == "answer" or case.text in ("E", "A B C D"):
            assert not any(o.kind == "feedback" for o in outputs)
        # Not corrupted: a normal quiz still starts and scores 3/3.
        await start_quiz(tutor, "overfitting")
        assert (await finish(tutor)).score == 3


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_mid_quiz(service, tmp_path, case):
    async with open_tutor(tmp_path, service, seed=2) as tutor:
        stale = await start_quiz(tutor, "precision and recall")
        [_ async for _ in tutor.turn(THREAD, event_from_action("answer", {
            "quiz_id": stale.quiz_id, "index": 0, "letter": stale.question.answer}, SETTINGS))]
        stale = await tutor.pending_question(THREAD)  # quiz A, question 2: left unfinished below
        first = await start_quiz(tutor, "overfitting")
        wrong = next(letter for letter in LETTERS if letter != first.question.answer)
        [_ async for _ in tutor.turn(THREAD, event_from_action("answer", {
            "quiz_id": first.quiz_id, "index": 0, "letter": wrong}, SETTINGS))]
        current = await tutor.pending_question(THREAD)
        before = await tutor.state(THREAD)
        assert current.index == 1 and stale.quiz_id != current.quiz_id

        outputs, texts = await deliver(tutor, case, {"current": current, "stale": stale})
        check_shown(case, texts)
        after = await tutor.state(THREAD)
        assert after["quiz"].quiz_id == before["quiz"].quiz_id
        assert after["quiz"].questions[:2] == before["quiz"].questions[:2]
        if case.grades:
            assert after["quiz"].answers[:1] == before["quiz"].answers
            assert len(after["quiz"].answers) == 2 and after["quiz"].answers[1].is_correct
        else:
            assert after["quiz"].answers == before["quiz"].answers
            assert await tutor.pending_question(THREAD) == current  # the same question still waits
            assert not any(o.kind == "feedback" for o in outputs)
        # Only valid answers count: question 1 was missed, every later one is answered right.
        result = await finish(tutor)
        assert (result.score, result.total) == (2, 3)
        assert [g.index for g in result.graded] == [0, 1, 2]


async def test_double_click_and_replayed_click_grade_once(service, tmp_path):
    async with open_tutor(tmp_path, service, seed=3) as tutor:
        question = await start_quiz(tutor, "overfitting")
        right = {"quiz_id": question.quiz_id, "index": 0, "letter": question.question.answer}
        wrong = {**right, "letter": next(l for l in LETTERS if l != right["letter"])}

        async def click(payload):
            event = event_from_action("answer", payload, SETTINGS)
            return [out async for out in tutor.turn(THREAD, event)]

        both = await asyncio.gather(click(right), click(right))  # two clicks at once
        assert sum(o.kind == "feedback" for run in both for o in run) == 1
        assert any("already answered" in getattr(o, "text", "") for run in both for o in run)
        replay = await click(wrong)  # the same button later, with another letter
        assert not any(o.kind == "feedback" for o in replay)
        state = await tutor.state(THREAD)
        assert [a.chosen for a in state["quiz"].answers] == [right["letter"]]
        result = await finish(tutor)
        assert (result.score, result.total) == (3, 3)
