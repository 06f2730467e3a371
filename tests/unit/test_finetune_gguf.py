"""GGUF export pieces without a model or torch: rope factors, pre-tokenizer names, hyper-parameters.
q/k permutation, chunked conversion and the Llama-3 pre-tokenizer are in
tests/integration/test_finetune_gguf_torch.py; the full round trip on the real model in
tests/integration/test_export_roundtrip.py.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_gguf.py -q
"""

from __future__ import annotations

import pytest

from finetune.gguf_export import GGUFExportError, hyper_parameters, llama3_rope_factors
from finetune.gguf_vocab import VocabError, detect_pre

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
    ],
)
def test_detect_pre(pre_tokenizer, name):
    assert detect_pre(pre_tokenizer) == name


def test_unknown_pre_tokenizer_is_an_error():
    with pytest.raises(VocabError, match="--tokenizer-pre"):
        detect_pre({"type": "Metaspace"})


def test_hyper_parameters_and_non_llama_refusal():
    config = {"model_type": "llama", "num_attention_heads": 9, "num_key_value_heads": 3, "hidden_size": 576,
              "intermediate_size": 1536, "num_hidden_layers": 30, "vocab_size": 49152,
              "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}, "tie_word_embeddings": True}
    hp = hyper_parameters(config)
    assert hp["head_dim"] == 64 and hp["rope_theta"] == 100000.0 and hp["tied"] and hp["head_count_kv"] == 3
    with pytest.raises(GGUFExportError, match="only llama"):
        hyper_parameters({**config, "model_type": "qwen2"})
