"""Greedy decoding under a regular expression, checked on the model's top-k tokens (no Outlines index).

Why not Outlines here: for SmolLM2's tokenizer, outlines-core (0.2.14, via outlines 1.3.3) leaves the lone
space token out of its vocabulary and, in an accepting state, offers no token that continues an optional
field. Under the turn reader's grammar ``intent( S-E)?( qN)?...`` the fine-tuned model's
"explain 3-3" came out as "explain" (dev set: topic F1 0.0; with a newline appended to force
continuation, spans came back but a difficulty was invented on 97 % of rows without one). This
decoder keeps the model's own end-of-sequence: at each step it takes the most likely of the top-k
tokens that keeps the text a prefix of the pattern (``regex`` partial matching), and stops on EOS
only where the text fully matches. For greedy decoding that is the same as masking every other
token, as long as a valid token lies in the top k (else :class:`PatternDecodeError`).

With a batching scheduler (:mod:`llm.batching`) the same choice runs as a per-request logits processor
(:class:`PatternConstraint`), so turn readings of many sessions share decode steps.
"""

from __future__ import annotations

from collections.abc import Collection

from llm.loading import LoadedModel, generating


class PatternDecodeError(RuntimeError):
    """No token in the top k continues the pattern, or the budget ran out before a full match."""


def decode_pattern(lm: LoadedModel, pattern: str, prompt: str, *, max_new_tokens: int, top_k: int = 40) -> str:
    """The greedy continuation of ``prompt`` that fully matches ``pattern`` (without the EOS token)."""
    import regex
    import torch

    from llm.batching import scheduler_for

    compiled = regex.compile(pattern)
    tokenizer, model = lm.tokenizer, lm.model
    eos = tokenizer.eos_token_id
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids.to(model.device)
    scheduler = scheduler_for(lm)
    if scheduler is not None:  # the same greedy choice as a per-request constraint, decoded in the batch
        constraint = PatternConstraint(compiled, tokenizer, eos, top_k)
        handle = scheduler.submit(ids[0].tolist(), max_new_tokens=max_new_tokens, stop_ids={eos},
                                  processors=[constraint])
        handle.result()
        if handle.finish_reason == "stop":
            return constraint.text
        raise PatternDecodeError(f"no full match within {max_new_tokens} tokens: {constraint.text[:60]!r}")
    text, past, step_ids = "", None, ids
    with generating(lm), torch.inference_mode():
        for _ in range(max_new_tokens):
            # logits_to_keep=1 as in generate() and the batched path: the head reads the last row only
            out = model(input_ids=step_ids, past_key_values=past, use_cache=True, logits_to_keep=1)
            past = out.past_key_values
            token, text = _next_token(out.logits[0, -1], text, compiled, tokenizer, eos, top_k)
            if token is None:
                return text
            step_ids = torch.tensor([[token]], device=model.device)
    raise PatternDecodeError(f"no full match within {max_new_tokens} tokens: {text[:60]!r}")


def _next_token(logits, text: str, compiled, tokenizer, eos: int, top_k: int) -> tuple[int | None, str]:
    """(token, new text) for the best valid token of the top ``top_k``; (None, text) when EOS is best and the text
    matches."""
    import torch

    candidates = torch.topk(logits, top_k).indices.tolist()
    return choose_pattern_token(candidates, text, compiled, lambda token: tokenizer.decode([token]), eos)


def choose_pattern_token(candidates, text: str, compiled, piece, eos: int | Collection[int]) -> tuple[int | None, str]:
    """The first of ``candidates`` (best first) that keeps ``text`` a prefix of ``compiled``: (token, new text),
    or (None, text) when an end token (``eos``: one id, or every id that ends a turn) comes first and ``text`` fully
    matches. ``piece(token)`` is the token's text, or None for a token that is no text (a control token): never
    chosen, as it would leave the text as it is and the decode could repeat it until the budget ran out. Shared
    by every runtime that decodes under a pattern (:mod:`llm.llamacpp_runtime` too)."""
    ends = {eos} if isinstance(eos, int) else eos
    for token in candidates:
        if token in ends:
            if compiled.fullmatch(text):
                return None, text
            continue
        text_piece = piece(token)
        if text_piece is None:
            continue
        candidate = text + text_piece
        if compiled.fullmatch(candidate, partial=True):
            return token, candidate
    raise PatternDecodeError(f"no token in the top {len(candidates)} continues {text[:60]!r}")


class PatternConstraint:
    """:func:`_next_token` as a logits processor for :mod:`llm.batching`: every score but the chosen token's
    becomes ``-inf``, so the batch's greedy pick is this decoder's pick; ``text`` is the text so far."""

    def __init__(self, compiled, tokenizer, eos: int, top_k: int):
        self.compiled, self.tokenizer, self.eos, self.top_k = compiled, tokenizer, eos, top_k
        self.text = ""

    def __call__(self, input_ids, scores):
        import torch

        token, self.text = _next_token(scores[0], self.text, self.compiled, self.tokenizer, self.eos, self.top_k)
        chosen = torch.full_like(scores, float("-inf"))
        chosen[0, self.eos if token is None else token] = 0.0
        return chosen
