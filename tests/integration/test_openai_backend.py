"""The ``openai`` backend's logic without a server: settings, request shapes, and re-validation of what a
server returns (a real server honours the constraints, so only a fake can show that a bad answer is caught).
The real server is exercised in tests/server."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace
from typing import Literal

import pytest

from common.settings import SettingsError
from llm.backend import BackendError, load_backend
from llm.openai_backend import ChatPrompt, OpenAIRuntime, ServedModel, connect
from llm.settings import BackendSettings
from llm.structured import StructuredOutputError
from pydantic import BaseModel, Field

# Outlines (which turns the output types into the server's regex or JSON schema) imports transformers when it is
# installed: integration tier. The server is a stub; the real vLLM server is tests/server.
pytestmark = pytest.mark.torch


def test_the_local_backend_is_the_default():
    assert BackendSettings.from_env({}).backend == "local"


def test_openai_settings_come_from_the_environment():
    settings = BackendSettings.from_env({"TUTOR_BACKEND": "openai", "TUTOR_OPENAI_BASE_URL": "http://h:1/v1/",
                                         "TUTOR_OPENAI_MODEL": "tutor"})
    assert (settings.backend, settings.openai_base_url, settings.openai_model) == ("openai", "http://h:1/v1", "tutor")


def test_given_values_win_over_the_environment():
    env = {"TUTOR_BACKEND": "openai", "TUTOR_OPENAI_BASE_URL": "http://h:1/v1", "TUTOR_OPENAI_MODEL": "tutor"}
    assert BackendSettings.from_env(env, openai_model="smol").openai_model == "smol"
    assert BackendSettings.from_env(env, backend="local").backend == "local"


@pytest.mark.parametrize("env, says", [
    ({"TUTOR_BACKEND": "vllm"}, "TUTOR_BACKEND"),
    ({"TUTOR_OPENAI_BASE_URL": "h:1/v1"}, "TUTOR_OPENAI_BASE_URL .*http://"),
])
def test_a_wrong_setting_names_its_variable(env, says):
    with pytest.raises(SettingsError, match=says):
        BackendSettings.from_env(env)


@pytest.mark.parametrize("env, says", [
    ({"TUTOR_BACKEND": "openai"}, "needs TUTOR_OPENAI_BASE_URL and TUTOR_OPENAI_MODEL"),
    ({"TUTOR_BACKEND": "openai", "TUTOR_OPENAI_BASE_URL": "http://h:1/v1"}, "needs TUTOR_OPENAI_MODEL$"),
])
def test_the_openai_backend_without_its_server_settings_says_which_are_missing(env, says):
    with pytest.raises(BackendError, match=says):
        load_backend(settings=BackendSettings.from_env(env))


def test_an_unreachable_server_is_a_clear_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BackendError, match=f"cannot reach the model server at http://127.0.0.1:{port}/v1.*vllm_server"):
        connect(f"http://127.0.0.1:{port}/v1", "tutor")


class FakeClient:
    """Answers every request with the next queued text and records the request."""

    def __init__(self, *answers: tuple[str, str]):
        self.answers = list(answers)
        self.requests: list[tuple[str, dict]] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=lambda **kw: self._answer("chat", kw)))
        self.completions = SimpleNamespace(create=lambda **kw: self._answer("completions", kw))

    def _answer(self, api: str, request: dict):
        self.requests.append((api, request))
        text, finish = self.answers.pop(0)
        choice = SimpleNamespace(message=SimpleNamespace(content=text), text=text, finish_reason=finish)
        return SimpleNamespace(choices=[choice])


def runtime_with(*answers: tuple[str, str]) -> tuple[OpenAIRuntime, FakeClient]:
    client = FakeClient(*answers)
    lm = ServedModel("http://h:1/v1", "tutor", "/adapters/tutor", "smol", "/models/x", client)
    return OpenAIRuntime(lm), client


def test_a_choice_is_constrained_on_the_server_and_checked_here():
    runtime, client = runtime_with(("2", "stop"), ("7", "stop"))
    prompt = runtime.chat([{"role": "user", "content": "Pick one."}])
    assert runtime.generate_text(Literal["1", "2", "3"], prompt, max_new_tokens=3) == "2"
    api, request = client.requests[0]
    assert api == "chat" and request["messages"] == [{"role": "user", "content": "Pick one."}]
    assert request["model"] == "tutor" and request["max_tokens"] == 3 and request["temperature"] == 0.0
    assert request["extra_body"] == {"structured_outputs": {"regex": "(1|2|3)"}}
    with pytest.raises(StructuredOutputError, match="does not match"):  # a server that ignored the constraint
        runtime.generate_text(Literal["1", "2", "3"], prompt)


class Picks(BaseModel):
    """A small structured output: one to three numbered picks."""

    picks: list[int] = Field(min_length=1, max_length=3)


def test_a_pydantic_output_is_sent_as_json_schema_and_validated():
    good = json.dumps({"picks": [2, 1]})
    runtime, client = runtime_with((good, "stop"), ('{"picks": [2, ', "length"), (json.dumps({"picks": []}), "stop"))
    prompt = runtime.chat([{"role": "user", "content": "Plan."}])
    assert runtime.generate(Picks, prompt, seed=3).picks == [2, 1]
    schema = client.requests[0][1]["extra_body"]["structured_outputs"]["json"]
    assert schema["properties"]["picks"]["type"] == "array" and client.requests[0][1]["seed"] == 3
    with pytest.raises(StructuredOutputError, match="cut off at max_new_tokens"):
        runtime.generate(Picks, prompt)
    with pytest.raises(StructuredOutputError):  # valid JSON, but the schema wants at least one pick
        runtime.generate(Picks, prompt)


def test_a_formatted_string_prompt_goes_to_the_completions_api_as_raw_text():
    runtime, client = runtime_with(("B", "stop"))
    assert runtime.generate_text(Literal["A", "B"], "<|im_start|>user\nA or B?<|im_end|>\n", temperature=0.5) == "B"
    api, request = client.requests[0]
    assert api == "completions" and request["prompt"].startswith("<|im_start|>user") and request["top_p"] == 0.95


def test_a_chat_prompt_is_still_a_string_for_callers_that_log_it():
    prompt = ChatPrompt([{"role": "user", "content": "Hi"}])
    assert isinstance(prompt, str) and json.loads(prompt) == prompt.messages


def test_a_served_lora_of_the_embedded_model_counts_as_the_embedded_model():
    from llm.embedded import converted_dir

    lm = ServedModel("http://h:1/v1", "tutor", "/a/tutor-smollm2", "smol", f"/srv/{converted_dir().name}", None)
    assert lm.spec.kind == "embedded" and lm.adapter == "/a/tutor-smollm2"
    assert "served as 'tutor' at http://h:1/v1" in lm.label
    base = ServedModel("http://h:1/v1", "big", "meta-llama/Llama-3.2-3B-Instruct", None,
                       "meta-llama/Llama-3.2-3B-Instruct", None)
    assert base.spec.kind == "hub" and base.adapter is None
