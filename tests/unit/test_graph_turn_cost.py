"""What an answer turn costs the server: one checkpoint read, no thread hand-off it does not need, each stored
record validated once (bench/answer_cpu.py measures the CPU; these tests pin the mechanisms).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_turn_cost.py -q
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time

import pytest
from langgraph.checkpoint.serde.jsonplus import EXT_PYDANTIC_V2

from agent.graph.checkpoint import RecordMemo, StateSerializer
from agent.graph.events import ActionClick, AnswerClick, TextTurn
from agent.graph.graph import build_graph, on_loop
from agent.graph.routing import route_intent, route_next, understand_directly, understand_turn
from agent.graph.runner import Tutor
from agent.graph.state import CHECKPOINTED, ActiveQuiz
from agent.quiz.service import TutorService
from schemas import MultipleChoiceQuestion, QuizMeta
from schemas.text import normalise
from schemas.turn import TurnRequest

QUESTION = MultipleChoiceQuestion(question="What is thing number 1?", options=["a", "b", "c", "d"], answer="C",
                                  concept="Things", source="card:things")


def _quiz(answers: int = 0) -> ActiveQuiz:
    meta = QuizMeta(quiz_id="q1", model="m", seed=1, requested=2)
    return ActiveQuiz(quiz_id="q1", topic="things", total=2, plan=None, meta=meta, questions=[QUESTION], started=1.0)


# ----------------------------------------------------------------------------- the checkpoint memo


def test_a_stored_record_is_validated_once_and_every_reader_gets_the_same_frozen_value():
    serde = StateSerializer()
    stored = serde.dumps_typed({"channel_values": {"quiz": _quiz(), "quizzes": 1}})
    calls = []
    memo = serde._unpack_ext_hook
    inner = memo.hook
    memo.hook = lambda code, data: calls.append(code) or inner(code, data)
    first = serde.loads_typed(stored)["channel_values"]
    second = serde.loads_typed(stored)["channel_values"]
    assert first["quiz"] == _quiz() and second["quiz"] is first["quiz"]
    assert calls == [EXT_PYDANTIC_V2]  # rebuilt (validated) by the first read only
    assert first is not second  # the containers LangGraph may change are fresh on every read


def test_the_memo_keeps_only_frozen_state_records_and_at_most_its_size():
    assert all(cls.model_config.get("frozen") for cls in CHECKPOINTED)  # what sharing one instance relies on
    rebuilt = iter(range(1000))
    memo = RecordMemo(lambda code, data: {"plain": next(rebuilt)}, size=2)
    assert memo(EXT_PYDANTIC_V2, b"x") != memo(EXT_PYDANTIC_V2, b"x")  # a plain dict (blocked class): never kept
    quizzes = iter([_quiz(), _quiz(), _quiz(), _quiz()])
    memo = RecordMemo(lambda code, data: next(quizzes), size=2)
    a, b, c = (memo(EXT_PYDANTIC_V2, key) for key in (b"a", b"b", b"c"))
    assert memo(EXT_PYDANTIC_V2, b"c") is c and memo(EXT_PYDANTIC_V2, b"b") is b
    assert memo(EXT_PYDANTIC_V2, b"a") is not a  # the oldest was dropped: rebuilt again


def test_langgraph_strict_mode_keeps_the_memo():
    widened = StateSerializer().with_msgpack_allowlist([("tests.example", "Thing")])
    assert isinstance(widened._unpack_ext_hook, RecordMemo)


def test_normalise_is_memoised_for_the_validators():
    MultipleChoiceQuestion.model_validate(QUESTION.model_dump())
    hits = normalise.cache_info().hits
    MultipleChoiceQuestion.model_validate(QUESTION.model_dump())
    assert normalise.cache_info().hits >= hits + 5  # the stem and four options, not recomputed
    assert normalise("  Over-fitting. ") == normalise("over fitting") == "over fitting"


# ------------------------------------------------------------------------ routers and understand


def test_routers_run_on_the_event_loop_with_their_literal_destinations():
    for router in (route_intent, route_next):
        route, destinations = on_loop(router)
        assert inspect.iscoroutinefunction(route) and route.__name__ == router.__name__
        assert "grade" in destinations if router is route_intent else "present_question" in destinations
        state = {"turn": TurnRequest(intent="answer", letter="A"), "quiz": None}
        assert asyncio.run(route(state)) == router(state)


@pytest.mark.parametrize("event, intent", [
    (AnswerClick(quiz_id="q1", index=0, letter="B"), "answer"),
    (TextTurn(text=" b. "), "answer"),
    (TextTurn(text="/quiz overfitting"), "quiz"),
    (TextTurn(text="   "), "help"),
    (ActionClick(action="retry"), "retry"),
])
def test_turns_that_need_no_reader_are_understood_directly(event, intent):
    direct = understand_directly(event)
    assert direct is not None and direct.turn.intent == intent
    assert understand_turn(event, lambda *a: pytest.fail("reader called"), None) == direct


def test_free_text_goes_to_the_reader():
    assert understand_directly(TextTurn(text="quiz me on dropout please")) is None
    read = understand_turn(TextTurn(text="quiz me on dropout"), lambda text, options: TurnRequest(intent="quiz"), None)
    assert read.turn.intent == "quiz" and read.message == "quiz me on dropout"


# ------------------------------------------------------------------------------------ the turn


async def test_an_answer_turn_reads_the_checkpoint_once_and_hands_only_the_saver_to_threads(knowledge_base, tmp_path,
                                                                                      monkeypatch):
    async with Tutor.open(tmp_path / "graph.sqlite", TutorService(knowledge_base, lm=None),
                          read_turn=lambda *a: pytest.fail("reader called"), seed=3) as tutor:
        outputs = [o async for o in tutor.turn("t", TextTurn(text="/quiz overfitting", questions=3))]
        first = outputs[-1]
        for _ in range(100):  # the write-ahead of questions 2 and 3 (worker threads)
            if tutor.cache.peek(("t", first.quiz_id, 2)):
                break
            await asyncio.sleep(0.05)
        handed = []
        loop = asyncio.get_running_loop()
        real = loop.run_in_executor
        monkeypatch.setattr(loop, "run_in_executor", lambda *a: handed.append(_called(a[1])) or real(*a))
        monkeypatch.setattr(tutor.graph, "aget_state", lambda *a, **k: pytest.fail("a second checkpoint read"))
        reads = []
        saver_read = tutor.graph.checkpointer.aget_tuple
        monkeypatch.setattr(tutor.graph.checkpointer, "aget_tuple", lambda config: reads.append(1) or saver_read(config))
        click = AnswerClick(quiz_id=first.quiz_id, index=0, letter=first.question.answer)
        outputs = [o async for o in tutor.turn("t", click)]
    assert [o.kind for o in outputs] == ["feedback", "question"] and outputs[0].graded.is_correct
    assert outputs[1].index == 1 and reads == [1]
    # The checkpoint's read and its writes at the end, one thread hand-off each (agent.graph.sqlite_saver); no
    # node or router went through the thread pool.
    assert handed == ["get_tuple", "put", "put_writes"]


def _called(function) -> str:
    """The name of what ``run_in_executor`` got (``asyncio.to_thread`` wraps it in a context's run)."""
    inner = function.args[0] if isinstance(function, functools.partial) else function
    return getattr(inner, "__name__", repr(inner))


# ------------------------------------------------------------------------------ study writes


class SlowStudy:
    """A study companion whose writes take a while (one fails); records when each finished."""

    def __init__(self, delay: float = 0.3):
        self.delay, self.done, self.clock = delay, [], None

    def on(self, kb):
        return self

    def record_asked(self, user, quiz_id, question):
        time.sleep(self.delay)
        self.done.append(("asked", time.monotonic()))

    def record_answer(self, user, quiz_id, question, graded, retry=False):
        time.sleep(self.delay)
        self.done.append(("answer", time.monotonic()))
        raise RuntimeError("the disk is full")  # logged; the quiz goes on

    def asked(self, user):
        return {}


async def test_study_writes_do_not_hold_up_the_next_question_and_end_with_the_turn(knowledge_base, tmp_path,
                                                                                   caplog):
    study = SlowStudy()
    async with Tutor.open(tmp_path / "graph.sqlite", TutorService(knowledge_base, lm=None), study=study,
                          read_turn=lambda *a: pytest.fail("reader called"), seed=3) as tutor:
        first = [o async for o in tutor.turn("t", TextTurn(text="/quiz overfitting", questions=3), user="ada")][-1]
        assert [kind for kind, _ in study.done] == ["asked"]  # the turn waited for its write
        study.done.clear()
        shown_at = None
        async for out in tutor.turn("t", AnswerClick(quiz_id=first.quiz_id, index=0, letter="A"), user="ada"):
            if out.kind == "question":
                shown_at = time.monotonic()
                assert study.done == []  # shown while the answer and the asked question are still being written
        ended_at = time.monotonic()
    assert sorted(kind for kind, _ in study.done) == ["answer", "asked"]
    assert all(shown_at < when <= ended_at for _, when in study.done)
    assert "recording answer 1 of quiz" in caplog.text and "the disk is full" in caplog.text


def test_the_writers_of_one_sqlite_file_share_one_lock(tmp_path):
    from common.sync_database import sqlite_write_lock
    from common.sync_database import SyncDatabase

    assert sqlite_write_lock(tmp_path / "a.sqlite") is sqlite_write_lock(tmp_path / "." / "a.sqlite")
    assert sqlite_write_lock(tmp_path / "a.sqlite") is not sqlite_write_lock(tmp_path / "b.sqlite")
    db = SyncDatabase.open(tmp_path / "a.sqlite")
    db.setup("CREATE TABLE t (x INTEGER);")
    wrote = threading.Event()

    def write():
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES (1)")
        wrote.set()

    with sqlite_write_lock(tmp_path / "a.sqlite"):
        threading.Thread(target=write).start()
        assert not wrote.wait(0.3)  # queued behind the lock, not in SQLite's busy handler
    assert wrote.wait(5) and db.rows("SELECT x FROM t") == [{"x": 1}]


async def test_the_sqlite_saver_answers_every_async_call_from_a_worker_thread(tmp_path):
    from agent.graph.checkpoint import open_saver

    async with open_saver(tmp_path / "graph.sqlite") as saver:
        graph = build_graph(saver)
        config = {"configurable": {"thread_id": "t"}}
        await graph.aupdate_state(config, {"quizzes": 2, "quiz": _quiz()}, as_node="show_help")
        state = await graph.aget_state(config)
        history = [snapshot async for snapshot in graph.aget_state_history(config)]
        await saver.adelete_thread("t")
        assert state.values["quiz"] == _quiz() and state.values["quizzes"] == 2 and len(history) >= 1
        assert (await graph.aget_state(config)).values == {}
