"""The llama.cpp backend's constraint checks (llm/llamacpp_outlines.py) without llama.cpp: a processor that fails
inside a ctypes callback, as llama-cpp-python calls it, is an error and not free text. The real llama.cpp sampler and
Outlines' real processor are in tests/integration/test_llamacpp_constraint.py.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_llamacpp_constraint_errors.py
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

from llm.llamacpp_outlines import CheckedProcessor, ConstraintError, checked_generator, require_kernels, run_checked

APPLY = ctypes.CFUNCTYPE(None)  # llama-cpp-python's custom sampler is a C callback: what it raises is swallowed
FREE_TEXT = [5, 6, 7]  # the unconstrained model's favourite tokens, best first; 0 is EOS


class NoNumba:
    """Fails on its first call as Outlines' processor does without numba (it imports its kernels lazily)."""

    def reset(self):
        pass

    def __call__(self, input_ids, logits):
        raise ModuleNotFoundError("No module named 'numba'")


class OnlyThree:
    """A working constraint: token 3, then EOS."""

    def reset(self):
        self.steps = 0

    def __call__(self, input_ids, logits):
        allowed = np.full_like(logits, -np.inf)
        allowed[3 if self.steps == 0 else 0] = 0.0
        self.steps += 1
        return allowed


class CallbackGenerator:
    """Samples greedily as llama.cpp does, with the processor applied inside a ctypes callback; ``text`` is the ids."""

    def __init__(self, processor):
        self.logits_processor = processor

    def __call__(self, prompt: str, max_tokens: int = 5, **sampling) -> list[int]:
        self.logits_processor.reset()
        out: list[int] = []
        for _ in range(max_tokens):
            logits = np.zeros(8, dtype=np.float32)
            logits[FREE_TEXT] = [3.0, 2.0, 1.0]

            def apply():
                logits[:] = self.logits_processor(np.asarray(out), logits.copy())

            APPLY(apply)()
            token = int(np.argmax(logits))
            if token == 0:
                break
            out.append(token)
        return out


def test_the_bare_callback_swallows_the_failure():
    """Why the check exists: without it the "constrained" call returns the free text."""
    assert CallbackGenerator(NoNumba())("p") == [5, 5, 5, 5, 5]


def test_a_failing_constraint_is_an_error_and_ends_the_call():
    checked = CheckedProcessor(NoNumba(), eos=0)
    with pytest.raises(ConstraintError, match="numba"):
        run_checked(CallbackGenerator(checked), "p")
    assert checked.calls == 1  # only EOS was left after the failure


def test_a_working_constraint_passes_and_a_silent_one_is_caught():
    assert run_checked(CallbackGenerator(CheckedProcessor(OnlyThree(), eos=0)), "p") == [3]

    class Skips(CallbackGenerator):  # a sampler that ignores logits processors
        def __call__(self, prompt, **sampling):
            self.logits_processor.reset()
            return FREE_TEXT

    with pytest.raises(ConstraintError, match="without calling"):
        run_checked(Skips(CheckedProcessor(OnlyThree(), eos=0)), "p")


def test_missing_kernels_are_refused_before_a_generator_is_built(monkeypatch):
    monkeypatch.setitem(sys.modules, "outlines_core.kernels.numpy", None)  # import fails as without numba
    with pytest.raises(ConstraintError, match="numba"):
        require_kernels()
    with pytest.raises(ConstraintError, match="llamacpp extra"):
        checked_generator(object(), int, eos=0)
