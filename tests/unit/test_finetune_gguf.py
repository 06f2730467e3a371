"""GGUF export pieces without a model: q/k permutation, rope factors, pre-tokenizer names, chunked
conversion, hyper-parameters. The full round trip on the real model is in
tests/integration/test_export_roundtrip.py.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_gguf.py -q
"""

from __future__ import annotations

import pytest

from finetune.gguf_export import GGUFExportError, hyper_parameters, llama3_rope_factors
from finetune.gguf_vocab import VocabError, detect_pre

LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def test_permutation_is_undone_by_transformers_loader():
    torch = pytest.importorskip("torch")
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    from finetune.gguf_export import permute_qk

    weights = torch.randn(6 * 8, 16)  # 6 heads of dim 8
    permuted = permute_qk(weights, 6)
    assert not torch.equal(permuted, weights)
    restored = LlamaTensorProcessor()._reverse_permute_weights(permuted.numpy(), 6, 6)
    assert torch.equal(torch.from_numpy(restored), weights)


def test_llama3_rope_factors_match_known_shape():
    config = {"rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
    factors = llama3_rope_factors(config, head_dim=128, theta=500000.0)
    assert len(factors) == 64
    assert factors[0] == 1.0 and factors[-1] == 32.0  # high frequencies untouched, low ones scaled
    assert all(a <= b for a, b in zip(factors, factors[1:]))
    assert llama3_rope_factors({"rope_parameters": {"rope_type": "default"}}, 64, 1e4) is None


@pytest.mark.parametrize(
    "pre_tokenizer, name",
    [
        ({"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}, "gpt2"),
        ({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                                {"type": "ByteLevel", "use_regex": True}]}, "smollm"),
        ({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated"},
            {"type": "ByteLevel", "use_regex": False}]}, "llama-bpe"),
    ],
)
def test_detect_pre(pre_tokenizer, name):
    assert detect_pre(pre_tokenizer) == name


def test_unknown_pre_tokenizer_is_an_error():
    with pytest.raises(VocabError, match="--tokenizer-pre"):
        detect_pre({"type": "Metaspace"})


def test_chunked_conversion_equals_whole_tensor(monkeypatch):
    torch = pytest.importorskip("torch")
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


def test_hyper_parameters_and_non_llama_refusal():
    config = {"model_type": "llama", "num_attention_heads": 9, "num_key_value_heads": 3, "hidden_size": 576,
              "intermediate_size": 1536, "num_hidden_layers": 30, "vocab_size": 49152,
              "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}, "tie_word_embeddings": True}
    hp = hyper_parameters(config)
    assert hp["head_dim"] == 64 and hp["rope_theta"] == 100000.0 and hp["tied"] and hp["head_count_kv"] == 3
    with pytest.raises(GGUFExportError, match="only llama"):
        hyper_parameters({**config, "model_type": "qwen2"})
