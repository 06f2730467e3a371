"""Which backend runs the model: in this process (transformers + Outlines, or llama.cpp) or an OpenAI-compatible
server.

The choice is :class:`llm.settings.BackendSettings` (``TUTOR_BACKEND``, ``TUTOR_OPENAI_BASE_URL``,
``TUTOR_OPENAI_MODEL``). With ``openai`` the model spec and adapter settings (``TUTOR_MODEL``,
``TUTOR_ADAPTER``) are not used: the server decides what runs, and the adapter is chosen by its LoRA name.

    lm = load_backend()              # LoadedModel (local), LlamaCppModel (llamacpp) or ServedModel (openai)
    runtime = runtime_for(lm)        # same calls either way: chat, generate, generate_text, stream
"""

from __future__ import annotations

import logging
from typing import Any

from llm.settings import BackendSettings

BACKEND_ENV = "TUTOR_BACKEND"
BASE_URL_ENV = "TUTOR_OPENAI_BASE_URL"
OPENAI_MODEL_ENV = "TUTOR_OPENAI_MODEL"
log = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """The backend settings are incomplete or the model server cannot serve them; the message says what to do."""


def load_backend(model: str | None = None, adapter: str | None = None, settings: BackendSettings | None = None):
    """The model handle for the settings: :class:`llm.loading.LoadedModel` or :class:`ServedModel`."""
    settings = settings or BackendSettings.from_env()
    if settings.backend == "openai":
        from llm.openai_backend import connect

        missing = [env for env, value in ((BASE_URL_ENV, settings.openai_base_url),
                                          (OPENAI_MODEL_ENV, settings.openai_model)) if not value]
        if missing:
            raise BackendError(f"{BACKEND_ENV}=openai needs {' and '.join(missing)}")
        if model or adapter:
            log.warning("backend openai: the model/adapter settings are not used (the server serves %s)",
                        settings.openai_model)
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return connect(settings.openai_base_url, settings.openai_model, api_key=key)
    if settings.backend == "llamacpp":
        from llm.llamacpp_runtime import LlamaCppError, load_llamacpp

        try:
            return load_llamacpp(model, adapter, settings=settings)
        except LlamaCppError as exc:
            raise BackendError(str(exc)) from None
    from llm.loading import load_model

    return load_model(model, adapter)


def runtime_for(lm: Any):
    """The structured-generation runtime of a model handle (one per handle, reused)."""
    from llm.openai_backend import OpenAIRuntime, ServedModel

    if isinstance(lm, ServedModel):
        return OpenAIRuntime.for_model(lm)
    from llm.llamacpp_runtime import LlamaCppModel, LlamaCppRuntime

    if isinstance(lm, LlamaCppModel):
        return LlamaCppRuntime.for_model(lm)
    from llm.structured import StructuredRuntime

    return StructuredRuntime.for_model(lm)
