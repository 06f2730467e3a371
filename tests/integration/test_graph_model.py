"""The tutor graph with the real embedded model (SmolLM2-135M): classification, streaming, planning.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_graph_model.py -m model -q
"""

from __future__ import annotations

import pytest

from agent.graph.classify import model_classifier
from agent.graph.routing import CLASSIFIED
from agent.graph.runner import Tutor
from agent.graph.state import Event
from agent.quiz.service import TutorService

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def service(embedded_lm, knowledge_base):
    return TutorService(knowledge_base, embedded_lm)


async def test_free_text_streams_an_explanation_then_a_short_quiz(service, tmp_path):
    classify, labels = model_classifier(service), []

    def recorded(text: str) -> str:
        labels.append(classify(text))
        return labels[-1]

    async with Tutor.open(tmp_path / "graph.sqlite", service, classify=recorded, seed=1) as tutor:
        outputs = [o async for o in tutor.turn("t", Event(kind="text", text="Why does dropout reduce overfitting?"))]
        assert len(labels) == 1 and labels[0] in CLASSIFIED  # the model answered under the Literal constraint
        pieces = [o["text"] for o in outputs if o["kind"] == "explanation_piece"]
        assert len(pieces) > 5 and "".join(pieces).strip()  # streamed piece by piece, not in one block
        assert outputs[-1]["kind"] == "explanation_end" and outputs[-1]["sources"]

        outputs = [o async for o in tutor.turn("t", Event(kind="text", text="/quiz dropout", questions=2))]
        question = outputs[-1]
        assert question["kind"] == "question" and question["total"] == 2
        for _ in range(2):
            event = Event(kind="answer", quiz_id=question["quiz_id"], index=question["index"],
                          letter=question["question"]["answer"])
            outputs = [o async for o in tutor.turn("t", event)]
            question = outputs[-1]
        assert question["kind"] == "summary" and question["result"]["score"] == 2
        state = await tutor.state("t")
        assert state["last"]["quiz"]["meta"]["model"].startswith("SmolLM2")
