"""The patched Llama (fast path) trains the same function as transformers + PEFT (CPU, float64, tiny model).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_fast_llama.py -q

The CUDA-only parts (NF4 weights, Liger kernels, pinned-memory offload) are checked on a GPU by
``bench/fast_correctness.py``; here every lever runs its torch/CPU code path.
"""

from __future__ import annotations

import copy

import pytest
import torch

from finetune.fast import FastOptions, apply

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download

transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")


@pytest.fixture(scope="module")
def base():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, head_dim=8, vocab_size=61, tie_word_embeddings=True,
                                      attn_implementation="sdpa")
    return transformers.LlamaForCausalLM(config).double()


def _peft(base):
    torch.manual_seed(1)
    model = peft.get_peft_model(copy.deepcopy(base), peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)  # non-zero B so that every LoRA tensor gets a gradient
    return model.train()


def _step(model, **batch):
    model.zero_grad(set_to_none=True)
    out = model(**batch)
    out.loss.backward()
    return out, {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def _close(a, b) -> bool:
    """Relative L2 within 1e-5: transformers' loss runs in fp32 even for a float64 model."""
    return float((a - b).norm() / b.norm()) < 1e-5


def _batch(padded: bool):
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 61, (2, 10), generator=gen)
    labels = ids.clone()
    batch = {"input_ids": ids, "labels": labels}
    if padded:  # left padding on the first row
        mask = torch.ones_like(ids)
        mask[0, :3] = 0
        labels[0, :3] = -100
        batch["attention_mask"] = mask
    return batch


@pytest.mark.parametrize("checkpointing", ["offload", "recompute", "none"])
@pytest.mark.parametrize("padded", [False, True])
def test_fast_loss_and_lora_grads_match_plain(base, checkpointing, padded):
    plain, fast = _peft(base), _peft(base)
    report = apply(fast, options=FastOptions(force=True, checkpointing=checkpointing))
    assert report["applied"] and report["fused_lora_projections"] == report["projections"] == 14
    ref_out, ref = _step(plain, **_batch(padded))
    out, grads = _step(fast, **_batch(padded))
    assert out.logits is None  # the fused loss never built them
    assert torch.allclose(out.loss.double(), ref_out.loss.double(), rtol=1e-6)
    for name in ref:
        assert _close(grads[name], ref[name]), name


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_loss_chunk_size_changes_nothing_but_memory(base, chunk):
    """``cross_entropy_chunk`` splits the fused LM-head loss; 1 token, an odd size and more than the batch agree."""
    plain, fast = _peft(base), _peft(base)
    apply(fast, options=FastOptions(force=True, cross_entropy_chunk=chunk))
    ref_out, ref = _step(plain, **_batch(True))
    out, grads = _step(fast, **_batch(True))
    assert torch.allclose(out.loss.double(), ref_out.loss.double(), rtol=1e-6)
    for name in ref:
        assert _close(grads[name], ref[name]), name


def test_trainer_checkpointing_toggle_does_not_double_checkpoint(base):
    fast = _peft(base)
    apply(fast, options=FastOptions(force=True))
    fast.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    layer = fast.get_base_model().model.layers[0]
    assert layer.gradient_checkpointing is False and type(layer).__name__.startswith("Fast")
    _, grads = _step(fast, **_batch(False))
    _, ref = _step(_peft(base), **_batch(False))
    assert all(_close(grads[n], ref[n]) for n in ref)


def test_eval_and_switched_off_paths_are_the_original_forward(base):
    plain, fast = _peft(base), _peft(base)
    options = FastOptions(force=True)
    apply(fast, options=options)
    batch = _batch(False)
    with torch.no_grad():
        plain.eval(), fast.eval()
        assert torch.allclose(fast(**batch).logits, plain(**batch).logits)
    plain.train(), fast.train()
    options.enabled = False
    out, grads = _step(fast, **batch)
    ref_out, ref = _step(plain, **batch)
    assert out.logits is not None and torch.allclose(out.loss, ref_out.loss)


def test_apply_is_a_no_op_without_cuda_or_for_other_architectures(base, monkeypatch):
    model = _peft(base)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert apply(model) == {"applied": False, "reason": "CUDA is not available"}
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=30))
    report = apply(gpt2, options=FastOptions(force=True))
    assert not report["applied"] and "gpt2" in report["reason"]
    assert FastOptions.from_config(None).checkpointing == "offload"


def test_sft_trainer_with_the_fast_patch_logs_the_same_losses(base, tmp_path):
    """The trainer's own flow: TRL's fused LM head, its collator (padding) and its checkpointing toggle."""
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({f"t{i}": i for i in range(61)}, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="t1", eos_token="t2",
                                                     pad_token="t3")
    gen = torch.Generator().manual_seed(0)
    rows = [torch.randint(4, 61, (int(n),), generator=gen).tolist() for n in torch.randint(6, 16, (12,), generator=gen)]
    data = datasets.Dataset.from_list([{"input_ids": r, "labels": list(r)} for r in rows])

    def losses(fast: bool) -> list[float]:
        args = trl.SFTConfig(output_dir=str(tmp_path / str(fast)), max_steps=3, per_device_train_batch_size=4,
                             learning_rate=1e-3, logging_steps=1, report_to="none", gradient_checkpointing=True,
                             gradient_checkpointing_kwargs={"use_reentrant": False}, save_strategy="no", bf16=False,
                             seed=0, data_seed=0, max_length=None, dataset_num_proc=None, disable_tqdm=True)
        torch.manual_seed(0)
        trainer = trl.SFTTrainer(model=copy.deepcopy(base).float(), args=args, train_dataset=data,
                                 processing_class=tokenizer,
                                 peft_config=peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
        if fast:
            assert apply(trainer.model, options=FastOptions(force=True))["applied"]
        trainer.train()
        return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]

    plain, fast = losses(False), losses(True)
    assert len(fast) == 3 and all(abs(f - p) <= 1e-4 * abs(p) for f, p in zip(fast, plain))


def test_cached_lora_casts_train_exactly_like_fresh_casts(base):
    """``cache_lora_casts``: bf16 copies made once a pass; two optimizer steps under bf16 autocast give the
    same losses and weights bit for bit (a copy kept past the optimizer step would change step 2)."""
    from finetune.fast import lora

    def train(cache: bool):
        model = _peft(base.float())
        apply(model, options=FastOptions(force=True, cache_lora_casts=cache))
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
        losses = []
        for _ in range(2):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(**_batch(False)).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
        copies = lora._CAST_CACHE["copies"]
        return losses, {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}, copies

    losses, weights, copies = train(True)
    ref_losses, ref_weights, no_copies = train(False)
    assert copies is not None and len(copies) == 2 * 7 * 2 and no_copies is None  # 2 layers x 7 projections x A, B
    assert losses == ref_losses and losses[0] != losses[1]
    assert all(torch.equal(weights[n], ref_weights[n]) for n in ref_weights)
