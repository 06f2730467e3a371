"""Structured output on the ``llamacpp`` backend is constrained for real: the embedded GGUF + tutor adapter, Outlines'
processor inside llama.cpp's own sampler, and a failure of that processor is an error (llm/llamacpp_outlines.py).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/integration/test_llamacpp_constraint.py

Forced choice: every output type below allows only strings the model does not write on its own (checked first, on
the same prompts), so an output that matches could only come from the constraint. Needs llama-cpp-python and numba
(``bash scripts/install.sh --llamacpp``); skipped without llama-cpp-python.
"""

from __future__ import annotations

import re
import sys
from typing import Literal

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (bash scripts/install.sh --llamacpp)")

from pydantic import BaseModel  # noqa: E402

from llm.llamacpp_outlines import ConstraintError  # noqa: E402
from llm.llamacpp_runtime import LlamaCppRuntime, load_llamacpp  # noqa: E402

pytestmark = pytest.mark.model
QUESTIONS = ("What does dropout do?", "Explain overfitting in machine learning.", "Pick a letter from A to D.")
CHOICES = ("zebra-17", "quokka-42")
CODE = r"QX-[0-9]{3}-[a-z]{2}"


class Ticket(BaseModel):
    code: Literal["ZZ-9"]
    size: Literal["small", "large"]  # not an int: a free int may run on past the token budget


@pytest.fixture(scope="module")
def runtime():
    return LlamaCppRuntime.for_model(load_llamacpp(threads=2))


@pytest.fixture(scope="module")
def prompts(runtime):
    return [runtime.chat([{"role": "user", "content": q}]) for q in QUESTIONS]


def test_the_model_alone_writes_none_of_the_allowed_outputs(runtime, prompts):
    for prompt in prompts:
        free = "".join(runtime.stream(prompt, max_new_tokens=12, repetition_penalty=1.0))
        assert free.strip() and not any(free.startswith(c) for c in CHOICES), free
        assert not re.match(CODE, free) and not free.lstrip().startswith("{"), free


def test_forced_choice_is_applied_greedy_and_sampled(runtime, prompts):
    outputs = [runtime.generate_text(Literal[CHOICES], p, max_new_tokens=8) for p in prompts]
    outputs += [runtime.generate_text(Literal[CHOICES], p, max_new_tokens=8, temperature=1.0, seed=s)
                for p in prompts for s in range(3)]
    assert all(o in CHOICES for o in outputs), outputs


def test_regex_and_json_schema_are_applied(runtime, prompts):
    from outlines.types import Regex

    codes = [runtime.generate_text(Regex(CODE), p, max_new_tokens=16, temperature=0.8, seed=1) for p in prompts]
    assert all(re.fullmatch(CODE, c) for c in codes), codes
    tickets = [runtime.generate(Ticket, p, max_new_tokens=40) for p in prompts]
    assert all(t.code == "ZZ-9" for t in tickets), tickets


def test_a_constraint_that_fails_in_the_sampler_is_an_error_not_free_text(runtime, prompts, monkeypatch):
    """As without numba: Outlines' processor imports its numpy kernels on each call's first token, inside llama.cpp's
    ctypes sampler callback. Unchecked, the call returns the model's free text; checked, it raises."""
    import outlines

    generator = runtime.generator(Literal[CHOICES])
    bare = outlines.Generator(runtime._outlines, Literal[CHOICES])
    monkeypatch.setitem(sys.modules, "outlines_core.kernels.numpy", None)
    unchecked = bare(prompts[0], max_tokens=8, temperature=0.0)
    assert unchecked not in CHOICES  # the defect this guards against: free text from a "constrained" call
    with pytest.raises(ConstraintError, match="numba|outlines_core"):
        runtime.generate_text(Literal[CHOICES], prompts[0], max_new_tokens=8)
    with pytest.raises(ConstraintError, match="numba"):
        LlamaCppRuntime(runtime.lm).generator(Literal["other"])  # refused before it is built
    monkeypatch.undo()
    assert generator is runtime.generator(Literal[CHOICES])
    assert runtime.generate_text(Literal[CHOICES], prompts[0], max_new_tokens=8) in CHOICES  # works again
