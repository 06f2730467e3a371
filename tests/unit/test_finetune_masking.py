"""Loss masking: only assistant replies (and their end-of-turn marker) are targets.

Uses a pure ChatML renderer and a toy word tokenizer with offsets, so it runs in milliseconds; the
same property on the real SmolLM2 tokenizer is checked in tests/integration/test_finetune_masking_real.py.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_masking.py -q
"""

from __future__ import annotations

import re

import pytest

from finetune.formats import MalformedRow
from finetune.masking import IGNORE_INDEX, assistant_spans, label_tokens, tokenize_conversation

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is overfitting?"},
    {"role": "assistant", "content": "Fitting noise."},
    {"role": "user", "content": "Fix?"},
    {"role": "assistant", "content": "Regularise more."},
]


def chatml(messages, add_generation_prompt):
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def forgetful(messages, add_generation_prompt):
    """A template that drops earlier assistant replies (like some 'thinking' templates)."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    kept = [m for i, m in enumerate(messages) if m["role"] != "assistant" or i == last]
    return chatml(kept, add_generation_prompt)


class ToyTokenizer:
    """Splits into special markers, words, whitespace and punctuation; ids are stable hashes."""

    pattern = re.compile(r"<\|im_(?:start|end)\|>|\w+|\s|[^\w\s]")

    def __call__(self, text, add_special_tokens=False, return_offsets_mapping=False):
        matches = list(self.pattern.finditer(text))
        return {"input_ids": [sum(map(ord, m.group())) % 997 + 1 for m in matches],
                "offset_mapping": [(m.start(), m.end()) for m in matches]}


def target_text(messages, render, turns="all"):
    text, spans, _ = assistant_spans(messages, render, turns)
    return [text[a:b] for a, b in spans]


def test_spans_cover_each_reply_and_its_end_marker():
    assert target_text(CHAT, chatml) == ["Fitting noise.<|im_end|>\n", "Regularise more.<|im_end|>\n"]


def test_last_turn_only():
    assert target_text(CHAT, chatml, turns="last") == ["Regularise more.<|im_end|>\n"]


def test_template_that_rewrites_history_falls_back_to_last_reply():
    text, spans, fell_back = assistant_spans(CHAT, forgetful)
    assert fell_back and [text[a:b] for a, b in spans] == ["Regularise more.<|im_end|>\n"]


def test_labels_mask_prompt_tokens():
    tokenizer = ToyTokenizer()
    example = tokenize_conversation(CHAT, tokenizer, max_length=1000, render=chatml)
    text = chatml(CHAT, False)
    encoded = tokenizer(text)
    assert example.input_ids == encoded["input_ids"]
    kept = "".join(text[a:b] for (a, b), label in zip(encoded["offset_mapping"], example.labels) if label != IGNORE_INDEX)
    masked = "".join(text[a:b] for (a, b), label in zip(encoded["offset_mapping"], example.labels) if label == IGNORE_INDEX)
    assert kept == "Fitting noise.<|im_end|>\nRegularise more.<|im_end|>\n"
    assert "What is overfitting?" in masked and "Be brief." in masked and "<|im_start|>assistant\n" in masked
    assert all(label in (IGNORE_INDEX, token) for label, token in zip(example.labels, example.input_ids))


def test_truncation_that_leaves_no_target_is_malformed():
    with pytest.raises(MalformedRow) as info:
        tokenize_conversation(CHAT, ToyTokenizer(), max_length=5, render=chatml)
    assert info.value.reason == "no_target_within_max_length"


def test_truncation_keeps_the_start():
    full = tokenize_conversation(CHAT, ToyTokenizer(), max_length=1000, render=chatml)
    cut = tokenize_conversation(CHAT, ToyTokenizer(), max_length=40, render=chatml)
    assert cut.input_ids == full.input_ids[:40] and cut.labels == full.labels[:40]
    assert 0 < cut.n_target_tokens < full.n_target_tokens


def test_label_tokens_uses_token_start():
    # a token starting inside a span is a target even if it ends after it, one starting before is not
    labels = label_tokens([(0, 3), (3, 6), (6, 9)], [11, 12, 13], [(4, 8)])
    assert labels == [IGNORE_INDEX, IGNORE_INDEX, 13]
