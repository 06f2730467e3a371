"""The tutor graph with the real embedded model (SmolLM2-135M): reading turns, streaming, planning.

The turn reader is the one the app builds (:func:`agent.app.resources.build_reader`). Issue 12's
acceptance sentence goes through the whole graph: it must start a 5-question hard quiz titled
"precision and recall" (the chat settings say 10, medium), and "I think it's B" mid-quiz is graded.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_graph_model.py -m model -q
"""

from __future__ import annotations

import pytest

from agent.app.resources import build_reader
from agent.graph.events import TextTurn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from schemas.turn import TurnRequest

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def service(embedded_lm, knowledge_base):
    return TutorService(knowledge_base, embedded_lm)


async def test_free_text_streams_an_explanation_then_the_issue_12_quiz(service, tmp_path):
    reader, read = build_reader(service), []

    def recorded(text, options=None):
        read.append(reader(text, options))
        return read[-1]

    async with Tutor.open(tmp_path / "graph.sqlite", service, read_turn=recorded, seed=1, write_ahead=False) as tutor:
        outputs = [o async for o in tutor.turn("t", TextTurn(text="Why does dropout reduce overfitting?"))]
        assert len(read) == 1 and isinstance(read[0], TurnRequest) and read[0].intent == "explain"
        pieces = [o.text for o in outputs if o.kind == "explanation_piece"]
        assert pieces and "".join(pieces).strip().endswith((".", "!", "?"))  # whole sentences, never cut
        assert outputs[-1].kind == "explanation_end" and outputs[-1].sources

        sentence = TextTurn(text="Can you test me on precision and recall? 5 questions, hard ones")
        outputs = [o async for o in tutor.turn("t", sentence)]  # settings: 10 questions, medium
        started = next(o for o in outputs if o.kind == "quiz_started")
        assert (started.topic, started.total, started.difficulty) == ("precision and recall", 5, "hard")
        question = outputs[-1]
        assert question.kind == "question" and (question.index, question.total) == (0, 5)

        outputs = [o async for o in tutor.turn("t", TextTurn(text="I think it's B"))]
        graded = next(o for o in outputs if o.kind == "feedback").graded
        assert (graded.index, graded.chosen) == (0, "B")
        question = outputs[-1]
        while question.kind == "question":
            outputs = [o async for o in tutor.turn("t", TextTurn(text=question.question.answer))]
            question = outputs[-1]
        assert question.kind == "summary" and question.result.total == 5
        assert question.result.score == (graded.correct == "B") + 4
        state = await tutor.state("t")
        assert state["last"].quiz.meta.model.startswith("SmolLM2") and state["last"].quiz.meta.difficulty == "hard"
