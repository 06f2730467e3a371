"""``letter`` mode: the model answers with an option label, constrained by Outlines.

The output type is a ``typing.Literal`` of the item's labels (as written after the prompt: bare
``"B"`` in the chat template's assistant turn, ``" B"`` after ``Answer:`` in plain text), so
the model cannot answer anything else. Generators are built once per distinct label set
(:meth:`llm.structured.StructuredRuntime.generator` caches them per type). Every output is still
checked against the labels and a mismatch counted as a parse failure: by construction the count
must be 0, and the report shows it.

Prompts sharing a label set are generated in batches (Outlines ``Generator.batch``, left-padded),
shortest first; ``batch_size=1`` goes through ``StructuredRuntime.generate_text`` one prompt at
a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal

from evaluation.arc_data import ArcItem
from evaluation.arc_prompts import letter_messages, letter_plain_prompt, plain_answer
from evaluation.scoring import letter_prediction


@lru_cache(maxsize=None)
def label_type(answers: tuple[str, ...]) -> Any:
    """``Literal[answers...]`` (one object per label set, so the runtime's generator cache hits)."""
    return Literal[answers]  # type: ignore[valid-type]


def build_prompt(runtime: Any, item: ArcItem, shots: Sequence[ArcItem], chat: bool) -> str:
    """The full prompt text for ``item`` (chat template applied when ``chat``)."""
    if chat:
        return runtime.chat(letter_messages(item, shots))
    return letter_plain_prompt(item, shots)


def answers_for(item: ArcItem, chat: bool) -> tuple[str, ...]:
    """The exact strings the model may produce for ``item``."""
    return tuple(item.labels) if chat else tuple(plain_answer(label) for label in item.labels)


def run_letter(
    runtime: Any,
    items: Sequence[ArcItem],
    shots: Sequence[ArcItem],
    chat: bool,
    batch_size: int = 8,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Prediction rows (see :func:`evaluation.scoring.letter_prediction`) in ``items`` order."""
    import torch

    from llm.loading import GENERATE_LOCK

    tokenizer = runtime.lm.tokenizer
    prompts = [build_prompt(runtime, item, shots, chat) for item in items]
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(answers_for(item, chat), []).append(index)
    outputs: list[str] = [""] * len(items)
    for answers, indices in groups.items():
        output_type = label_type(answers)
        longest = max(len(tokenizer(a, add_special_tokens=False).input_ids) for a in answers)
        kwargs = {"max_new_tokens": longest + 1}
        if batch_size <= 1:
            for i in indices:
                outputs[i] = runtime.generate_text(output_type, prompts[i], seed=seed, **kwargs)
                if progress:
                    progress(1)
            continue
        generator = runtime.generator(output_type)
        indices = sorted(indices, key=lambda i: len(prompts[i]))
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            with GENERATE_LOCK, torch.inference_mode():
                torch.manual_seed(seed)
                texts = generator.batch([prompts[i] for i in chunk], do_sample=False, **kwargs)
            for i, text in zip(chunk, texts):
                outputs[i] = text
            if progress:
                progress(len(chunk))
    return [letter_prediction(item, out, answers_for(item, chat)) for item, out in zip(items, outputs)]
