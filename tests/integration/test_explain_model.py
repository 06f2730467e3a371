"""Explanations from the real embedded model (+ shipped adapter): whole sentences, the question answered.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/integration/test_explain_model.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.explain import explainer as explainer_module
from agent.explain.sentences import ends_cleanly, split_complete
from agent.quiz.service import TutorService
from evaluation.explain_report import score_answer

pytestmark = pytest.mark.model

QUESTIONS = [json.loads(line) for line in
             Path("evaluation/data/explain_questions.jsonl").read_text(encoding="utf-8").splitlines()[:40:10]]


@pytest.fixture(scope="module")
def service(knowledge_base, embedded_lm):
    """The service with its explainer switched to model answers (the default is extractive)."""
    service = TutorService(knowledge_base, embedded_lm)
    service.explainer.mode = "model"
    return service


def _answer(service, row) -> tuple[str, object]:
    stream = service.explain(row["question"], row["topic"])
    return "".join(stream.pieces), stream


def test_answers_end_on_a_sentence_and_stay_short(service):
    for row in QUESTIONS:
        text, stream = _answer(service, row)
        assert stream.mode == "model" and stream.raw  # the model wrote it
        assert ends_cleanly(text), text
        assert len(split_complete(text, final=True)[0]) <= explainer_module.MAX_SENTENCES
        assert stream.key_facts and row["card"] in stream.sources


def test_a_run_on_answer_cut_by_the_token_limit_still_ends_on_a_sentence(service):
    stream = service.explain("Explain dropout in detail, with examples.", "dropout", max_new_tokens=30)
    text = "".join(stream.pieces)
    assert ends_cleanly(text), text
    assert not stream.fell_back or text == stream.key_facts[0]


def test_the_model_answers_the_question_asked(service):
    scores = []
    for row in QUESTIONS:
        text, stream = _answer(service, row)
        scores.append(score_answer(text, row, bool(stream.fell_back)))
    # With the shipped adapter 71% of 103 held-out questions are answered (adapter v3; v1: 78%, the base model 9%;
    # evaluation/reports/explain): half of these four is the floor a working model clears.
    assert sum(s["answered"] for s in scores) >= len(QUESTIONS) // 2, scores


def test_a_model_that_always_emits_the_same_token_fails_the_content_check(service, embedded_lm, monkeypatch):
    """The real model, forced to emit one token ("1") forever: it must not pass as answering. The forcing is the
    generation config's sequence bias, which transformers' generate() applies: the unbatched path."""
    monkeypatch.setattr("llm.batching.scheduler_for", lambda lm: None)
    one = embedded_lm.tokenizer("1", add_special_tokens=False)["input_ids"]
    config = embedded_lm.model.generation_config
    saved = config.sequence_bias
    config.sequence_bias = {tuple(one): 1000.0}
    try:
        results = []
        for row in QUESTIONS:
            stream = service.explain(row["question"], row["topic"])
            text = "".join(stream.pieces)
            assert set("".join(stream.raw).strip()) <= {"1"}  # the forcing worked
            assert ends_cleanly(text)  # what the student sees is still whole sentences (the best fact)
            results.append(score_answer(text, row, bool(stream.fell_back)))
    finally:
        config.sequence_bias = saved
    assert not any(r["answered"] for r in results)
