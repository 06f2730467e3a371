"""One settings object: each layer reads its variables, flags win, bad values fail with the variable's name.

Also checks that no module outside the settings reads an environment variable, and that the README table
lists every variable that is read (pure, milliseconds).

    .venv/bin/python -m pytest tests/unit/test_settings.py -q
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from agent.app.settings import AppSettings
from agent.cli import question_count, settings_from_args
from agent.settings import Settings, main
from common.settings import SettingsError, markdown_table
from knowledge.settings import KnowledgeSettings
from llm.settings import LLMSettings, add_model_arguments

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("agent", "common", "evaluation", "finetune", "knowledge", "llm", "prompts", "schemas", "tutor")
SETTINGS_MODULES = {"common/settings.py", "llm/settings.py", "knowledge/settings.py", "agent/app/settings.py",
                    "agent/settings.py"}


@pytest.fixture
def environ() -> dict[str, str]:
    return {"TUTOR_MODEL": "org/model", "TUTOR_DEVICE": "cpu", "TUTOR_GENERATE_THREADS": "3",
            "TUTOR_DATA_DIR": "~/tutor-data", "TUTOR_PORT": "8765", "TUTOR_PASSWORD": "pw", "TUTOR_QUESTIONS": "4",
            "TUTOR_ADAPTER": "  "}


def test_every_layer_reads_its_variables(environ):
    settings = Settings.from_env(environ)
    assert (settings.llm.model, settings.llm.device, settings.llm.generate_threads) == ("org/model", "cpu", 3)
    assert settings.llm.adapter is None  # blank counts as unset
    assert settings.knowledge.data_dir == Path.home() / "tutor-data"
    assert settings.knowledge.notes_dir == Path.home() / "tutor-data" / "notes"
    assert settings.checkpoint_db == Path.home() / "tutor-data" / "graph.sqlite"
    assert (settings.app.port, settings.app.open, settings.questions) == (8765, False, 4)


def test_defaults_without_variables():
    settings = Settings.from_env({})
    assert settings.llm.model is None and settings.llm.cpu_weights == "auto"
    assert settings.llm.cache_dir == Path.home() / ".cache" / "ml-tutor"
    assert settings.knowledge.data_dir == Path.home() / ".local" / "share" / "ml-tutor"
    app = settings.app
    assert (app.host, app.port, app.open, settings.questions) == ("127.0.0.1", 8000, True, 10)


def test_a_given_value_wins_over_its_variable(environ):
    assert LLMSettings.from_env(environ, model="embedded").model == "embedded"
    assert KnowledgeSettings.from_env(environ, data_dir="/srv/d").data_dir == Path("/srv/d")
    assert KnowledgeSettings.from_env(environ, notes="/n").notes_dir == Path("/n")
    with pytest.raises(TypeError, match="no setting"):
        LLMSettings.from_env(environ, modle="x")


@pytest.mark.parametrize(("variable", "value"), [
    ("TUTOR_GENERATE_THREADS", "many"), ("TUTOR_GENERATE_THREADS", "0"), ("TUTOR_CPU_WEIGHTS", "int3"),
    ("TUTOR_PORT", "70000"), ("TUTOR_QUESTIONS", "21"),
])
def test_a_bad_value_names_its_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_secrets_stay_out_of_repr_and_dumps():
    app = AppSettings.from_env({"TUTOR_PASSWORD": "hunter2", "CHAINLIT_AUTH_SECRET": "k" * 40})
    assert "hunter2" not in repr(app) and "hunter2" not in Settings(app=app).model_dump_json()
    assert "k" * 40 not in repr(app) and app.password.get_secret_value() == "hunter2"


def test_settings_are_frozen():
    with pytest.raises(ValueError):
        Settings().questions = 3  # type: ignore[misc]


def _variables_read_in(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    reads = re.findall(r"(?:environ\.get|getenv)\(\s*[\"']?(\w+)", text)
    return set(reads) | set(re.findall(r"environ\[[\"'](\w+)[\"']\](?!\s*=)", text))


def test_no_module_outside_the_settings_reads_the_environment():
    readers = {}
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative not in SETTINGS_MODULES and _variables_read_in(path):
                readers[relative] = sorted(_variables_read_in(path))
    assert readers == {}


def test_the_table_lists_every_variable_with_its_default_and_meaning(capsys):
    assert main(["--markdown"]) == 0
    table = capsys.readouterr().out
    assert table == markdown_table(Settings)
    rows = [line for line in table.splitlines()[2:]]
    variables = {re.match(r"\| `(\w+)`", row).group(1) for row in rows}
    assert {"TUTOR_MODEL", "TUTOR_ADAPTER", "TUTOR_DEVICE", "TUTOR_CPU_WEIGHTS", "TUTOR_GENERATE_THREADS",
            "ML_TUTOR_CACHE", "TUTOR_DATA_DIR", "TUTOR_USERNAME", "TUTOR_PASSWORD", "CHAINLIT_AUTH_SECRET",
            "TUTOR_HOST", "TUTOR_PORT", "TUTOR_QUESTIONS", "OMP_WAIT_POLICY", "TUTOR_DATABASE_URL",
            "TUTOR_CLOCK_OFFSET_DAYS", "TUTOR_CLOCK_OFFSET_SECONDS",
            "TUTOR_BACKEND", "TUTOR_LLAMACPP_THREADS", "TUTOR_LLAMACPP_CONTEXT", "TUTOR_OPENAI_BASE_URL",
            "TUTOR_OPENAI_MODEL", "OPENAI_API_KEY", "TUTOR_TURN_READER", "TUTOR_UPLOAD_MAX_MB", "TUTOR_BATCHING",
            "TUTOR_MODEL_NICE"} == variables
    assert "TUTOR_INDEX_CACHE" not in table  # the pickled index cache is gone
    assert all(row.count("|") == 5 and "|  |" not in row for row in rows)  # a default and a meaning each
    assert "| `ML_TUTOR_CACHE` | `llm.cache_dir` | ~/.cache/ml-tutor |" in table


def test_model_flags_come_from_the_settings_and_fall_back_to_the_environment(monkeypatch):
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    assert "TUTOR_MODEL" in parser.format_help() and "TUTOR_ADAPTER" in parser.format_help()
    monkeypatch.setenv("TUTOR_MODEL", "org/from-env")
    monkeypatch.setenv("TUTOR_QUESTIONS", "7")
    assert settings_from_args(parser.parse_args([])).llm.model == "org/from-env"
    args = parser.parse_args(["--model", "org/from-flag"])
    assert settings_from_args(args).llm.model == "org/from-flag" and settings_from_args(args).questions == 7


def test_database_url_picks_postgres_and_keeps_its_password_out_of_dumps(tmp_path):
    local = Settings.from_env({"TUTOR_DATA_DIR": str(tmp_path)})
    assert (local.chat_database, local.checkpoint_database) == (tmp_path / "chat.sqlite", tmp_path / "graph.sqlite")
    url = "postgresql://tutor:pw-123@db:5432/tutor"
    shared = Settings.from_env({"TUTOR_DATA_DIR": str(tmp_path), "TUTOR_DATABASE_URL": url})
    assert shared.chat_database == shared.checkpoint_database == url
    assert "pw-123" not in shared.model_dump_json()
    with pytest.raises(SettingsError, match="TUTOR_DATABASE_URL .*postgresql://"):
        Settings.from_env({"TUTOR_DATABASE_URL": "sqlite:///x.db"})


def test_question_count_accepts_1_to_20_only():
    assert question_count("1") == 1 and question_count("20") == 20
    for bad in ("0", "21", "ten"):
        with pytest.raises(argparse.ArgumentTypeError):
            question_count(bad)


def test_the_command_line_parser_stays_light():
    """``tutor --help`` (every subcommand's flags, settings included) imports no heavy library."""
    import subprocess
    import sys

    code = ("import sys; from tutor.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'transformers', 'scipy', 'chainlit', 'outlines') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
