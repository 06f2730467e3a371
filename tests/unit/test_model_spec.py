"""Model spec resolution: `pytest tests/unit/test_model_spec.py` (pure, no model load)."""

import pytest

from llm.spec import ModelSpecError, hub_error_message, resolve_adapter, resolve_model


def test_default_is_embedded(monkeypatch):
    monkeypatch.delenv("TUTOR_MODEL", raising=False)
    assert resolve_model(None).kind == "embedded"
    assert resolve_model("embedded").kind == "embedded"


def test_env_var_selects_model(monkeypatch):
    monkeypatch.setenv("TUTOR_MODEL", "meta-llama/Llama-3.2-3B-Instruct")
    spec = resolve_model(None)
    assert (spec.kind, spec.value) == ("hub", "meta-llama/Llama-3.2-3B-Instruct")


def test_local_folder_and_gguf(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    with pytest.raises(ModelSpecError, match="config.json"):
        resolve_model(str(folder))
    (folder / "config.json").write_text("{}")
    assert resolve_model(str(folder)).kind == "folder"
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)).kind == "gguf"


def test_missing_paths_fail_clearly(tmp_path):
    with pytest.raises(ModelSpecError, match="does not exist"):
        resolve_model(str(tmp_path / "nope"))
    with pytest.raises(ModelSpecError, match="does not exist"):
        resolve_model("./weights.gguf")
    with pytest.raises(ModelSpecError, match="does not exist"):
        resolve_adapter(str(tmp_path / "adapter"))


def test_adapter_needs_config(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTOR_ADAPTER", raising=False)
    assert resolve_adapter(None) is None
    assert resolve_adapter("none") is None
    with pytest.raises(ModelSpecError, match="adapter_config.json"):
        resolve_adapter(str(tmp_path))
    (tmp_path / "adapter_config.json").write_text("{}")
    assert resolve_adapter(str(tmp_path)) == str(tmp_path.resolve())


def test_offline_message_says_how_to_pass_a_path():
    message = hub_error_message("org/model")
    assert "offline or unreachable" in message and "--model DIR" in message and "org/model" in message
