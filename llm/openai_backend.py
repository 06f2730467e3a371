"""The ``openai`` backend: the tutor's model calls sent to an OpenAI-compatible server (vLLM first).

:class:`OpenAIRuntime` answers the same calls as :class:`llm.structured.StructuredRuntime` - ``chat``,
``generate_text``, ``generate``, ``stream`` - so callers do not know which backend runs. Output types
(Pydantic models, ``Literal``\\s, ``outlines.types.Regex``) become the server's structured outputs
through Outlines' own vLLM integration (``outlines.models.vllm.VLLMTypeAdapter``: a JSON schema or a
regular expression in ``structured_outputs``, vLLM >= 0.12). The server's word is not trusted: every
output is checked again here against the same type (Pydantic for models, the type's regular
expression otherwise), exactly as strictly as the in-process path's :meth:`generate`.

Whitespace inside JSON is the server's setting, not the request's (vLLM 0.32 ignores a per-request
``disable_any_whitespace``): start vLLM with ``--structured-outputs-config.disable_any_whitespace true``
(scripts/vllm_server.sh does), or a small model may sample blank lines between JSON tokens until it
runs out of tokens (seen here on the tutor LoRA at temperature 1: 2 of 3 answers padded with newlines).

Chat templating happens on the server: :meth:`OpenAIRuntime.chat` returns a :class:`ChatPrompt` that
carries the messages to the chat-completions API. A plain string prompt is sent as raw text to the
completions API (no template), like a formatted prompt in process.

The server batches concurrent requests by itself, so unlike the in-process path there is no
process-wide lock here: many sessions' calls are in flight at once.

    lm = connect("http://127.0.0.1:8011/v1", "tutor")     # "tutor" = the LoRA name given to the server
    rt = OpenAIRuntime.for_model(lm)
    draft = rt.generate(QuestionDraft, rt.chat([{"role": "user", "content": "..."}]))
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from llm.backend import BASE_URL_ENV, OPENAI_MODEL_ENV, BackendError
from llm.loading import per_model
from llm.spec import ModelSpec
from llm.structured import StructuredOutputError, type_key

T = TypeVar("T", bound=BaseModel)
CONNECT_TIMEOUT_S = 10.0
# A 135M model on a 2-core CPU server decodes ~7 tok/s alone (ENVIRONMENT.md, "Serving engines"): a
# 320-token question draft behind a queue of other sessions' requests can take minutes.
REQUEST_TIMEOUT_S = 600.0
START_HINT = "start one with `bash scripts/vllm_server.sh start`"


class ChatPrompt(str):
    """Chat messages as a prompt: the server applies its own chat template. Its text is the messages' JSON."""

    messages: list[dict[str, str]]

    def __new__(cls, messages: list[dict[str, str]]) -> "ChatPrompt":
        prompt = super().__new__(cls, json.dumps(messages, ensure_ascii=False))
        prompt.messages = [dict(m) for m in messages]
        return prompt


@dataclass
class ServedModel:
    """A model that an OpenAI-compatible server serves under ``name`` (what ``load_model`` is in process)."""

    base_url: str
    name: str
    root: str  # what the server loaded for ``name``: the model folder/id, or the LoRA's folder
    parent: str | None  # for a LoRA, the served name of its base model
    base_root: str  # the base model's folder/id
    client: Any = field(repr=False, compare=False)
    extras: dict = field(default_factory=dict, repr=False, compare=False)
    device: str = "server"
    weights: str = "served"
    threads: int | None = None

    @property
    def adapter(self) -> str | None:
        """The LoRA's folder on the server, or None when ``name`` is a base model."""
        return self.root if self.parent else None

    @property
    def spec(self) -> ModelSpec:
        """The served base model as a spec (``embedded`` when it is the embedded model's converted folder)."""
        from llm.embedded import converted_dir

        if Path(self.base_root).name == converted_dir().name:
            return ModelSpec("embedded", "embedded")
        return ModelSpec("folder" if self.base_root.startswith("/") else "hub", self.base_root)

    @property
    def label(self) -> str:
        return f"{self.spec.label}, served as {self.name!r} at {self.base_url}"


