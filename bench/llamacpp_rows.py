"""The llama.cpp rows of ``bench/decode_variants.py``: the same GGUF and adapter run by llama.cpp, timed and scored
exactly as the torch rows are (same prompt token ids, same new-token count, same ARC-Easy requests).

Two rows, one model: ``llama.cpp (its own sampler)`` decodes through llama-cpp-python's ``Llama.generate`` (the
C sampler, greedy), ``llama.cpp, tutor runtime`` through :class:`llm.llamacpp_runtime.LlamaCppRuntime`'s loop (logits
read into numpy each step, as the tutor streams). Both force every token up to the count (end tokens masked), as
the torch rows do with ``min_new_tokens``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def available() -> str | None:
    """None when llama-cpp-python imports, else why not."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python not installed ({exc}): bash scripts/install.sh --llamacpp"
    return None


def load(threads: int):
    """The embedded GGUF + shipped adapter in llama.cpp (``LlamaCppModel``) and its runtime."""
    from llm.llamacpp_runtime import LlamaCppRuntime, load_llamacpp

    lm = load_llamacpp(threads=threads, cache=False)
    return lm, LlamaCppRuntime.for_model(lm)


def generate_native(lm, ids: Sequence[int], n: int) -> list[int]:
    """``n`` greedy tokens after ``ids`` from llama-cpp-python's own generate loop, no end token ever chosen."""
    from llm.llamacpp_vocab import end_tokens

    llama = lm.llama
    llama.reset()
    out: list[int] = []
    ends = sorted(end_tokens(llama))

    def no_eos(input_ids, scores):
        scores[ends] = -np.inf
        return scores

    import llama_cpp

    for token in llama.generate(list(ids), top_k=1, temp=0.0, repeat_penalty=1.0, reset=True,
                                logits_processor=llama_cpp.LogitsProcessorList([no_eos])):
        out.append(token)
        if len(out) == n:
            break
    return out


def generate_runtime(runtime, ids: Sequence[int], n: int) -> list[int]:
    """``n`` greedy tokens after ``ids`` through the tutor runtime's decode loop, no end token ever chosen (the loop
    stops on any of them)."""
    runtime.lm.llama.reset()  # no KV reuse between timed calls: every call pays its prompt
    ends = sorted(runtime.ends)

    def greedy(logits, seen):
        logits[ends] = -np.inf
        return int(np.argmax(logits))

    return list(runtime.tokens(list(ids), greedy, n))


def logliks(lm, requests: Sequence[tuple[list[int], list[list[int]]]], threads: int) -> list[list[float]]:
    """Log-likelihood of every continuation of every request (``evaluation.arc.loglik_requests``' format), from a
    second llama.cpp context over the same files that keeps every position's logits."""
    import llama_cpp

    llama = llama_cpp.Llama(model_path=str(lm.gguf), lora_path=str(lm.lora_gguf) if lm.lora_gguf else None,
                            n_ctx=2048, n_threads=threads, n_threads_batch=threads, logits_all=True, verbose=False)
    results = []
    for context, continuations in requests:
        llama.reset()
        llama.eval(list(context))  # once per question; each continuation is evaluated after it
        row = []
        for continuation in continuations:
            llama.n_tokens = len(context)
            llama.eval(list(continuation))
            end = len(context) + len(continuation) - 1
            scores = llama.scores[len(context) - 1:end].astype(np.float64)  # the logits that predict the continuation
            scores -= scores.max(axis=1, keepdims=True)
            logprobs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
            row.append(float(logprobs[np.arange(len(continuation)), continuation].sum()))
        results.append(row)
    llama.close()
    return results
