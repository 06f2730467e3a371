"""The real embedded model: conversion cache, loading, constrained generation, streaming.

    bash scripts/test.sh tests/integration/test_llm_runtime.py
"""

import time
from typing import Literal

import pytest

from llm import embedded
from llm.loading import load_model
from llm.spec import ModelSpecError
from llm.streaming import stream_text
from llm.structured import StructuredRuntime
from schemas import CandidatePick

pytestmark = pytest.mark.model


def test_gguf_is_verified_and_cached_conversion_is_complete():
    gguf = embedded.locate_gguf()
    embedded.verify_gguf(gguf)  # raises on a damaged wheel
    folder = embedded.ensure_converted()
    assert embedded.is_complete(folder) and (folder / "config.json").is_file()
    started = time.perf_counter()
    assert embedded.ensure_converted() == folder  # idempotent, no work
    assert time.perf_counter() - started < 1.0


def test_interrupted_conversion_is_never_used(tmp_path, monkeypatch):
    """A folder without the completion marker (a killed conversion) is rebuilt, not loaded."""
    monkeypatch.setenv("ML_TUTOR_CACHE", str(tmp_path))
    target = embedded.converted_dir()
    target.mkdir(parents=True)
    (target / "config.json").write_text("{half written")
    assert not embedded.is_complete(target)
    calls = []
    monkeypatch.setattr(embedded, "convert_gguf", lambda gguf, out: calls.append(out) or (out / "config.json").write_text("{}"))
    folder = embedded.ensure_converted(progress=False)
    assert calls and embedded.is_complete(folder)
    assert (folder / "config.json").read_text() == "{}"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".partial-")]


def test_hub_id_offline_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSpecError, match="--model DIR"):
        load_model("someone/not-a-real-model-xyz", cache=False)


def test_constrained_outputs_validate(embedded_lm):
    runtime = StructuredRuntime.for_model(embedded_lm)
    prompt = runtime.chat([{"role": "user", "content": "Pick a number from 1 to 8."}])
    pick = runtime.generate(CandidatePick, prompt, seed=3, max_new_tokens=20)
    assert 1 <= pick.choice <= 8
    label = runtime.generate_text(Literal["A", "B", "C"], prompt, max_new_tokens=3)
    assert label in {"A", "B", "C"}
    assert runtime.generator(CandidatePick) is runtime.generator(CandidatePick)  # built once


def test_explanation_streams_in_pieces(embedded_lm):
    runtime = StructuredRuntime.for_model(embedded_lm)
    prompt = runtime.chat([{"role": "user", "content": "What is overfitting in machine learning?"}])
    pieces = list(stream_text(embedded_lm, prompt, max_new_tokens=24))
    assert len(pieces) > 3
    assert len("".join(pieces).split()) >= 5