def connect(base_url: str, name: str, *, api_key: str | None = None, timeout: float = REQUEST_TIMEOUT_S) -> ServedModel:
    """Check that the server at ``base_url`` answers and serves ``name``; :class:`BackendError` if not."""
    import openai

    # vLLM needs a key only when started with --api-key; the openai client insists on one.
    client = openai.OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0)
    try:
        served = list(client.models.list(timeout=CONNECT_TIMEOUT_S))
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise BackendError(
            f"cannot reach the model server at {base_url} ({exc}); {START_HINT}, or set {BASE_URL_ENV} to its address"
        ) from None
    except openai.APIStatusError as exc:
        raise BackendError(
            f"{base_url} did not list its models (HTTP {exc.status_code}): {BASE_URL_ENV} must be an "
            "OpenAI-compatible API root such as http://127.0.0.1:8011/v1"
        ) from None
    by_id = {m.id: m for m in served}
    if name not in by_id:
        raise BackendError(unknown_model_message(base_url, name, sorted(by_id)))
    model = by_id[name]
    parent = getattr(model, "parent", None)
    root = getattr(model, "root", None) or name
    base_root = root
    if parent and parent in by_id:
        base_root = getattr(by_id[parent], "root", None) or parent
    return ServedModel(base_url, name, root, parent, base_root, client)


def unknown_model_message(base_url: str, name: str, served: list[str]) -> str:
    return (f"the model server at {base_url} does not serve {name!r}; it serves {', '.join(served) or 'nothing'}: "
            f"set {OPENAI_MODEL_ENV} to one of them")


