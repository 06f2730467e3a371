"""Padding-free batches (also used by packing) must give the same loss as padded ones.

Guards a silent failure: with a KV cache object present, transformers' sdpa/eager attention ignores
the sequence boundaries that position_ids encode, and packed rows attend to each other.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_batching.py -q
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

CONVERSATIONS = [
    [{"role": "user", "content": "What is dropout?"},
     {"role": "assistant", "content": "Randomly zeroing activations during training."}],
    [{"role": "user", "content": "Define recall in one short sentence."},
     {"role": "assistant", "content": "The share of true positives that the model finds."}],
]


def test_padding_free_loss_equals_padded_loss():
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from finetune.base_model import load_for_training
    from finetune.config import ModelArguments
    from finetune.masking import tokenize_conversation

    model, tokenizer, info = load_for_training(ModelArguments(quantization="none"))
    assert info["quantization"] == "none" and model.config.use_cache is False
    model.train()
    rows = [tokenize_conversation(c, tokenizer, 128) for c in CONVERSATIONS]
    features = [{"input_ids": r.input_ids, "labels": r.labels} for r in rows]
    padded = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)(features)
    flat = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(features)
    assert flat["input_ids"].shape[0] == 1 and "attention_mask" not in flat
    with torch.no_grad():
        padded_loss = model(**padded).loss.item()
        flat_loss = model(**flat).loss.item()
        # the same flat batch without position ids (one long sequence) must differ, or the check is vacuous
        mixed_loss = model(input_ids=flat["input_ids"], labels=flat["labels"]).loss.item()
    assert flat_loss == pytest.approx(padded_loss, abs=1e-4)
    assert abs(mixed_loss - padded_loss) > 1e-3
