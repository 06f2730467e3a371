"""Structured generation with Outlines over transformers: every output is a validated Pydantic object.

Each output type gets one Outlines ``Generator`` per process (building the index costs seconds;
reusing it makes constrained decoding run at unconstrained speed). It is not kept on disk: a pickled
index took longer to load than to rebuild (``QuestionDraft``: 7.2 s unpickled vs 4.3 s built,
``index_cache`` in ``bench/results/quiz_speed.json`` as committed in c397703), and unpickling files from a
cache folder runs whatever code they hold.

Prompts are passed fully formatted (the chat template is applied here, explicitly), so that
evaluation can switch the template off and every caller sees the same prompt text.

    rt = StructuredRuntime.for_model(load_model())
    pick = rt.generate(CandidatePick, rt.chat([{"role": "user", "content": "..."}]), seed=1)
    for piece in rt.stream(rt.chat([{"role": "user", "content": "What is dropout?"}])): ...

The ``openai`` backend (:mod:`llm.openai_backend`) answers the same calls through a model server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from llm.loading import LoadedModel, generating, per_model

T = TypeVar("T", bound=BaseModel)


class StructuredOutputError(RuntimeError):
    """The model's constrained output did not validate (e.g. it hit ``max_new_tokens``)."""


def type_key(output_type: Any) -> str:
    """A stable key for an output type: its JSON schema (Pydantic) or its repr (Literal etc.)."""
    if isinstance(output_type, type) and issubclass(output_type, BaseModel):
        return json.dumps(output_type.model_json_schema(), sort_keys=True)
    return repr(output_type)


class StructuredRuntime:
    """Outlines generators for one loaded model, built once and reused (thread-safe)."""

    def __init__(self, lm: LoadedModel):
        import outlines

        self.lm = lm
        self.model = outlines.from_transformers(lm.model, lm.tokenizer)
        # We format prompts ourselves; stop Outlines from wrapping them in the chat template again.
        self.model.type_adapter.has_chat_template = False
        self._generators: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.build_seconds: dict[str, float] = {}

    @classmethod
    def for_model(cls, lm: LoadedModel) -> "StructuredRuntime":
        """The per-process runtime of ``lm`` (kept in ``lm.extras``)."""
        return per_model(lm, "structured", cls)

    # ------------------------------------------------------------------ prompts

    def chat(self, messages: list[dict[str, str]]) -> str:
        """Render chat ``messages`` with the model's template and the assistant turn opened."""
        return self.lm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    # --------------------------------------------------------------- generators

    def generator(self, output_type: Any) -> Any:
        """The cached Outlines generator for ``output_type``."""
        import outlines

        key = type_key(output_type)
        with self._lock:
            gen = self._generators.get(key)
            if gen is None:
                started = time.perf_counter()
                gen = outlines.Generator(self.model, output_type)
                self.build_seconds[key] = time.perf_counter() - started
                self._generators[key] = gen
            return gen

    # --------------------------------------------------------------- generation

    def generate_text(
        self, output_type: Any, prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Raw constrained text (already guaranteed to match the grammar, unless cut off)."""
        import torch

        gen = self.generator(output_type)
        from llm.batching import scheduler_for

        scheduler = scheduler_for(self.lm)
        if scheduler is not None:
            return self._generate_batched(scheduler, gen, prompt, seed=seed, max_new_tokens=max_new_tokens,
                                          temperature=temperature)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=0.95)
        else:
            kwargs.update(do_sample=False)
        with generating(self.lm):  # one call at a time: a generator's logits processor holds per-call state
            torch.manual_seed(seed)
            with torch.inference_mode():
                return gen(prompt, **kwargs)

    def _generate_batched(self, scheduler, gen: Any, prompt: str, *, seed: int, max_new_tokens: int,
                          temperature: float) -> str:
        """What ``gen(prompt)`` returns, decoded in the batch: Outlines' tokenisation, its constraint processor
        (a fresh copy per request: it holds per-call state) and ``generate``'s stop tokens and decoding."""
        import copy

        from llm.streaming import stop_token_ids

        processor = copy.copy(gen.logits_processor)
        processor.reset()
        input_ids, _ = self.model.tokenizer.encode(prompt)
        handle = scheduler.submit(input_ids[0].tolist(), max_new_tokens=max_new_tokens, seed=seed,
                                  stop_ids=stop_token_ids(self.lm), processors=[processor],
                                  temperature=temperature, top_p=0.95)
        return self.model.tokenizer.decode([handle.result()])[0]

    def generate(
        self, output_type: type[T], prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> T:
        """A validated ``output_type`` instance; :class:`StructuredOutputError` if the output is cut off."""
        text = self.generate_text(
            output_type, prompt, seed=seed, max_new_tokens=max_new_tokens, temperature=temperature
        )
        try:
            return output_type.model_validate_json(text)
        except ValidationError as exc:
            raise StructuredOutputError(f"{output_type.__name__} output did not validate: {exc}") from exc

    def decode_pattern(self, pattern: str, prompt: str, *, max_new_tokens: int, top_k: int = 40) -> str:
        """The greedy continuation of ``prompt`` that fully matches ``pattern`` (:func:`llm.pattern_decode.decode_pattern`)."""
        from llm.pattern_decode import decode_pattern

        return decode_pattern(self.lm, pattern, prompt, max_new_tokens=max_new_tokens, top_k=top_k)

    def stream(
        self, prompt: str, *, max_new_tokens: int = 200, temperature: float = 0.0, seed: int = 0,
        repetition_penalty: float = 1.15,
    ) -> Iterator[str]:
        """Free text streamed piece by piece (:func:`llm.streaming.stream_text`); same call on every backend."""
        from llm.streaming import stream_text

        return stream_text(self.lm, prompt, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                           repetition_penalty=repetition_penalty)
