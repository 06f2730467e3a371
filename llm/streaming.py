"""Free-text generation streamed token by token (Outlines does not stream with transformers).

``stream_text`` runs ``generate`` in a worker thread and yields text pieces from
transformers' ``TextIteratorStreamer`` as they are decoded. Closing the iterator early (a
consumer that has what it needs) stops the generation at the next token, so the model lock is
not held for tokens nobody reads.

    for piece in stream_text(load_model(), prompt):
        print(piece, end="", flush=True)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from llm.loading import LoadedModel, generating


def stream_text(
    lm: LoadedModel,
    prompt: str,
    *,
    max_new_tokens: int = 200,
    temperature: float = 0.0,
    seed: int = 0,
    repetition_penalty: float = 1.15,
) -> Iterator[str]:
    """Yield decoded text pieces of the model's continuation of ``prompt`` (a formatted string)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stop = threading.Event()

    class _Stopped(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    tokenizer = lm.tokenizer
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
    kwargs = dict(
        **inputs,
        streamer=streamer,
        max_new_tokens=max_new_tokens,
        repetition_penalty=repetition_penalty,
        pad_token_id=tokenizer.pad_token_id,
        stopping_criteria=StoppingCriteriaList([_Stopped()]),
    )
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=0.9)
    else:
        kwargs.update(do_sample=False)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with generating(lm), torch.inference_mode():
                torch.manual_seed(seed)
                lm.model.generate(**kwargs)
        except BaseException as exc:  # surfaced to the consumer below
            errors.append(exc)
            streamer.end()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    finished = False
    try:
        yield from streamer
        finished = True
    finally:
        if not finished:  # the consumer closed us early: stop at the next token, drain up to the end signal
            stop.set()
            for _ in streamer:
                pass
        worker.join()
    if errors:
        raise errors[0]
