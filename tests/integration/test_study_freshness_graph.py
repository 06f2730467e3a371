"""Freshness through the chat graph: a student's repeat quiz on a topic asks facts they have not been asked.

Real graph and checkpointer, real study store on SQLite and (``postgres`` tier) on a real PostgreSQL
server (``fresh_database``, tests/conftest.py); template questions (``lm=None``): the store and the
planner are tested, not the model. Between the two quizzes the app "restarts": a new graph, a new
store object on the same database.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_study_freshness_graph.py -q
"""

from __future__ import annotations

import pytest

from agent.graph.events import AnswerClick, TextTurn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from agent.study.companion import StudyCompanion
from agent.study.facts import fact_id_of
from agent.study.store import StudyStore
from schemas import LETTERS
from schemas.turn import TurnRequest

TOPIC, COUNT = "kernel trick", 5  # a card of 12 facts: two quizzes of 5 fit in it


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    return str(tmp_path / "chat.sqlite") if request.param == "sqlite" else request.getfixturevalue("fresh_database")


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


def reader(text, options=None):
    return TurnRequest(intent="help")  # only commands and clicks are sent


async def take_quiz(service, database, graph_db, user, command=f"/quiz {TOPIC}", wrong_first=False):
    """One quiz in a freshly opened app (new graph, new store object); the facts of its questions."""
    store = StudyStore(database)
    study = StudyCompanion(store, service.kb)
    facts = []
    try:
        async with Tutor.open(graph_db, service, read_turn=reader, seed=3, study=study) as tutor:
            outputs = [o async for o in tutor.turn(f"{user}-thread", TextTurn(text=command, questions=COUNT),
                                                   user=user)]
            while shown := [o for o in outputs if o.kind == "question"]:
                q = shown[0]
                facts.append(fact_id_of(q.question))
                letter = next(x for x in LETTERS if x != q.question.answer) if wrong_first and q.index == 0 \
                    else q.question.answer
                click = AnswerClick(quiz_id=q.quiz_id, index=q.index, letter=letter)
                outputs = [o async for o in tutor.turn(f"{user}-thread", click, user=user)]
    finally:
        store.close()
    return facts


async def test_two_quizzes_in_a_row_share_no_fact_and_another_student_is_unaffected(service, database, tmp_path):
    graph_db = tmp_path / "graph.sqlite"
    first = await take_quiz(service, database, graph_db, "ada")
    second = await take_quiz(service, database, graph_db, "ada", wrong_first=True)
    assert len(first) == len(second) == COUNT
    assert set(first).isdisjoint(second)  # the pool (12 facts) allows it
    assert {f.split(".")[0] for f in first + second} == {"kernel-trick"}  # fresh facts, still on the concept
    assert await take_quiz(service, database, graph_db, "ben") == first  # ben was asked nothing
    retried = await take_quiz(service, database, graph_db, "ada", command="/retry")
    assert retried == second[:1]  # a retry re-asks on purpose: the missed fact again
