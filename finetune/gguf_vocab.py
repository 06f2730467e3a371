"""Tokenizer metadata for a GGUF file, read from an HF folder's ``tokenizer.json``.

llama.cpp (and transformers' GGUF loader) rebuild a byte-level BPE tokenizer from
``tokenizer.ggml.{model, pre, tokens, token_type, merges}``, the special token ids, the add-BOS flag
and the chat template. ``pre`` names the regex that splits text before BPE; it is read off the
folder's pre-tokenizer so that the GGUF tokenises exactly like the folder does:

* plain ``ByteLevel`` (GPT-2 regex) -> ``gpt2`` (the embedded SmolLM2 folder, itself built from a GGUF);
* ``Digits`` + ``ByteLevel`` -> ``smollm`` (SmolLM2's hub tokenizer);
* ``Split(regex)`` + ``ByteLevel`` -> the llama.cpp name of that regex (Llama 3 -> ``llama-bpe``).

Only byte-level BPE vocabularies are handled (SmolLM2, Llama 3.x, Qwen, ...); SentencePiece
``tokenizer.model`` folders (Llama 2) raise :class:`VocabError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5
# Preferred llama.cpp names when several share one regex in transformers' table.
PREFERRED_PRE = ("llama-bpe", "qwen2", "gpt-4o", "tekken")


class VocabError(ValueError):
    """The folder's tokenizer cannot be described in GGUF metadata by this exporter."""


@dataclass
class GGUFVocab:
    tokens: list[str]
    token_types: list[int]
    merges: list[str]
    pre: str
    bos_token_id: int | None
    eos_token_id: int | None
    pad_token_id: int | None
    unk_token_id: int | None
    add_bos_token: bool
    chat_template: str | None


def detect_pre(pre_tokenizer: dict | None) -> str:
    """llama.cpp's pre-tokenizer name for a ``tokenizer.json`` ``pre_tokenizer`` entry."""
    if not pre_tokenizer:
        raise VocabError("tokenizer.json has no pre_tokenizer; pass --tokenizer-pre NAME")
    kind = pre_tokenizer.get("type")
    if kind == "ByteLevel" and pre_tokenizer.get("use_regex", True):
        return "gpt2"
    if kind == "Sequence":
        parts = pre_tokenizer.get("pretokenizers", [])
        types = [p.get("type") for p in parts]
        if types == ["Digits", "ByteLevel"] and parts[0].get("individual_digits") and parts[1].get("use_regex", True):
            return "smollm"
        if types == ["Split", "ByteLevel"] and not parts[1].get("use_regex", True):
            regex = (parts[0].get("pattern") or {}).get("Regex")
            from transformers.integrations.gguf.gguf_tokenizer_mapping import GGUF_PRE_TOKENIZER_SPLITS

            names = [name for name, split in GGUF_PRE_TOKENIZER_SPLITS.items() if split == regex]
            for preferred in PREFERRED_PRE:
                if preferred in names:
                    return preferred
            if names:
                return names[0]
    raise VocabError(f"unrecognised pre-tokenizer {json.dumps(pre_tokenizer)[:120]}; pass --tokenizer-pre NAME")


def _merge_strings(merges: list) -> list[str]:
    out = []
    for merge in merges:
        if isinstance(merge, str):
            out.append(merge)
        elif isinstance(merge, (list, tuple)) and len(merge) == 2:
            if " " in merge[0] or " " in merge[1]:
                raise VocabError(f"merge {merge!r} contains a space and cannot be written as 'a b'")
            out.append(f"{merge[0]} {merge[1]}")
        else:
            raise VocabError(f"unexpected merge entry {merge!r}")
    return out


def read_vocab(folder: str | Path, vocab_size: int | None = None, pre: str | None = None) -> GGUFVocab:
    """Everything GGUF needs about the tokenizer in ``folder`` (``vocab_size`` pads with unused ids)."""
    from transformers import AutoTokenizer

    folder = Path(folder)
    spec_file = folder / "tokenizer.json"
    if not spec_file.is_file():
        raise VocabError(f"{folder} has no tokenizer.json (only fast byte-level BPE tokenizers are exported)")
    spec: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        raise VocabError(f"tokenizer model {model.get('type')!r} is not BPE; only byte-level BPE is exported")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    vocab: dict[str, int] = dict(model["vocab"])
    added = {entry["id"]: entry for entry in spec.get("added_tokens", [])}
    size = max([vocab_size or 0, len(tokenizer), *(i + 1 for i in vocab.values()), *(i + 1 for i in added)])
    tokens: list[str | None] = [None] * size
    types = [UNUSED] * size
    for token, index in vocab.items():
        tokens[index], types[index] = token, NORMAL
    for index, entry in added.items():
        tokens[index] = entry["content"]
        types[index] = CONTROL if entry.get("special") else USER_DEFINED
    for index, token in enumerate(tokens):
        if token is None:
            tokens[index] = f"[PAD{index}]"
    probe = tokenizer("a", add_special_tokens=True)["input_ids"]
    bos = tokenizer.bos_token_id
    return GGUFVocab(
        tokens=tokens, token_types=types, merges=_merge_strings(model.get("merges", [])),
        pre=pre or detect_pre(spec.get("pre_tokenizer")),
        bos_token_id=bos, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        unk_token_id=tokenizer.unk_token_id,
        add_bos_token=bool(bos is not None and probe and probe[0] == bos),
        chat_template=tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else None,
    )


def add_vocab(writer: Any, vocab: GGUFVocab) -> None:
    """Write the tokenizer keys with a ``gguf.GGUFWriter``."""
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.token_types)
    writer.add_token_merges(vocab.merges)
    for token_id, add in ((vocab.bos_token_id, writer.add_bos_token_id), (vocab.eos_token_id, writer.add_eos_token_id),
                          (vocab.unk_token_id, writer.add_unk_token_id), (vocab.pad_token_id, writer.add_pad_token_id)):
        if token_id is not None:
            add(token_id)
    writer.add_add_bos_token(vocab.add_bos_token)
    if vocab.chat_template:
        writer.add_chat_template(vocab.chat_template)
