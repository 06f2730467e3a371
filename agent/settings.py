"""The tutor's settings: one object composed of each layer's settings, environment variables as fallback.

    settings = Settings.from_env()              # every layer from its variables (or defaults)
    settings.llm.model, settings.knowledge.notes_dir, settings.app.port, settings.questions

Each layer reads its own variables in one place (:class:`llm.settings.LLMSettings`,
:class:`knowledge.settings.KnowledgeSettings`, :class:`agent.app.settings.AppSettings`); a CLI flag
wins over its variable. The README's table of variables is printed from the fields' docs:

    python -m agent.settings --markdown
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.app.settings import AppSettings
from agent.study.settings import StudySettings
from common.settings import EnvSettings, SettingsError, markdown_table, setting
from knowledge.settings import KnowledgeSettings
from llm.settings import BackendSettings, LLMSettings
from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS


class Settings(EnvSettings):
    """Which model runs, where the tutor keeps its data, how the web app serves, and the quiz length."""

    llm: LLMSettings = Field(default_factory=LLMSettings)
    backend: BackendSettings = Field(default_factory=BackendSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    app: AppSettings = Field(default_factory=AppSettings)
    study: StudySettings = Field(default_factory=StudySettings)
    questions: int = setting(
        DEFAULT_QUESTIONS, env="TUTOR_QUESTIONS", ge=1, le=MAX_QUESTIONS,
        doc=f"default quiz length (1-{MAX_QUESTIONS}): `tutor quiz --questions` and the web app's slider",
    )
    # Model + rules by default: on messages written blind to the readers (bench/results/turns_blind.json) the
    # adapter-v3 reader under the rules beats the rules alone on intent, topic and letter (agent/turns/__init__.py).
    turn_reader: Literal["rules", "model", "both"] = setting(
        "both", env="TUTOR_TURN_READER",
        doc="how chat messages are read: 'rules'; 'model' (the fine-tuned model alone); 'both' (model, rules as guard rails)",
    )

    @property
    def database_url(self) -> str | None:
        url = self.knowledge.database_url
        return url.get_secret_value() if url is not None else None

    @property
    def checkpoint_database(self) -> str | Path:
        """Where the graph's checkpoints live: the PostgreSQL URL, else :attr:`checkpoint_db`."""
        return self.database_url or self.checkpoint_db

    @property
    def chat_database(self) -> str | Path:
        """Where chat history and accounts live: the PostgreSQL URL, else :attr:`chat_db`."""
        return self.database_url or self.chat_db

    @property
    def checkpoint_db(self) -> Path:
        """The graph's checkpoints (quiz state), by chat thread."""
        return self.knowledge.data_dir / "graph.sqlite"

    @property
    def chat_db(self) -> Path:
        """The web app's chat history."""
        return self.knowledge.data_dir / "chat.sqlite"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Show the tutor's settings.")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table of environment variables (for the README) instead of the values")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table(Settings))
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(settings.model_dump_json(indent=2) + "\n")  # secrets show as **********
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
