"""Next-token choice over one row of logits, in numpy: what transformers' ``generate`` does, for runtimes
that hand us raw logits (:mod:`llm.llamacpp_runtime`).

The order of operations is transformers' own (repetition penalty, then temperature, then top-p), so a
greedy llama.cpp decode picks the tokens the torch path picks whenever the two models' logits agree:

* repetition penalty (``RepetitionPenaltyLogitsProcessor``): every token already in the sequence, the
  prompt included, has its logit divided by ``penalty`` when positive and multiplied when negative;
* top-p (``TopPLogitsWarper``): the smallest set of most likely tokens whose probability reaches ``top_p``
  (always at least one token).

    token = pick_token(logits, seen=ids, penalty=1.15)                            # greedy
    token = pick_token(logits, seen=ids, temperature=0.7, top_p=0.9, rng=np.random.default_rng(3))
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def penalized(logits: np.ndarray, seen: Iterable[int], penalty: float) -> np.ndarray:
    """A copy of ``logits`` with the repetition penalty applied to the ``seen`` token ids."""
    out = np.array(logits, dtype=np.float32, copy=True)
    if penalty == 1.0:
        return out
    ids = np.unique(np.fromiter(seen, dtype=np.int64))
    if ids.size:
        values = out[ids]
        out[ids] = np.where(values < 0, values * penalty, values / penalty)
    return out


def top_p_mask(logits: np.ndarray, top_p: float) -> np.ndarray:
    """Boolean mask of the tokens kept by nucleus (top-p) filtering of ``logits``."""
    if top_p >= 1.0:
        return np.ones(logits.shape, dtype=bool)
    order = np.argsort(logits, kind="stable")  # ascending, as transformers sorts
    probs = softmax(logits[order])
    removed = np.cumsum(probs) <= 1 - top_p
    removed[-1] = False  # the most likely token always stays
    mask = np.ones(logits.shape, dtype=bool)
    mask[order[removed]] = False
    return mask


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - np.max(logits))
    return shifted / shifted.sum()


def pick_token(
    logits: np.ndarray, *, seen: Iterable[int] = (), penalty: float = 1.0, temperature: float = 0.0,
    top_p: float = 1.0, rng: np.random.Generator | None = None,
) -> int:
    """The next token: greedy when ``temperature`` is 0, else sampled from the top-p set at ``temperature``."""
    scores = penalized(logits, seen, penalty)
    if temperature <= 0:
        return int(np.argmax(scores))
    scores = scores / temperature
    mask = top_p_mask(scores, top_p)
    probs = softmax(np.where(mask, scores, -np.inf))
    return int((rng or np.random.default_rng()).choice(probs.size, p=probs))


def top_k_ids(logits: np.ndarray, k: int) -> list[int]:
    """The ``k`` highest-scoring token ids, best first (as ``torch.topk(...).indices``)."""
    k = min(k, logits.size)
    best = np.argpartition(-logits, k - 1)[:k]
    return best[np.argsort(-logits[best], kind="stable")].tolist()
