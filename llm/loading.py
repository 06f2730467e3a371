"""Load a model spec (see :mod:`llm.spec`) into a transformers model + tokenizer, once per process.

CPU by default here; CUDA when present (bf16 there). A PEFT adapter is applied on top when given.
On CPU, models whose weights are already 4-bit (the embedded Q4_1 GGUF) decode through packed
kernels (:mod:`llm.packed`) and Llama-family models take single-token steps through a lean decode
step (:mod:`llm.fast_decode`); ``weights="dense"`` or ``TUTOR_CPU_WEIGHTS=dense`` turns both off.
Every default comes from :class:`llm.settings.LLMSettings` (the environment is read there).

    from llm.loading import load_model
    lm = load_model()                      # the embedded default, cached
    lm = load_model("meta-llama/Llama-3.2-3B-Instruct", adapter="runs/tutor/adapter")
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from llm.settings import LLMSettings
from llm.spec import ModelSpec, ModelSpecError, hub_error_message, resolve_adapter, resolve_model

_LOCK = threading.Lock()
# One model call at a time per process: the CPU has 2 cores and interleaving only slows both; Outlines'
# logits processors also hold per-call state. Generations of a batchable model do not queue here one by one:
# they share decode steps in llm.batching, whose worker takes this lock for each step.
GENERATE_LOCK = threading.RLock()
_CACHE: dict[tuple, "LoadedModel"] = {}
WEIGHT_MODES = ("auto", "dense")


@dataclass
class LoadedModel:
    """A ready model: the transformers objects plus what to record about them."""

    model: Any
    tokenizer: Any
    spec: ModelSpec
    adapter: str | None
    device: str
    extras: dict = field(default_factory=dict)  # per-process caches (e.g. Outlines generators)
    weights: str = "dense"  # how decode steps read the weights: "dense", or llm.packed's report label
    threads: int | None = None  # torch threads while generating on CPU, None = torch's (see generating())

    @property
    def label(self) -> str:
        return self.spec.label


_T = TypeVar("_T")
_PER_MODEL_LOCK = threading.RLock()  # re-entrant: a build that asks for another per-model object won't hang


def per_model(lm: Any, key: str, build: Callable[[Any], _T]) -> _T:
    """``build(lm)`` made once per model handle and kept in ``lm.extras[key]`` (the runtimes and the batch
    scheduler of every backend: LoadedModel, LlamaCppModel, ServedModel). Built under a lock, so two threads
    asking first share one object instead of each building (and caching Outlines indices) on its own."""
    with _PER_MODEL_LOCK:
        made = lm.extras.get(key)
        if made is None:
            made = lm.extras[key] = build(lm)
        return made


def pick_device(device: str | None = None) -> str:
    """``cuda`` when available unless ``device``/``TUTOR_DEVICE`` says otherwise."""
    choice = device or LLMSettings.from_env().device
    if choice:
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_source(spec: ModelSpec) -> tuple[str, dict]:
    """``from_pretrained`` arguments for a spec (the embedded model is converted on first use)."""
    if spec.kind == "embedded":
        from llm.embedded import ensure_converted

        return str(ensure_converted()), {}
    if spec.kind == "gguf":
        path = Path(spec.value)
        return str(path.parent), {"gguf_file": path.name}
    return spec.value, {}


def generate_threads(device: str, settings: LLMSettings | None = None) -> int | None:
    """Torch threads for ``generate`` on CPU: ``$TUTOR_GENERATE_THREADS``; else 1 when OpenMP threads sleep
    between parallel regions (``OMP_WAIT_POLICY=PASSIVE``, as the test suite sets), else torch's default.

    A decode step is hundreds of small kernels. When this was written, two threads decoded the packed embedded
    model faster than one on the 2-core machines here with OpenMP's default (spinning) wait policy, and slower
    with passive waiting, where every kernel pays a thread wake-up. No committed results file holds that
    comparison (``bench/results/decode_variants.json`` was measured with 2 spinning threads).
    """
    if not device.startswith("cpu"):
        return None
    settings = settings or LLMSettings.from_env()
    if settings.generate_threads is not None:
        return settings.generate_threads
    return 1 if (settings.omp_wait_policy or "").upper() == "PASSIVE" else None


@contextmanager
def generating(lm: "LoadedModel") -> Iterator[None]:
    """Hold :data:`GENERATE_LOCK` and use ``lm.threads`` torch threads in this thread until the block ends."""
    import torch

    with GENERATE_LOCK:
        before = torch.get_num_threads()
        if lm.threads and lm.threads != before:
            torch.set_num_threads(lm.threads)  # per calling thread under OpenMP: set where generate runs
        try:
            yield
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)


def weights_mode(weights: str | None = None) -> str:
    """``auto`` (pack already-4-bit weights on CPU) or ``dense``, from ``weights`` or ``$TUTOR_CPU_WEIGHTS``."""
    if weights is None:
        return LLMSettings.from_env().cpu_weights
    choice = weights.strip().lower()
    if choice not in WEIGHT_MODES:
        raise ModelSpecError(f"weights must be one of {', '.join(WEIGHT_MODES)}, not {choice!r}")
    return choice


def load_model(
    model: str | None = None, adapter: str | None = None, device: str | None = None, *, cache: bool = True,
    weights: str | None = None,
) -> LoadedModel:
    """Load (or return the cached) model for ``model``/``adapter`` on ``device``."""
    settings = LLMSettings.from_env()  # a bad variable fails here, before anything loads
    spec = resolve_model(model)
    adapter_path = resolve_adapter(adapter, spec)
    dev = pick_device(device)
    mode = weights_mode(weights)
    key = (spec, adapter_path, dev, mode)
    with _LOCK:
        if cache and key in _CACHE:
            return _CACHE[key]
        loaded = _load(spec, adapter_path, dev, mode, generate_threads(dev, settings))
        if cache:
            _CACHE[key] = loaded
        return loaded


def _load(spec: ModelSpec, adapter_path: str | None, device: str, mode: str, threads: int | None) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, kwargs = model_source(spec)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        hf_model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except OSError as exc:
        if spec.kind == "hub":
            raise ModelSpecError(hub_error_message(spec.value, exc)) from exc
        raise ModelSpecError(f"could not load model from {source}: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    pack = False
    if mode == "auto" and device == "cpu" and dtype == torch.float32:
        from llm.packed import kernels_work

        pack = kernels_work()
    blocks = lora = None
    if pack:
        from llm.packed import encode_linears

        blocks = encode_linears(hf_model)  # of the base weights, before an adapter is merged
    if adapter_path:
        from peft import PeftModel

        # Merged once at load: prefill then costs the same as the base model (no LoRA branches);
        # packed decode steps keep the factors (see llm.packed).
        peft_model = PeftModel.from_pretrained(hf_model, adapter_path)
        if pack:
            from llm.packed import lora_factors

            lora = lora_factors(peft_model)
        hf_model = peft_model.merge_and_unload()
    hf_model.to(device)
    hf_model.eval()
    weights = "dense"
    if pack:
        from llm.packed import pack_model

        report = pack_model(hf_model, blocks, lora)
        weights = report.label if report.packed or report.head else "dense"
    if mode == "auto" and device == "cpu":
        from llm.fast_decode import install

        if install(hf_model):  # single-token steps skip transformers' generic layer code
            weights += " + lean decode step"
    return LoadedModel(hf_model, tokenizer, spec, adapter_path, device, weights=weights, threads=threads)



def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
