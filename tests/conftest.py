"""Shared fixtures. Tiers: tests/unit (pure: no torch, transformers, peft or trl; tests/unit/conftest.py fails
a test that imports one), tests/integration (real embedded model `model`, torch or transformers without the model
`torch`, whole data sets `data`), tests/server (vLLM), tests/e2e (real Chainlit server in headless chromium).
Run one tier: `bash scripts/test.sh tests/unit`.
Tests marked ``postgres`` use :func:`postgres_url`, a real PostgreSQL server from Debian's packages."""

from __future__ import annotations

import functools
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def embedded_lm():
    """The real embedded model (SmolLM2-135M-Instruct), loaded once per test session."""
    from llm.loading import load_model

    return load_model()


@functools.lru_cache(maxsize=1)
def curated_knowledge_base():
    """The curated cards without notes, built once per process: a process forked after the first build (one
    mutant run of bench/mutation.py) gets it for free instead of rebuilding the search index."""
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.load()


@pytest.fixture(scope="session")
def knowledge_base():
    """The curated cards without notes."""
    return curated_knowledge_base()


def _postgres_bin() -> Path | None:
    """Debian's server binaries (``apt-get install postgresql``): the newest /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL server on a free loopback port (trust auth), its URL; stopped afterwards.

    PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system user
    (``runuser``). Skips when the binaries are absent, except under ``CI=true``, where that fails.
    """
    bin_dir = _postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL server binaries absent (apt-get install postgresql)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    if as_user:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120, cwd=root)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "tutor")
        yield f"postgresql://postgres@127.0.0.1:{port}/tutor"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_database(postgres_url):
    """A new empty database on the session's server (one per test), its URL."""
    import psycopg

    name = "t" + os.urandom(6).hex()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + "/" + name
