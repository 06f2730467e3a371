"""Loss masking with the embedded model's real tokenizer and chat template (SmolLM2, ChatML).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_masking_real.py -q
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

CHAT = [
    {"role": "user", "content": "What is overfitting?"},
    {"role": "assistant", "content": "Fitting the noise of the training set."},
    {"role": "user", "content": "How do I reduce it?"},
    {"role": "assistant", "content": "Use more data or regularisation."},
]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from llm.embedded import ensure_converted

    return AutoTokenizer.from_pretrained(str(ensure_converted()))


def test_prompt_tokens_are_masked_and_replies_are_targets(tokenizer):
    from finetune.masking import IGNORE_INDEX, tokenize_conversation

    example = tokenize_conversation(CHAT, tokenizer, max_length=512)
    # the same ids the chat template gives at inference (no extra BOS)
    assert example.input_ids == tokenizer.apply_chat_template(CHAT, tokenize=True, return_dict=True)["input_ids"]
    targets = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE_INDEX]
    prompt = [t for t, label in zip(example.input_ids, example.labels) if label == IGNORE_INDEX]
    assert tokenizer.decode(targets) == (
        "Fitting the noise of the training set.<|im_end|>\nUse more data or regularisation.<|im_end|>\n"
    )
    prompt_text = tokenizer.decode(prompt)
    assert "What is overfitting?" in prompt_text and "How do I reduce it?" in prompt_text
    assert "You are a helpful AI assistant" in prompt_text  # the template's default system prompt
    assert prompt_text.count("<|im_start|>assistant") == 2  # the headers are prompt, not target
    assert tokenizer.eos_token_id in targets  # the model learns to stop


def test_last_turn_only_masks_earlier_replies(tokenizer):
    from finetune.masking import IGNORE_INDEX, tokenize_conversation

    example = tokenize_conversation(CHAT, tokenizer, max_length=512, turns="last")
    targets = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE_INDEX]
    assert tokenizer.decode(targets) == "Use more data or regularisation.<|im_end|>\n"


def test_build_dataset_reports_skips(tmp_path, tokenizer):
    import json

    from finetune.config import DataArguments
    from finetune.data import build_dataset

    rows = [{"messages": CHAT}, {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hey"}]},
            {"messages": [{"role": "assistant", "content": "orphan"}]}]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n", encoding="utf-8")
    dataset, report = build_dataset(DataArguments(dataset=str(path), max_length=512), tokenizer, progress=False)
    assert len(dataset) == 2 and report.rows_used == 2 and report.rows_read == 4
    assert report.skipped == {"invalid_json": 1, "must_start_with_user": 1}
    assert report.target_tokens == sum(sum(1 for x in labels if x != -100) for labels in dataset["labels"])
