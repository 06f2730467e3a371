"""Which backend runs the model: in this process (transformers + Outlines) or an OpenAI-compatible server.

| setting          | env var                 | default | meaning                                                   |
|------------------|-------------------------|---------|-----------------------------------------------------------|
| backend          | TUTOR_BACKEND           | local   | ``local``: the model in this process; ``openai``: a server |
| openai_base_url  | TUTOR_OPENAI_BASE_URL   | unset   | the server's API root, e.g. ``http://127.0.0.1:8011/v1``   |
| openai_model     | TUTOR_OPENAI_MODEL      | unset   | the served base or LoRA name, e.g. ``tutor`` or ``smol``   |

With ``openai`` the model spec and adapter settings (``TUTOR_MODEL``, ``TUTOR_ADAPTER``) are not used:
the server decides what runs, and the adapter is chosen by its LoRA name. :func:`backend_settings` is
the only place these variables are read.

    lm = load_backend()              # LoadedModel (local) or ServedModel (openai), per the settings
    runtime = runtime_for(lm)        # same calls either way: chat, generate, generate_text, stream
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

BACKEND_ENV = "TUTOR_BACKEND"
BASE_URL_ENV = "TUTOR_OPENAI_BASE_URL"
OPENAI_MODEL_ENV = "TUTOR_OPENAI_MODEL"
log = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """The backend settings are wrong or the model server cannot serve them; the message says what to do."""


class BackendSettings(BaseModel):
    """The three backend settings, validated together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["local", "openai"] = "local"
    openai_base_url: str | None = None
    openai_model: str | None = None

    @model_validator(mode="after")
    def _openai_needs_server(self) -> "BackendSettings":
        if self.backend == "openai":
            missing = [env for env, value in ((BASE_URL_ENV, self.openai_base_url), (OPENAI_MODEL_ENV, self.openai_model))
                       if not value]
            if missing:
                raise ValueError(f"{BACKEND_ENV}=openai needs {' and '.join(missing)}")
            if not self.openai_base_url.startswith(("http://", "https://")):
                raise ValueError(f"{BASE_URL_ENV} must start with http:// or https://, not {self.openai_base_url!r}")
        return self


def backend_settings(environ: Mapping[str, str] | None = None, **given: str | None) -> BackendSettings:
    """The backend settings: ``given`` values (None = not given) over the environment over the defaults."""
    environ = os.environ if environ is None else environ
    raw = {
        "backend": environ.get(BACKEND_ENV, "").strip().lower() or None,
        "openai_base_url": environ.get(BASE_URL_ENV, "").strip().rstrip("/") or None,
        "openai_model": environ.get(OPENAI_MODEL_ENV, "").strip() or None,
    }
    raw.update({key: value for key, value in given.items() if value is not None})
    try:
        return BackendSettings.model_validate({key: value for key, value in raw.items() if value is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = f"{BACKEND_ENV} " if error["loc"] == ("backend",) else ""
        raise BackendError(f"{where}{error['msg'].removeprefix('Value error, ')}") from None


def load_backend(model: str | None = None, adapter: str | None = None, settings: BackendSettings | None = None):
    """The model handle for the settings: :class:`llm.loading.LoadedModel` or :class:`ServedModel`."""
    settings = settings or backend_settings()
    if settings.backend == "openai":
        from llm.openai_backend import connect

        if model or adapter:
            log.warning("backend openai: the model/adapter settings are not used (the server serves %s)",
                        settings.openai_model)
        return connect(settings.openai_base_url, settings.openai_model)
    from llm.loading import load_model

    return load_model(model, adapter)


def runtime_for(lm: Any):
    """The structured-generation runtime of a model handle (one per handle, reused)."""
    from llm.openai_backend import OpenAIRuntime, ServedModel

    if isinstance(lm, ServedModel):
        return OpenAIRuntime.for_model(lm)
    from llm.structured import StructuredRuntime

    return StructuredRuntime.for_model(lm)
