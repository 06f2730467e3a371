"""How the reader combines a model reading with the rules, with a scripted stand-in for the model (logic only;
the real model is in tests/integration/test_turn_reader_model.py), and the evaluation's scoring.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_turn_reader_logic.py
"""

from __future__ import annotations

import pytest

from agent.turns.reader import Reader
from evaluation.turn_scoring import TurnRow, latency, score, token_f1

OPTIONS = ["Beam search", "Greedy decoding", "Nucleus sampling", "Top-k sampling"]


class ScriptedRuntime:
    """Answers every prompt with a fixed line (what a model under the grammar could write)."""

    def __init__(self, line: str):
        self.line = line

    def chat(self, messages):
        return messages[-1]["content"]

    def generate_text(self, output_type, prompt, **kwargs):
        if self.line == "boom":
            raise RuntimeError("generation failed")
        return self.line


@pytest.fixture(autouse=True)
def _no_outlines(monkeypatch):
    """The scripted runtime ignores the output type; building the real one would import Outlines (and torch)."""
    monkeypatch.setattr("agent.turns.reader.reading_type", lambda text: None)


def reader(line: str, mode: str = "both", monkeypatch=None) -> Reader:
    return Reader(ScriptedRuntime(line), mode)


def test_topic_is_the_copied_span():
    request = reader('quiz "precision and recall" q5 hard')("Can you test me on precision and recall? 5 questions, hard ones")
    assert (request.intent, request.topic, request.questions, request.difficulty) == ("quiz", "precision and recall", 5, "hard")


def test_guard_rails_drop_details_never_said():
    request = reader('quiz "dropout" q7 hard')("quiz me on dropout")
    assert (request.topic, request.questions, request.difficulty) == ("dropout", None, None)
    alone = reader('quiz "dropout" q7 hard', "model")("quiz me on dropout")
    assert (alone.questions, alone.difficulty) == (7, "hard")


def test_rules_decide_clear_cases():
    assert reader('explain "E"')("E", OPTIONS).intent == "help"
    answer = reader('explain "think"')("I think it's B", OPTIONS)
    assert (answer.intent, answer.letter) == ("answer", "B")
    assert reader("answer A")("hello").intent != "answer"  # no question waits


def test_a_topic_not_in_the_message_falls_back_to_the_rules_topic():
    request = reader('explain "regularisation"')("what is dropout")
    assert request.topic == "dropout"  # a served model's invented topic is refused; the rules' span is used
    alone = reader('explain "regularisation"', "model")("what is dropout")
    assert alone.topic is None


def test_failed_model_call_falls_back_to_rules():
    r = reader("boom")
    assert r("quiz me on dropout").topic == "dropout"
    assert r.failures == 1


def test_scoring():
    rows = [TurnRow(text="quiz me on a b", intent="quiz", topic="a b", questions=5),
            TurnRow(text="hi", intent="smalltalk")]
    predicted = [dict(intent="quiz", topic="a", same_topic=False, source="any", questions=5, difficulty=None, letter=None),
                 dict(intent="help", topic=None, same_topic=False, source="any", questions=3, difficulty=None, letter=None)]
    m = score(list(zip(rows, predicted)))
    assert m["intent_accuracy"] == 0.5 and m["topic"]["exact_match"] == 0.0
    assert m["topic"]["token_f1"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["questions"] == {"rows": 1, "accuracy": 1.0, "predicted_where_none": 1.0}
    assert token_f1(None, None) == 1.0 and token_f1("x", None) == 0.0
    assert latency([5.0, 1.0, 2.0, 3.0])["cold"] == 5.0 and latency([5.0, 1.0, 2.0, 3.0])["p50"] == 2.0


def test_an_option_named_in_words_is_an_answer_and_help_yields_to_a_clear_request():
    options = ["Plain SGD", "Momentum", "Elastic net", "Adam"]
    answer = reader("help")("momentum", options)
    assert (answer.intent, answer.letter) == ("answer", "B")
    assert reader("help", "model")("momentum", options).intent == "help"  # the model alone keeps its reading
    request = reader("help")("how do I choose the number of clusters?")
    assert request.intent == "explain" and request.topic
    assert reader("smalltalk")("thanks a lot").intent == "smalltalk"  # no request found: the model's intent stands


def test_a_count_or_difficulty_copied_into_the_topic_is_left_out():
    text = "can you quiz me on k-means clustering with 3 questions"
    request = reader('quiz "k-means clustering with 3 questions" q3')(text)
    assert (request.topic, request.questions) == ("k-means clustering", 3)
    hard = reader('quiz "dropout, hard ones"')("quiz me on dropout, hard ones")
    assert hard.topic == "dropout" and hard.difficulty == "hard"
    kept = reader('explain "precision and recall"')("explain precision and recall")
    assert kept.topic == "precision and recall"


def test_beyond_the_model_reads_in_flight_the_rules_read_the_turn():
    import threading

    from agent.turns import reader as reader_module

    release, entered = threading.Event(), threading.Semaphore(0)

    class Slow(ScriptedRuntime):
        def generate_text(self, output_type, prompt, **kwargs):
            entered.release()
            release.wait(5)
            return self.line

    r = Reader(Slow('quiz "dropout" q7'), "model")
    held = [threading.Thread(target=r, args=("quiz me on dropout",)) for _ in range(reader_module.MAX_MODEL_READS)]
    for t in held:
        t.start()
    for _ in held:
        assert entered.acquire(timeout=5)
    request = r("quiz me on dropout, 3 questions")  # every slot is taken: the rules read this one at once
    release.set()
    for t in held:
        t.join(5)
    assert (request.topic, request.questions, r.busy) == ("dropout", 3, 1)
    assert r("quiz me on dropout").questions == 7  # a free slot again: the model reads
