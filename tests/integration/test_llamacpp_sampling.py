"""The llama.cpp runtime's torch-side pieces: its numpy token choice against transformers' own processors, and
the tutor adapter's conversion to a LoRA GGUF (llm/lora_gguf.py) read back.

    PYTHONPATH=$PWD python -m pytest -q tests/integration/test_llamacpp_sampling.py
"""

from __future__ import annotations

import numpy as np
import pytest

from llm.lora_gguf import permute_rows
from llm.sampling import penalized, pick_token, top_p_mask

pytestmark = pytest.mark.torch


def test_repetition_penalty_matches_transformers():
    import torch
    from transformers import RepetitionPenaltyLogitsProcessor

    logits = np.array([2.0, -1.0, 0.5, 3.0, -2.0], dtype=np.float32)
    seen = [0, 1, 1, 4]
    expected = RepetitionPenaltyLogitsProcessor(1.15)(torch.tensor([seen]), torch.tensor([logits]))[0].numpy()
    np.testing.assert_allclose(penalized(logits, seen, 1.15), expected, rtol=1e-6)
    assert pick_token(np.array([2.0, 1.9, 0.0]), seen=[0], penalty=1.15) == 1  # 2.0/1.15 < 1.9


def test_top_p_keeps_what_transformers_keeps():
    import torch
    from transformers import TopPLogitsWarper

    logits = np.array([1.0, 3.0, 0.5, 2.5, -1.0, 2.9], dtype=np.float32)
    for top_p in (0.1, 0.5, 0.9, 0.99):
        warped = TopPLogitsWarper(top_p)(None, torch.tensor([logits]))[0].numpy()
        np.testing.assert_array_equal(top_p_mask(logits, top_p), np.isfinite(warped))


def test_lora_gguf_round_trip(tmp_path):
    """A tiny adapter for a 1-block llama: names, shapes, the q rows permuted, alpha kept."""
    import json

    import gguf
    import torch
    from safetensors.torch import save_file

    from llm.lora_gguf import BaseShape, write_lora_gguf
    import llm.lora_gguf as lora_gguf

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    a, b = torch.randn(2, 8), torch.randn(8, 2)
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": a,
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": b,
               "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight": b.clone()},
              str(adapter / "adapter_model.safetensors"))
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "lora_alpha": 4, "r": 2}))
    shape = BaseShape("llama", 1, 2, 1)
    original = lora_gguf.base_shape
    lora_gguf.base_shape = lambda path: shape
    try:
        out = write_lora_gguf(adapter, tmp_path / "base.gguf", tmp_path / "lora.gguf")
    finally:
        lora_gguf.base_shape = original
    reader = gguf.GGUFReader(str(out))
    tensors = {t.name: np.array(t.data) for t in reader.tensors}
    assert set(tensors) == {"blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b", "blk.0.ffn_up.weight.lora_b"}
    np.testing.assert_array_equal(tensors["blk.0.attn_q.weight.lora_a"], a.numpy())
    np.testing.assert_array_equal(tensors["blk.0.attn_q.weight.lora_b"], permute_rows(b.numpy(), 2))
    np.testing.assert_array_equal(tensors["blk.0.ffn_up.weight.lora_b"], b.numpy())  # not q/k: unpermuted
    alpha = reader.fields["adapter.lora.alpha"]
    assert float(alpha.parts[alpha.data[0]][0]) == 4.0


# ------------------------------------------------------------------ the decode loop, on a scripted llama
