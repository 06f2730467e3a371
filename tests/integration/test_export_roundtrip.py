"""Merge an adapter into the real embedded model, export GGUF f32, load it back, compare logits.

The adapter is random (``init_lora_weights=False``) so the merge visibly changes the model without
a training run. Checks: merged == base+adapter (PEFT) logits; GGUF f32 reloaded by transformers ==
merged logits, same token ids and chat template; an interrupted export leaves no file.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_export_roundtrip.py -q
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.model

PROMPT = "Overfitting means that a model"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llm.embedded import ensure_converted
    from tutor.cli import main

    root = tmp_path_factory.mktemp("export")
    base = str(ensure_converted())
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                                  init_lora_weights=False))
    for name, param in peft_model.named_parameters():  # PEFT's non-default init is large; keep the model sane
        if "lora_B" in name:
            param.data.mul_(0.05)
    peft_model.save_pretrained(root / "adapter")
    tokenizer = AutoTokenizer.from_pretrained(base)
    ids = tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), root / "adapter").eval()
        expected = adapted(ids).logits
    del adapted, peft_model, model

    assert main(["export", "merge", "--model", "embedded", "--adapter", str(root / "adapter"),
                 "--out", str(root / "merged")]) == 0
    assert main(["export", "gguf", "--model", str(root / "merged"), "--out", str(root / "tutor-f32.gguf"),
                 "--outtype", "f32", "--verify", "yes"]) == 0
    return {"root": root, "ids": ids, "expected": expected, "base": base}


def test_merged_model_equals_base_plus_adapter(exported):
    import torch
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(str(exported["root"] / "merged")).eval()
    base = AutoModelForCausalLM.from_pretrained(exported["base"]).eval()
    with torch.no_grad():
        got, original = merged(exported["ids"]).logits, base(exported["ids"]).logits
    assert (got - exported["expected"]).abs().max().item() < 1e-3
    assert (original - exported["expected"]).abs().max().item() > 1e-2  # the adapter did change the model
    metrics = json.loads((exported["root"] / "merged" / "merge_metrics.json").read_text())
    assert metrics["merged_modules"] == 30 * 7 and metrics["method"] == "stream"
    assert 0 < metrics["peak_rss_mb"]


def test_gguf_f32_round_trip_matches(exported):
    report = json.loads((exported["root"] / "tutor-f32.gguf.json").read_text())
    verify = report["verify"]
    assert verify["tokens_match"] and verify["chat_template_match"] and verify["argmax_match"]
    assert verify["max_abs_diff"] < 1e-3, verify
    assert report["tensors"] == 272 and report["outtype"] == "f32"  # 30 blocks x 9 + token_embd + output_norm


def test_gguf_names_follow_llama_cpp(exported):
    from transformers.integrations.gguf.reader import read_gguf_metadata

    metadata, names = read_gguf_metadata(str(exported["root"] / "tutor-f32.gguf"))
    assert {"token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight"} <= set(names)
    assert "output.weight" not in names  # tied embeddings
    assert metadata["general.architecture"] == "llama" and metadata["tokenizer.ggml.model"] == "gpt2"
    assert metadata["llama.block_count"] == 30 and metadata["llama.attention.head_count_kv"] == 3


def test_interrupted_gguf_export_leaves_no_file(exported, monkeypatch):
    from finetune import gguf_export

    calls = {"n": 0}
    real_load = gguf_export.load_tensor

    def failing_load(entry):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt("simulated kill")
        return real_load(entry)

    monkeypatch.setattr(gguf_export, "load_tensor", failing_load)
    target = exported["root"] / "interrupted.gguf"
    with pytest.raises(KeyboardInterrupt):
        gguf_export.write_gguf(exported["root"] / "merged", target, outtype="f16", progress=False)
    assert not target.exists()
    assert not [p for p in exported["root"].iterdir() if p.name.startswith(".partial")]
