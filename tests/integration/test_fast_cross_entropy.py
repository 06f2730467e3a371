"""The fused LM-head loss of the fast path equals the textbook one (CPU, float64, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_fast_cross_entropy.py -q
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from finetune.fast import cross_entropy
from finetune.fast.cross_entropy import IGNORE_INDEX, causal_lm_loss, chunked_cross_entropy_sum

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download


def _data(tokens=37, hidden=16, vocab=53, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(tokens, hidden, generator=gen, dtype=torch.float64)
    w = torch.randn(vocab, hidden, generator=gen, dtype=torch.float64) * 0.3
    t = torch.randint(0, vocab, (tokens,), generator=gen)
    t[::5] = IGNORE_INDEX
    return h, w, t


@pytest.mark.parametrize("chunk,compiled", [(1, False), (8, False), (37, False), (512, False), (8, "eager")])
def test_chunked_sum_and_gradients_match_cross_entropy(chunk, compiled, monkeypatch):
    if compiled == "eager":  # the one-expression chunk math that 'compiled' hands to torch.compile, run eagerly
        monkeypatch.setitem(cross_entropy._COMPILED, "fn", cross_entropy.chunk_loss_and_grad)
    h, w, t = _data()
    h1, w1 = h.clone().requires_grad_(True), w.clone().requires_grad_(True)
    ours = chunked_cross_entropy_sum(h1, w1, t, chunk=chunk, compiled=bool(compiled))
    (ours * 0.7).backward()
    h2, w2 = h.clone().requires_grad_(True), w.clone().requires_grad_(True)
    ref = F.cross_entropy(h2 @ w2.t(), t, ignore_index=IGNORE_INDEX, reduction="sum")
    (ref * 0.7).backward()
    assert torch.allclose(ours, ref, rtol=1e-10)
    assert torch.allclose(h1.grad, h2.grad, rtol=1e-9, atol=1e-12)
    assert torch.allclose(w1.grad, w2.grad, rtol=1e-9, atol=1e-12)
    assert torch.all(h1.grad[::5] == 0)  # ignored tokens get no gradient


def test_compiled_chunk_math_matches_eager_and_falls_back_when_compiling_fails(monkeypatch):
    h, w, t = _data(tokens=20, vocab=40)
    h = h.float().requires_grad_(True)
    w = w.float()
    expected = chunked_cross_entropy_sum(h, w, t, chunk=8)
    expected.backward()
    grad, h.grad = h.grad.clone(), None

    def broken(*args):
        raise RuntimeError("no compiler here")

    monkeypatch.setitem(cross_entropy._COMPILED, "fn", broken)
    with pytest.warns(UserWarning, match="compiled cross-entropy failed"):
        got = chunked_cross_entropy_sum(h, w, t, chunk=8, compiled=True)
    got.backward()
    assert cross_entropy._COMPILED["fn"] is None  # later calls go straight to the eager math
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(h.grad, grad)


def test_frozen_head_gets_no_gradient():
    h, w, t = _data()
    h = h.requires_grad_(True)
    chunked_cross_entropy_sum(h, w, t, chunk=7).backward()
    assert h.grad is not None and w.grad is None


def _hf_style_loss(hidden, weight, labels, num_items_in_batch=None):
    """transformers' ForCausalLMLoss: shift left, ignore -100, sum / num_items or mean."""
    logits = hidden @ weight.t()
    shift = F.pad(labels, (0, 1), value=IGNORE_INDEX)[..., 1:]
    reduction = "sum" if num_items_in_batch is not None else "mean"
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), shift.reshape(-1), ignore_index=IGNORE_INDEX,
                           reduction=reduction)
    return loss / num_items_in_batch if num_items_in_batch is not None else loss


@pytest.mark.parametrize("num_items", [None, 11])
def test_causal_lm_loss_matches_transformers_semantics(num_items):
    gen = torch.Generator().manual_seed(1)
    hidden = torch.randn(3, 9, 16, generator=gen, dtype=torch.float64)
    weight = torch.randn(40, 16, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 40, (3, 9), generator=gen)
    labels[0, :4] = IGNORE_INDEX  # a masked prompt
    ours = causal_lm_loss(hidden, weight, labels, num_items_in_batch=num_items)
    assert torch.allclose(ours, _hf_style_loss(hidden, weight, labels, num_items), rtol=1e-10)


def test_pre_shifted_labels_are_not_shifted_again():
    gen = torch.Generator().manual_seed(2)
    hidden = torch.randn(2, 6, 8, generator=gen, dtype=torch.float64)
    weight = torch.randn(20, 8, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 20, (2, 6), generator=gen)
    shifted = F.pad(labels, (0, 1), value=IGNORE_INDEX)[..., 1:]
    assert torch.allclose(causal_lm_loss(hidden, weight, shifted, shift=False), causal_lm_loss(hidden, weight, labels))
