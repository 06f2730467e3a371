"""Streaming safetensors I/O and the streaming LoRA merge, on a tiny random llama (no real model).

The merge must equal PEFT's own ``merge_and_unload`` (including rsLoRA and per-module rank/alpha
patterns), write valid sharded safetensors, and leave nothing behind when interrupted.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_merge.py -q
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from finetune import merge as merge_module  # noqa: E402
from finetune.safetensors_stream import ShardedWriter, list_tensors, load_tensor  # noqa: E402

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download


def tiny_llama(folder):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         tie_word_embeddings=False)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder)
    return model


def tiny_adapter(base_folder, adapter_folder, **lora_kwargs):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(base_folder)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False, **lora_kwargs)
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(adapter_folder)
    return peft_model


def test_sharded_writer_round_trip(tmp_path):
    from safetensors.torch import load_file

    tensors = {"a": torch.randn(8, 4), "b": torch.arange(10, dtype=torch.int64),
               "c": torch.randn(3, 3).to(torch.bfloat16), "d": torch.ones(16, 16, dtype=torch.float16)}
    writer = ShardedWriter(tmp_path, [(k, {"torch.float32": "F32", "torch.int64": "I64", "torch.bfloat16": "BF16",
                                          "torch.float16": "F16"}[str(v.dtype)], tuple(v.shape))
                                      for k, v in tensors.items()], max_shard_bytes=200)
    for name, tensor in tensors.items():
        writer.write(name, tensor)
    writer.close()
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) >= 2
    entries = list_tensors(tmp_path)
    for name, tensor in tensors.items():
        assert torch.equal(load_tensor(entries[name]), tensor)
        shard = index["weight_map"][name]
        assert torch.equal(load_file(tmp_path / shard)[name], tensor)  # the official reader agrees


def test_writer_rejects_out_of_plan_tensor(tmp_path):
    writer = ShardedWriter(tmp_path, [("a", "F32", (2,))], max_shard_bytes=1 << 20)
    with pytest.raises(ValueError, match="does not match the plan"):
        writer.write("a", torch.zeros(3))


@pytest.mark.parametrize("lora_kwargs", [{}, {"use_rslora": True, "rank_pattern": {"q_proj": 2},
                                               "alpha_pattern": {"down_proj": 3}}])
def test_streaming_merge_equals_peft_merge(tmp_path, lora_kwargs):
    base, adapter, out = tmp_path / "base", tmp_path / "adapter", tmp_path / "merged"
    tiny_llama(base)
    peft_model = tiny_adapter(base, adapter, **lora_kwargs)
    expected = {k: v.detach().clone() for k, v in peft_model.merge_and_unload().state_dict().items()}
    info = merge_module.merge(str(base), str(adapter), out, max_shard_mb=1)
    assert info["merged_modules"] == 2 * 7 and info["peak_rss_mb"] > 0
    merged = {name: load_tensor(entry) for name, entry in list_tensors(out).items()}
    assert set(merged) == set(expected)
    changed = 0
    for name, tensor in expected.items():
        torch.testing.assert_close(merged[name], tensor, rtol=1e-5, atol=1e-6)
        base_tensor = load_tensor(list_tensors(base)[name])
        changed += int(not torch.equal(base_tensor, merged[name]))
    assert changed == 14  # exactly the LoRA-adapted projections differ from the base
    assert (out / "config.json").is_file() and (out / "merge_metrics.json").is_file()


def test_interrupted_merge_leaves_nothing(tmp_path, monkeypatch):
    base, adapter, out = tmp_path / "base", tmp_path / "adapter", tmp_path / "merged"
    tiny_llama(base)
    tiny_adapter(base, adapter)
    calls = {"n": 0}
    real_load = merge_module.load_tensor

    def failing_load(entry):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt("simulated kill")
        return real_load(entry)

    monkeypatch.setattr(merge_module, "load_tensor", failing_load)
    with pytest.raises(KeyboardInterrupt):
        merge_module.merge(str(base), str(adapter), out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".partial")] == []


def test_dora_adapter_is_refused(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "use_dora": True, "r": 4,
                                                            "lora_alpha": 8}))
    with pytest.raises(merge_module.MergeError, match="--method peft"):
        merge_module.lora_pairs(adapter)
