"""Which model runs and how: the ``llm`` layer's settings (environment read here, nowhere else in ``llm``).

    LLMSettings.from_env()                         # TUTOR_MODEL, TUTOR_ADAPTER, ... or the defaults
    LLMSettings.from_env(model="runs/merged")      # a CLI flag wins over its variable
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator

from common.settings import EnvSettings, add_arguments, setting


def _default_cache() -> Path:
    return Path.home() / ".cache" / "ml-tutor"


class LLMSettings(EnvSettings):
    """The model spec, its adapter, where it runs and the decode path on CPU."""

    model: str | None = setting(
        None, env="TUTOR_MODEL", shown="embedded",
        doc="model spec: 'embedded' (SmolLM2-135M-Instruct), a hub id, a local HF folder or a .gguf file",
    )
    adapter: str | None = setting(
        None, env="TUTOR_ADAPTER", shown="shipped tutor adapter (embedded model); none otherwise",
        doc="PEFT adapter folder; 'none' for the base model",
    )
    device: str | None = setting(
        None, env="TUTOR_DEVICE", shown="cuda when available, else cpu", doc="torch device to run the model on",
    )
    cpu_weights: Literal["auto", "dense"] = setting(
        "auto", env="TUTOR_CPU_WEIGHTS",
        doc="'auto': on CPU, decode already-4-bit weights with packed kernels and a lean decode step; "
        "'dense': plain transformers",
    )
    generate_threads: int | None = setting(
        None, env="TUTOR_GENERATE_THREADS", ge=1, shown="1 when OMP_WAIT_POLICY=PASSIVE, else torch's default",
        doc="torch threads while generating on CPU",
    )
    omp_wait_policy: str | None = setting(
        None, env="OMP_WAIT_POLICY", shown="unset (OpenMP spins)",
        doc="OpenMP's own variable, read (never set) to pick the default generate threads",
    )
    batching: bool = setting(
        True, env="TUTOR_BATCHING",
        doc="decode concurrent generations together in one batch per step (llm.batching; Llama-family models on "
        "CPU); off: one generation at a time behind a process-wide lock",
    )
    model_nice: int = setting(
        10, env="TUTOR_MODEL_NICE", ge=0, le=19,
        doc="how much lower the CPU priority of the threads that run the model is than the app's (Linux nice "
        "increment; 0 = same): quiz turns that need no model get the cores first",
    )
    cache_dir: Path = setting(
        default_factory=_default_cache, env="ML_TUTOR_CACHE",
        doc="where the embedded model (and any .gguf) is converted to an HF folder, once",
    )

    @field_validator("cache_dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()


class BackendSettings(EnvSettings):
    """Where the model runs: in this process (transformers or llama.cpp), or on an OpenAI-compatible server (vLLM
    first; llm.backend).
    Part of :class:`agent.settings.Settings` as ``settings.backend``."""

    backend: Literal["local", "llamacpp", "openai"] = setting(
        "local", env="TUTOR_BACKEND",
        doc="'local': the model runs in this process (transformers); 'llamacpp': the GGUF runs in this process "
        "through llama.cpp (install.sh --llamacpp); 'openai': an OpenAI-compatible server runs it "
        "(TUTOR_OPENAI_BASE_URL, TUTOR_OPENAI_MODEL; TUTOR_MODEL and TUTOR_ADAPTER are then not used)",
    )
    llamacpp_threads: int | None = setting(
        None, env="TUTOR_LLAMACPP_THREADS", ge=1, shown="all CPU cores",
        doc="llama.cpp threads (backend llamacpp)",
    )
    llamacpp_context: int = setting(
        4096, env="TUTOR_LLAMACPP_CONTEXT", ge=256,
        doc="llama.cpp context length in tokens, prompt + answer (backend llamacpp)",
    )
    openai_base_url: str | None = setting(
        None, env="TUTOR_OPENAI_BASE_URL",
        doc="the model server's API root, e.g. http://127.0.0.1:8011/v1 (scripts/vllm_server.sh prints it)",
    )
    openai_model: str | None = setting(
        None, env="TUTOR_OPENAI_MODEL",
        doc="the served model: a base name ('smol') or a LoRA name ('tutor': the adapter is chosen by its name)",
    )
    openai_api_key: SecretStr | None = setting(
        None, env="OPENAI_API_KEY", shown="unset (no key)",
        doc="the server's key, when it was started with one (vLLM --api-key); the openai client's own variable",
    )

    @field_validator("openai_base_url")
    @classmethod
    def _an_http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/") if url else url


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--adapter``, the one declaration of the model flags every command shares."""
    add_arguments(parser, LLMSettings, "model", "adapter")
