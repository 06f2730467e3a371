"""Shared fixtures. Tiers: tests/unit (pure, milliseconds), tests/integration (real embedded model),
tests/e2e (real Chainlit server in headless chromium). Run one tier: `bash scripts/test.sh tests/unit`."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def embedded_lm():
    """The real embedded model (SmolLM2-135M-Instruct), loaded once per test session."""
    from llm.loading import load_model

    return load_model()


@pytest.fixture(scope="session")
def knowledge_base():
    """The curated cards without notes."""
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.load()


def pytest_collection_modifyitems(config, items):
    """Browser tests get one retry: a real server and chromium on 2 shared cores can miss a UI timeout
    under load. A test that fails twice fails the run (pytest-rerunfailures reports the rerun)."""
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=5))
