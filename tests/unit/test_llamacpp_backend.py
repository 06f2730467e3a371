"""The ``llamacpp`` backend's pure parts without llama.cpp: token choice as transformers makes it, the pattern
rule, the LoRA GGUF naming and checks, and the decode loop over a scripted stand-in for ``llama_cpp.Llama``.
The real llama.cpp against the torch path is tests/integration/test_llamacpp_runtime.py.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_llamacpp_backend.py
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import regex

from llm.backend import BackendError, load_backend
from llm.llamacpp_runtime import LlamaCppError, LlamaCppModel, LlamaCppRuntime, _streamed
from llm.lora_gguf import LoraConversionError, check_config, permute_rows, split_key
from llm.pattern_decode import PatternDecodeError, choose_pattern_token
from llm.sampling import pick_token, top_k_ids
from llm.settings import BackendSettings
from llm.spec import ModelSpec


def test_sampling_is_seeded_and_stays_in_the_nucleus():
    logits = np.array([5.0, 4.9, -3.0, -4.0])
    draws = [pick_token(logits, temperature=1.0, top_p=0.9, rng=np.random.default_rng(s)) for s in range(40)]
    assert set(draws) <= {0, 1} and len(set(draws)) == 2
    again = [pick_token(logits, temperature=1.0, top_p=0.9, rng=np.random.default_rng(s)) for s in range(40)]
    assert draws == again


def test_top_k_ids_are_best_first():
    logits = np.array([0.1, 5.0, -2.0, 3.0, 4.0])
    assert top_k_ids(logits, 3) == [1, 4, 3]
    assert top_k_ids(logits, 10) == [1, 4, 3, 0, 2]


def test_pattern_choice_skips_tokens_that_leave_the_pattern():
    pieces = {1: "quiz", 2: "explain", 3: " x", 9: ""}
    compiled = regex.compile(r"(quiz|explain)( q[0-9])?")
    assert choose_pattern_token([3, 2, 1], "", compiled, pieces.get, eos=9) == (2, "explain")
    assert choose_pattern_token([9, 3], "quiz", compiled, pieces.get, eos=9) == (None, "quiz")  # EOS on a full match
    with pytest.raises(PatternDecodeError):
        choose_pattern_token([9, 3], "qu", compiled, pieces.get, eos=9)  # EOS before a full match is skipped


def test_pattern_choice_never_takes_a_control_token_and_stops_on_any_end_token():
    pieces = {1: "quiz", 5: None, 6: "", 8: "<|endoftext|>"}  # 5: a control token (no text)
    compiled = regex.compile(r"quiz( q[0-9])?")
    assert choose_pattern_token([5, 1], "", compiled, pieces.get, eos={0, 8}) == (1, "quiz")
    assert choose_pattern_token([5, 8, 0], "quiz", compiled, pieces.get, eos={0, 8}) == (None, "quiz")
    with pytest.raises(PatternDecodeError):
        choose_pattern_token([5], "quiz", compiled, pieces.get, eos={0, 8})


def test_lora_keys_and_unsupported_adapters():
    assert split_key("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight") == (
        "model.layers.3.self_attn.q_proj", "lora_a")
    with pytest.raises(LoraConversionError):
        split_key("base_model.model.lm_head.weight")
    assert check_config({"peft_type": "LORA", "lora_alpha": 32}) == 32.0
    for bad in ({"use_dora": True}, {"rank_pattern": {"q_proj": 8}}, {"modules_to_save": ["lm_head"]}):
        with pytest.raises(LoraConversionError):
            check_config({"peft_type": "LORA", "lora_alpha": 32, **bad})


def test_lora_row_permutation_is_the_base_export_one():
    from finetune.gguf_export import permute_qk

    rows = np.arange(12 * 4, dtype=np.float32).reshape(12, 4)
    np.testing.assert_array_equal(permute_rows(rows, 3), permute_qk(rows, 3))
    assert not np.array_equal(permute_rows(rows, 3), rows)


def runtime_on(llama: ScriptedLlama, prompt_len: int) -> LlamaCppRuntime:
    runtime = LlamaCppRuntime.__new__(LlamaCppRuntime)
    runtime.lm = LlamaCppModel(llama, ModelSpec("embedded", "embedded"), None, None, None, 1)
    runtime.eos, runtime.ends = 0, frozenset({0})
    runtime.token_bytes = lambda token: llama.detokenize([token])

    def logits():
        logits = np.zeros(256, dtype=np.float32)
        done = llama.n_tokens - prompt_len
        logits[llama.script[done] if done < len(llama.script) else 0] = 1.0
        return logits

    runtime._logits = logits
    return runtime


class ScriptedLlama:
    """Stands in for ``llama_cpp.Llama``: UTF-8 bytes are tokens (so "é" is two), and the logits always prefer the
    next byte of ``script``; token 0 is EOS."""

    def __init__(self, script: str, n_ctx: int = 64):
        self.script, self._n_ctx = script.encode(), n_ctx
        self.input_ids = np.zeros(n_ctx, dtype=np.intc)
        self.n_tokens, self.evaluated = 0, []

    def n_ctx(self):
        return self._n_ctx

    def tokenize(self, text: bytes, add_bos: bool, special: bool):
        return list(text)

    def detokenize(self, tokens, special=False):
        return bytes(t for t in tokens if t)

    def eval(self, tokens):
        self.input_ids[self.n_tokens:self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self.evaluated.append(list(tokens))


def test_decode_loop_stops_at_eos_and_reuses_the_shared_prefix():
    llama = ScriptedLlama("quiz")
    runtime = runtime_on(llama, prompt_len=4)
    greedy = lambda logits, ids: int(np.argmax(logits))  # noqa: E731
    assert bytes(runtime.tokens("abcd", greedy, 10)) == b"quiz"
    llama.n_tokens = 3  # as if the cache held "abc" of a previous prompt
    llama.input_ids[:3] = [ord(c) for c in "abX"]
    llama.evaluated.clear()
    list(runtime.tokens("abcd", lambda logits, ids: None, 10))
    assert llama.evaluated == [[ord("c"), ord("d")]]  # "ab" kept, the rest evaluated again


def test_pattern_decode_on_the_loop():
    llama = ScriptedLlama("quiz x")
    runtime = runtime_on(llama, prompt_len=2)
    runtime.piece = lambda token: bytes([token]).decode() if token else ""
    assert runtime.decode_pattern(r"quiz( x)?", "ab", max_new_tokens=10) == "quiz x"
    with pytest.raises(PatternDecodeError, match="no full match"):
        runtime_on(ScriptedLlama("quiz x"), 2).decode_pattern(r"quiz( x)?", "ab", max_new_tokens=2)


def test_pattern_decode_ends_where_a_control_token_is_preferred():
    """The model's best token after "quiz" is a control token (no text): it is skipped and the turn ends there, instead
    of the decode feeding it back until the budget runs out."""
    llama = ScriptedLlama("quiz")
    runtime = runtime_on(llama, prompt_len=2)
    runtime.ends = frozenset({0, 3})
    runtime.piece = lambda token: "" if token in (0, 3, 7) else bytes([token]).decode()
    scripted = runtime._logits

    def prefers_control():
        logits = scripted()
        if llama.n_tokens - 2 >= 4:  # after "quiz": control 7, then end-of-turn 3, then EOS 0
            logits[[7, 3, 0]] = [3.0, 2.0, 1.0]
        return logits

    runtime._logits = prefers_control
    assert runtime.decode_pattern(r"quiz( x)?", "ab", max_new_tokens=10) == "quiz"
    assert llama.evaluated[-1] == [ord("z")]  # neither 7 nor 3 was fed back


def test_decode_loop_stops_on_any_end_token():
    llama = ScriptedLlama("qu\x03iz")
    runtime = runtime_on(llama, prompt_len=2)
    runtime.ends = frozenset({0, 3})
    assert bytes(runtime.tokens("ab", lambda logits, ids: int(np.argmax(logits)), 10)) == b"qu"


def test_a_prompt_longer_than_the_context_is_refused():
    runtime = runtime_on(ScriptedLlama("q", n_ctx=4), prompt_len=5)
    with pytest.raises(LlamaCppError, match="TUTOR_LLAMACPP_CONTEXT"):
        list(runtime.tokens("abcde", lambda logits, ids: None, 3))


def test_stream_pieces_are_utf8_whole_and_early_close_stops_the_worker():
    llama = ScriptedLlama("héllo")
    runtime = runtime_on(llama, prompt_len=2)
    pieces = list(runtime.stream("ab", repetition_penalty=1.0))
    assert "".join(pieces) == "héllo" and "\ufffd" not in pieces and len(pieces) == 5  # "é" waited for its 2nd byte
    produced = []

    def endless(stop: threading.Event):
        while not stop.is_set():
            produced.append(1)
            yield "x"
            time.sleep(0.001)

    pieces = _streamed(endless)
    assert next(pieces) == "x"
    pieces.close()
    count = len(produced)
    time.sleep(0.02)
    assert len(produced) == count  # the worker stopped


def test_backend_setting_and_missing_install(monkeypatch):
    settings = BackendSettings.from_env({"TUTOR_BACKEND": "llamacpp", "TUTOR_LLAMACPP_THREADS": "2"})
    assert (settings.backend, settings.llamacpp_threads, settings.llamacpp_context) == ("llamacpp", 2, 4096)
    import builtins

    real_import = builtins.__import__

    def no_llama_cpp(name, *args, **kwargs):
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama_cpp)
    # A model loaded earlier in the session (the llama.cpp integration tests, where it is installed) is not
    # loaded again: start from an empty cache so the import is what is tested.
    import llm.llamacpp_runtime as runtime

    monkeypatch.setattr(runtime, "_CACHE", {})
    with pytest.raises(BackendError, match="install.sh --llamacpp"):
        load_backend(settings=settings)
