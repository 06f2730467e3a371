"""Check an exported GGUF against the HF folder it came from, by loading it back with transformers.

transformers dequantises the GGUF to fp32, rebuilds config and tokenizer from its metadata and
un-permutes q/k; the two models then see the same token ids and their next-token logits are
compared. f32 should match to float rounding (~1e-5); f16/bf16/q8_0 differ by their quantisation.
The tokenizers are compared too (ids of each prompt and of a chat-formatted conversation).

Known limit: transformers' GGUF loader does not read Llama-3 rope scaling (``rope_freqs``), so a
Llama-3.x export reloads in transformers with plain rope and differs; llama.cpp reads it correctly.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PROMPTS = (
    "The bias-variance trade-off says that",
    "Q: What does dropout do in a neural network?\nA:",
    "def gradient_descent(w, lr):\n    return",
)


def compare_logits(folder: str | Path, gguf_file: str | Path, prompts=DEFAULT_PROMPTS) -> dict:
    """``{"max_abs_diff", "per_prompt", "tokens_match", "argmax_match"}`` for HF folder vs GGUF."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_file = Path(gguf_file)
    reference_tok = AutoTokenizer.from_pretrained(str(folder))
    gguf_tok = AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
    chat = [{"role": "user", "content": "What is overfitting?"}, {"role": "assistant", "content": "Memorising noise."}]
    texts = list(prompts)
    if getattr(reference_tok, "chat_template", None):
        texts.append(reference_tok.apply_chat_template(chat, tokenize=False))
    tokens_match = all(reference_tok(t)["input_ids"] == gguf_tok(t)["input_ids"] for t in texts)
    template_match = getattr(reference_tok, "chat_template", None) == getattr(gguf_tok, "chat_template", None)

    per_prompt, argmax_match = [], True
    reference = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    reference_logits = []
    with torch.no_grad():
        for text in prompts:
            ids = reference_tok(text, return_tensors="pt")["input_ids"]
            reference_logits.append((ids, reference(ids).logits))
    del reference
    exported = AutoModelForCausalLM.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name,
                                                    dtype=torch.float32).eval()
    with torch.no_grad():
        for ids, expected in reference_logits:
            got = exported(ids).logits
            per_prompt.append(float((got - expected).abs().max()))
            argmax_match &= bool(torch.equal(got.argmax(-1), expected.argmax(-1)))
    return {
        "max_abs_diff": max(per_prompt), "per_prompt": per_prompt, "tokens_match": tokens_match,
        "chat_template_match": template_match, "argmax_match": argmax_match,
    }
