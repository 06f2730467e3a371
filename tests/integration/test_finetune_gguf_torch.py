"""GGUF export pieces that need torch or transformers (no model): q/k permutation against the transformers
loader, chunked conversion, the Llama-3 pre-tokenizer name (read from transformers' table).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_gguf_torch.py -q
"""

from __future__ import annotations

import pytest
import torch

from finetune.gguf_vocab import detect_pre

pytestmark = pytest.mark.torch  # torch tensors, transformers' tables: integration tier, no download

LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def test_permutation_is_undone_by_transformers_loader():
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    from finetune.gguf_export import permute_qk

    weights = torch.randn(6 * 8, 16)  # 6 heads of dim 8
    permuted = permute_qk(weights, 6)
    assert not torch.equal(permuted, weights)
    restored = LlamaTensorProcessor()._reverse_permute_weights(permuted.numpy(), 6, 6)
    assert torch.equal(torch.from_numpy(restored), weights)


def test_chunked_conversion_equals_whole_tensor(monkeypatch):
    from gguf import GGMLQuantizationType as Q
    from gguf import quants

    from finetune import gguf_export

    tensor = torch.randn(37, 64).to(torch.bfloat16)
    monkeypatch.setattr(gguf_export, "CHUNK_BYTES", 64 * 4 * 5)  # 5 rows per chunk
    for qtype in (Q.Q8_0, Q.BF16):
        expected = quants.quantize(tensor.float().numpy(), qtype)
        assert (gguf_export._convert(tensor, qtype) == expected).all()
    assert (gguf_export._convert(tensor, Q.F16) == tensor.float().numpy().astype("float16")).all()
    assert gguf_export._convert(torch.ones(8), Q.F32).shape == (1, 8)


def test_detect_pre_llama_bpe():
    pre_tokenizer = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated"},
        {"type": "ByteLevel", "use_regex": False}]}
    assert detect_pre(pre_tokenizer) == "llama-bpe"
