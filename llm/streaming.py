"""Free-text generation streamed token by token (Outlines does not stream with transformers).

``stream_text`` submits the prompt to the model's batching scheduler (:mod:`llm.batching`: one decode step
serves every session's generation) and yields text pieces as its tokens arrive. Without a scheduler
(``TUTOR_BATCHING=0``, or a model it cannot step) it runs ``generate`` in a worker thread and yields pieces from
transformers' ``TextIteratorStreamer``. Either way, closing the iterator early (a consumer that has what it
needs) stops the generation at the next token.

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
    from llm.batching import scheduler_for

    scheduler = scheduler_for(lm)
    if scheduler is not None:
        return _stream_batched(scheduler, lm, prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                               seed=seed, repetition_penalty=repetition_penalty)
    return _stream_alone(lm, prompt, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                         repetition_penalty=repetition_penalty)


def _stream_batched(scheduler, lm: LoadedModel, prompt: str, *, max_new_tokens: int, temperature: float, seed: int,
                    repetition_penalty: float) -> Iterator[str]:
    """The same pieces as :func:`_stream_alone` (``generate``'s processors and stop tokens), decoded in the batch."""
    import torch
    from transformers import RepetitionPenaltyLogitsProcessor, TextStreamer

    class _Pieces(TextStreamer):  # transformers' word-boundary detokenisation, collected instead of printed
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                pieces.append(text)

    tokenizer = lm.tokenizer
    pieces: list[str] = []
    streamer = _Pieces(tokenizer, skip_special_tokens=True)
    processors = [RepetitionPenaltyLogitsProcessor(repetition_penalty)] if repetition_penalty != 1.0 else []
    handle = scheduler.submit(tokenizer(prompt, add_special_tokens=False).input_ids, max_new_tokens=max_new_tokens,
                              stop_ids=stop_token_ids(lm), processors=processors, temperature=temperature,
                              top_p=0.9, seed=seed)
    try:
        for token in handle:
            streamer.put(torch.tensor([token]))
            yield from pieces
            pieces.clear()
        streamer.end()
        yield from pieces
    finally:
        handle.cancel()  # a no-op once finished; otherwise the request leaves the batch at the next step


def stop_token_ids(lm: LoadedModel) -> set[int]:
    """The tokens ``generate`` stops on: the generation config's EOS id(s), else the tokenizer's."""
    eos = lm.model.generation_config.eos_token_id
    if eos is None:
        eos = lm.tokenizer.eos_token_id
    return set(eos) if isinstance(eos, (list, tuple)) else {eos}


def _stream_alone(lm: LoadedModel, prompt: str, *, max_new_tokens: int, temperature: float, seed: int,
                  repetition_penalty: float) -> Iterator[str]:
    """``generate`` in a worker thread, alone behind the process-wide lock."""
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
