"""The llama.cpp decode loop ends the turn on every end token and reads every token's text whole
(llm/llamacpp_vocab.py).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/integration/test_llamacpp_end_tokens.py

The real case: the embedded GGUF re-labelled with ``<|endoftext|>`` as its EOS, as a GGUF exported from a base-model
tokenizer carries it, while the chat model ends its turns with ``<|im_end|>``. Stopping on the EOS alone, the loop fed
``<|im_end|>`` back: "hi" came out as the answer, then ``<|im_end|>\\n`` over and over (or a made-up next user turn)
until the token budget ran out, in streams and in the turn reader's pattern decode alike.
"""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (bash scripts/install.sh --llamacpp)")

from llm.llamacpp_runtime import LlamaCppRuntime, load_llamacpp  # noqa: E402

pytestmark = pytest.mark.model
BUDGET = 160
CONTROL = set(range(17))  # SmolLM2's special tokens: <|endoftext|>, <|im_start|>, <|im_end|>, <repo_name>, ...


@pytest.fixture(scope="module")
def eos0(tmp_path_factory):
    import gguf

    from llm.embedded import locate_gguf
    from llm.spec import shipped_adapter

    path = tmp_path_factory.mktemp("gguf") / "eos-endoftext.gguf"
    shutil.copy(locate_gguf(), path)
    reader = gguf.GGUFReader(path, "r+")  # a memory map: the id is rewritten in place
    field = reader.fields["tokenizer.ggml.eos_token_id"]
    field.parts[field.data[0]][0] = 0
    del reader
    runtime = LlamaCppRuntime(load_llamacpp(str(path), str(shipped_adapter()), threads=2, cache=False))
    assert runtime.eos == 0 and {0, 2} <= runtime.ends
    return runtime


def greedy(logits, seen):
    return int(np.argmax(logits))


def test_free_text_ends_with_the_turn(eos0):
    for question in ("hi", "What does dropout do?"):
        prompt = eos0.chat([{"role": "user", "content": question}])
        ids = list(eos0.tokens(prompt, greedy, BUDGET))
        assert 0 < len(ids) < BUDGET and not CONTROL & set(ids), ids
        text = "".join(eos0.stream(prompt, max_new_tokens=BUDGET, repetition_penalty=1.0))
        assert text == eos0.lm.llama.detokenize(ids).decode("utf-8")


def test_turn_reading_ends_without_feeding_a_control_token_back(eos0):
    from agent.turns.reader import MAX_READING_TOKENS, reading_pattern
    from prompts.turns import turn_messages

    chosen: list[int] = []
    tokens = eos0.tokens

    def spy(prompt, choose, n, stop=None):
        for token in tokens(prompt, choose, n, stop):
            chosen.append(token)
            yield token

    eos0.tokens = spy
    readings = {text: eos0.decode_pattern(reading_pattern(text), eos0.chat(turn_messages(text, None)),
                                          max_new_tokens=MAX_READING_TOKENS)
                for text in ("quiz me on overfitting", "show me my progress please", "hello")}
    assert readings == {"quiz me on overfitting": 'quiz "overfitting"', "show me my progress please": "progress",
                        "hello": "smalltalk"}
    assert chosen and not CONTROL & set(chosen), chosen


def test_long_pieces_are_read_whole():
    """llama-cpp-python's detokenize drops pieces over 32 bytes; the runtime's reading, streams included, does not."""
    runtime = LlamaCppRuntime.for_model(load_llamacpp(threads=2))
    llama = runtime.lm.llama
    dashes = llama.tokenize(b"-" * 64, add_bos=False, special=False)
    assert len(dashes) == 1 and llama.detokenize(dashes) == b""  # the binding's own reading loses it
    assert runtime.piece(dashes[0]) == "-" * 64
    forced = iter(dashes * 2)
    prompt = runtime.chat([{"role": "user", "content": "Draw a line."}])
    pieces = list(runtime._pieces(prompt, lambda logits, seen: next(forced), 2, threading.Event()))
    assert "".join(pieces) == "-" * 128