class OpenAIRuntime:
    """Structured and streamed generation on a served model (thread-safe; the server batches)."""

    def __init__(self, lm: ServedModel):
        from outlines.models.vllm import VLLMTypeAdapter

        self.lm = lm
        self._types = VLLMTypeAdapter()
        self._requests: dict[str, dict] = {}
        self._patterns: dict[str, re.Pattern] = {}

    @classmethod
    def for_model(cls, lm: ServedModel) -> "OpenAIRuntime":
        """The per-process runtime of ``lm`` (kept in ``lm.extras``)."""
        return per_model(lm, "structured", cls)

    # ------------------------------------------------------------------ prompts

    def chat(self, messages: list[dict[str, str]]) -> ChatPrompt:
        """The messages as a prompt; the server renders them with the model's chat template."""
        return ChatPrompt(messages)

    # --------------------------------------------------------------- generation

    def generate_text(
        self, output_type: Any, prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Text that matches ``output_type`` (checked here), or :class:`StructuredOutputError`."""
        extra = self._structured(output_type)
        sampling: dict[str, Any] = {"temperature": temperature, "seed": seed, "max_tokens": max_new_tokens}
        if temperature > 0:
            sampling["top_p"] = 0.95  # as in process (llm.structured)
        text, finish = self._complete(prompt, sampling, extra)
        problem = self._check(output_type, text)
        if problem:
            cut = " (cut off at max_new_tokens)" if finish == "length" else ""
            raise StructuredOutputError(f"{_type_name(output_type)} output from the server did not validate{cut}: "
                                        f"{problem}")
        return text

    def generate(
        self, output_type: type[T], prompt: str, *, seed: int = 0, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> T:
        """A validated ``output_type`` instance; :class:`StructuredOutputError` if the output does not validate."""
        text = self.generate_text(output_type, prompt, seed=seed, max_new_tokens=max_new_tokens,
                                  temperature=temperature)
        return output_type.model_validate_json(text)  # checked in generate_text already

    def stream(
        self, prompt: str, *, max_new_tokens: int = 200, temperature: float = 0.0, seed: int = 0,
        repetition_penalty: float = 1.15,
    ) -> Iterator[str]:
        """Yield text pieces as the server decodes them; closing the iterator early cancels the request."""
        sampling: dict[str, Any] = {"temperature": temperature, "seed": seed, "max_tokens": max_new_tokens}
        if temperature > 0:
            sampling["top_p"] = 0.9  # as in process (llm.streaming)
        with self._errors():
            response = self._request(prompt, sampling, {"repetition_penalty": repetition_penalty}, stream=True)
        try:
            with self._errors():
                for chunk in response:
                    piece = _piece(chunk)
                    if piece:
                        yield piece
        finally:
            response.close()  # drops the connection: vLLM aborts the request instead of decoding unread tokens

    # ---------------------------------------------------------------- internals

    def _structured(self, output_type: Any) -> dict:
        key = type_key(output_type)
        request = self._requests.get(key)
        if request is None:
            request = self._requests[key] = self._types.format_output_type(output_type)
        return request

    def _check(self, output_type: Any, text: str) -> str | None:
        """Why ``text`` is not an ``output_type`` output, or None when it is one."""
        if isinstance(output_type, type) and issubclass(output_type, BaseModel):
            try:
                output_type.model_validate_json(text)
            except ValidationError as exc:
                return str(exc)
            return None
        key = type_key(output_type)
        pattern = self._patterns.get(key)
        if pattern is None:
            from outlines.types.dsl import python_types_to_terms, to_regex

            pattern = self._patterns[key] = re.compile(to_regex(python_types_to_terms(output_type)))
        return None if pattern.fullmatch(text) else f"{text[:80]!r} does not match {pattern.pattern[:80]!r}"

    def _complete(self, prompt: str, sampling: dict, extra: dict) -> tuple[str, str | None]:
        with self._errors():
            response = self._request(prompt, sampling, extra)
        choice = response.choices[0]
        text = choice.message.content if isinstance(prompt, ChatPrompt) else choice.text
        return text or "", choice.finish_reason

    def _request(self, prompt: str, sampling: dict, extra: dict, stream: bool = False):
        client, name = self.lm.client, self.lm.name
        if isinstance(prompt, ChatPrompt):
            return client.chat.completions.create(model=name, messages=prompt.messages, extra_body=extra,
                                                  stream=stream, **sampling)
        return client.completions.create(model=name, prompt=str(prompt), extra_body=extra, stream=stream, **sampling)

    def _errors(self):
        return _translated_errors(self.lm)


@contextmanager
def _translated_errors(lm: ServedModel) -> Iterator[None]:
    """The client's connection and not-found errors as :class:`BackendError`, saying what to do."""
    import openai

    try:
        yield
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise BackendError(f"lost the model server at {lm.base_url} ({exc}); {START_HINT}") from exc
    except openai.NotFoundError as exc:
        raise BackendError(f"{unknown_model_message(lm.base_url, lm.name, _served(lm))} ({_detail(exc)})") from exc
    except openai.APIStatusError as exc:
        raise BackendError(f"the model server at {lm.base_url} refused the request "
                           f"(HTTP {exc.status_code}): {_detail(exc)}") from exc


def _served(lm: ServedModel) -> list[str]:
    """The names the server lists now (empty when it does not answer)."""
    try:
        return sorted(m.id for m in lm.client.models.list(timeout=CONNECT_TIMEOUT_S))
    except Exception:  # only for an error message: the original error is the one raised
        return []


def _piece(chunk: Any) -> str:
    if not chunk.choices:
        return ""
    choice = chunk.choices[0]
    delta = getattr(choice, "delta", None)
    return (delta.content if delta is not None else getattr(choice, "text", "")) or ""


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body)[:300]
    return str(exc)[:300]


def _type_name(output_type: Any) -> str:
    return getattr(output_type, "__name__", None) or repr(output_type)[:60]
