"""PostgreSQL as the store: chat history, accounts, graph checkpoints and study memory on a real server
(``postgres`` tier).

The server comes from Debian's ``postgresql`` package, started by the ``postgres_url`` fixture
(tests/conftest.py); each test gets its own empty database. No model: the tutor service writes
template questions (``lm=None``), since what is tested is the store, not the model.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_store_postgres.py -q
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="chainlit-root-"))

import pytest  # noqa: E402
from chainlit.context import init_http_context  # noqa: E402
from chainlit.user import User  # noqa: E402

from agent.app.accounts import Accounts, account_names  # noqa: E402
from agent.app.auth import graph_thread_id  # noqa: E402
from agent.app.data_layer import ChatDataLayer, ThreadOwnerError  # noqa: E402

pytestmark = pytest.mark.postgres


def _unit_tests():
    """The SQLite data layer's unit tests, to run the same checks on PostgreSQL."""
    path = Path(__file__).parents[1] / "unit" / "test_app_data_layer.py"
    spec = importlib.util.spec_from_file_location("data_layer_unit_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_UNIT = _unit_tests()
test_list_threads_pages_searches_and_filters_feedback = _UNIT.test_list_threads_pages_searches_and_filters_feedback
test_concurrent_first_steps_of_a_new_thread = _UNIT.test_concurrent_first_steps_of_a_new_thread


@pytest.fixture
async def layer(fresh_database):
    init_http_context()
    layer = ChatDataLayer(fresh_database)
    yield layer
    await layer.close()


async def test_chat_history_round_trip_and_owners(layer, fresh_database):
    ada = await layer.create_user(User(identifier="ada", metadata={"mode": "password"}))
    bob = await layer.create_user(User(identifier="bob"))
    await layer.update_thread("t1", name="/quiz trees", user_id=ada.id, tags=["x"])
    step = _UNIT._step
    await layer.create_step(step("t1", 1, "first"))
    await layer.create_step(step("t1", 1, "same time, second").__or__({"id": "s1b-t1"}))
    await layer.update_step(step("t1", 1, "first, edited", metadata={"favorite": True}))
    thread = await layer.get_thread("t1")
    assert (thread["name"], thread["userIdentifier"], thread["tags"]) == ("/quiz trees", "ada", ["x"])
    # Equal timestamps keep their insertion order (PostgreSQL has no rowid: the "seq" column).
    assert [s["output"] for s in thread["steps"]] == ["first, edited", "same time, second"]
    assert thread["steps"][0]["metadata"] == {"favorite": True}
    await layer.update_thread("t1", metadata={"chat_settings": {"questions": 3}, "keep": 1})
    await layer.update_thread("t1", metadata={"keep": None})
    assert (await layer.get_thread("t1"))["metadata"] == {"chat_settings": {"questions": 3}}
    with pytest.raises(ThreadOwnerError):
        await layer.update_thread("t1", user_id=bob.id)
    assert await layer.get_thread_author("t1") == "ada"
    accounts = Accounts(fresh_database)  # the accounts live in the same database
    await accounts.add("ada", "correct horse")
    assert await accounts.verify("ada", "correct horse") and not await accounts.verify("ada", "wrong one")
    await accounts.close()
    assert account_names(fresh_database) == ["ada"]


async def test_checkpointer_round_trip(fresh_database):
    from agent.graph.events import AnswerClick, TextTurn
    from agent.graph.runner import Tutor
    from agent.quiz.service import TutorService
    from knowledge.base import KnowledgeBase
    from schemas.turn import TurnRequest

    service = TutorService(KnowledgeBase.load(), lm=None)
    reader = lambda text, options=None: TurnRequest(intent="help")  # noqa: E731 - only commands and clicks
    ada, bob = graph_thread_id("ada", "chat-1"), graph_thread_id("bob", "chat-1")
    async with Tutor.open(fresh_database, service, read_turn=reader, seed=3, write_ahead=False) as tutor:
        shown = [o async for o in tutor.turn(ada, TextTurn(text="/quiz overfitting", questions=3))]
        first = next(o for o in shown if o.kind == "question")
        wrong = next(letter for letter in "ABCD" if letter != first.question.answer)
        outputs = [o async for o in tutor.turn(ada, AnswerClick(quiz_id=first.quiz_id, index=0, letter=wrong))]
        assert [o.graded.is_correct for o in outputs if o.kind == "feedback"] == [False]
    async with Tutor.open(fresh_database, service, read_turn=reader, write_ahead=False) as tutor:  # a restart
        pending = await tutor.pending_question(ada)
        assert (pending.quiz_id, pending.index, pending.total) == (first.quiz_id, 1, 3)
        quiz = (await tutor.state(ada))["quiz"]
        assert [(a.index, a.chosen) for a in quiz.answers] == [(0, wrong)]
        assert quiz.questions[0] == first.question
        # Another student naming the same chat thread reaches a graph thread of their own.
        assert await tutor.pending_question(bob) is None and (await tutor.state(bob)).get("quiz") is None


def test_study_store_round_trip_in_insertion_order(fresh_database):
    """The study memory lives in the same database: answers in order at equal times, schedules, asked facts."""
    from datetime import datetime, timezone

    from agent.grading import grade
    from agent.quiz.service import TutorService
    from agent.study.clock import Clock
    from agent.study.companion import StudyCompanion
    from agent.study.facts import fact_id_of
    from agent.study.store import StudyStore
    from knowledge.base import KnowledgeBase
    from schemas import StudentAnswer

    now = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    service = TutorService(KnowledgeBase.load(), lm=None)
    quiz = service.generate_quiz("overfitting", 4, seed=3)
    store = StudyStore(fresh_database)
    companion = StudyCompanion(store, service.kb, Clock(fixed=now))  # one time for every answer: order by "seq"
    graded = [grade(quiz, StudentAnswer(quiz_id=quiz.meta.quiz_id, index=i, letter=q.answer))
              for i, q in enumerate(quiz.questions)]
    for q, g in zip(quiz.questions, graded):
        assert companion.record_answer("ada", quiz.meta.quiz_id, q, g) is not None
    assert companion.record_answer("ada", quiz.meta.quiz_id, quiz.questions[0], graded[0]) is None  # stored once
    store.close()
    again = StudyStore(fresh_database)  # a new store object (another instance) reads the same rows
    assert [a.graded.index for a in again.answers("ada")] == [0, 1, 2, 3]
    assert {m.ref.fact_id for m in again.memories("ada")} == {fact_id_of(q) for q in quiz.questions}
    assert set(again.asked("ada")) == {fact_id_of(q) for q in quiz.questions} and again.asked("bob") == {}
    assert again.users() == ["ada"]
    again.close()


async def test_a_second_instance_sets_up_while_the_first_writes(fresh_database):
    """Instances starting beside a running one: their table setup never deadlocks with its writes.

    Each write creates a thread and a step (two indexed tables); each setup re-runs the CREATE INDEX
    statements, which lock their tables even when the index exists."""
    import asyncio

    from agent.study.store import StudyStore

    init_http_context()
    first = ChatDataLayer(fresh_database)
    await first.create_step(_UNIT._step("warm", 0, "tables made"))

    async def start_another() -> None:
        other = ChatDataLayer(fresh_database)
        await other.get_thread("warm")  # its first call sets up the tables again
        await other.close()
        await asyncio.to_thread(lambda: StudyStore(fresh_database).close())

    writes = [first.create_step(_UNIT._step(f"t{n}", 1, f"new thread {n}")) for n in range(30)]
    await asyncio.wait_for(asyncio.gather(*writes, *(start_another() for _ in range(6))), timeout=60)
    threads = [await first.get_thread(f"t{n}") for n in range(30)]
    assert [len(thread["steps"]) for thread in threads] == [1] * 30
    await first.close()
