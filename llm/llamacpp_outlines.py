"""Outlines' llama.cpp integration with its failures made loud: a constraint that cannot be built or applied raises
:class:`ConstraintError`; it never turns into an unconstrained generation.

Why a wrapper: llama-cpp-python 0.3.36 runs a logits processor inside a ctypes sampler callback
(``Llama._init_sampler``'s ``apply_func``), and ctypes swallows what a callback raises (it prints "Exception ignored
on calling ctypes callback function") while sampling goes on without the mask. Outlines 1.3.3's processor imports
``outlines_core.kernels.numpy`` on its first call, and that module needs ``numba``: without numba every structured
call on this backend came back as free text, and nothing said so. Here:

* the kernels are imported before a generator is built (:func:`require_kernels`, naming the missing package);
* every call goes through :class:`CheckedProcessor`, which records how often the callback ran and what it raised;
  after a failure it leaves only end-of-sequence possible, so the broken call ends at once, and
  :func:`run_checked` raises instead of returning that text.

    generator = checked_generator(outlines.from_llamacpp(llama, chat_mode=False), Literal["A", "B"], eos=2)
    text = run_checked(generator, prompt, max_tokens=3, temperature=0.0)
"""

from __future__ import annotations

from typing import Any

NUMBA_HINT = "install the llamacpp extra (`bash scripts/install.sh --llamacpp`, or pip install -e '.[llamacpp]')"


class ConstraintError(RuntimeError):
    """The output constraint could not be built, or was not applied to a generation (never silently dropped)."""


def require_kernels() -> None:
    """Import the numpy kernels Outlines' llama.cpp processor uses on its first call (they need numba)."""
    import importlib

    try:
        importlib.import_module("outlines_core.kernels.numpy")
    except ImportError as exc:
        raise ConstraintError(f"Outlines cannot constrain llama.cpp output ({exc}): it needs numba; {NUMBA_HINT}") \
            from exc


class CheckedProcessor:
    """An Outlines logits processor that remembers whether it ran and what it raised (ctypes would swallow it)."""

    def __init__(self, inner: Any, eos: int):
        self.inner, self.eos = inner, eos
        self.calls, self.error = 0, None

    def reset(self) -> None:
        self.calls, self.error = 0, None
        self.inner.reset()

    def __call__(self, input_ids, logits):
        import numpy as np

        self.calls += 1
        if self.error is None:
            try:
                return self.inner(input_ids, logits)
            except Exception as exc:  # raised again by run_checked, outside the C callback
                self.error = exc
        ended = np.full_like(logits, -np.inf)  # stop the broken call at once: only EOS is left
        ended[self.eos] = 0.0
        return ended


def checked_generator(model: Any, output_type: Any, eos: int) -> Any:
    """An ``outlines.Generator`` for ``output_type`` over an Outlines llama.cpp ``model``, its processor checked."""
    require_kernels()  # first: a missing numba is named before Outlines (and transformers) is even imported
    import outlines

    generator = outlines.Generator(model, output_type)
    if generator.logits_processor is None:
        raise ConstraintError(f"no constraint for output type {output_type!r}")
    generator.logits_processor = CheckedProcessor(generator.logits_processor, eos)
    return generator


def run_checked(generator: Any, prompt: str, **sampling: Any) -> str:
    """The generator's text for ``prompt``; :class:`ConstraintError` if its constraint raised or never ran."""
    processor: CheckedProcessor = generator.logits_processor
    text = generator(prompt, **sampling)
    if processor.error is not None:
        error = processor.error
        raise ConstraintError(f"the output constraint failed inside llama.cpp's sampler "
                              f"({type(error).__name__}: {error}); no unconstrained text is returned") from error
    if processor.calls == 0:
        raise ConstraintError("llama.cpp sampled without calling the output constraint")
    return text
