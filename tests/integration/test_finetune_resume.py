"""Train on the real embedded model in a subprocess, SIGKILL it after a checkpoint, resume to the end.

Tiny on purpose (24 short rows, max_length 64, 8 steps, a checkpoint every 2 steps). Asserts that
the resumed run continues from the checkpoint instead of restarting, reaches max_steps, and writes
the adapter (PEFT format), metrics.json (with the skipped rows) and the loss curve.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_resume.py -q
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
MAX_STEPS = 8
TOPICS = ("overfitting", "dropout", "gradient descent", "bias", "variance", "regularisation", "batch norm", "recall")


def tiny_dataset(path: Path) -> None:
    rows = []
    for i in range(24):
        topic = TOPICS[i % len(TOPICS)]
        if i % 3 == 0:
            rows.append({"conversations": [{"from": "human", "value": f"What is {topic}?"},
                                           {"from": "gpt", "value": f"{topic.capitalize()} is a core ML idea."}]})
        elif i % 3 == 1:
            rows.append({"messages": [{"role": "user", "content": f"Explain {topic}."},
                                      {"role": "assistant", "content": f"{topic} affects generalisation."}]})
        else:
            rows.append({"prompt": f"Define {topic}.", "completion": f"{topic}: a term in ML."})
    lines = [json.dumps(row) for row in rows] + ["{truncated", json.dumps({"messages": [{"role": "user", "content": "?"}]})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def finetune_command(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tutor", "finetune", "--config", str(config), *extra]


def env() -> dict:
    # PASSIVE: with other torch processes on the same 2 cores, spinning OpenMP threads made steps ~5x slower.
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_WAIT_POLICY": "PASSIVE"}


def test_kill_and_resume(tmp_path):
    data, out, config = tmp_path / "train.jsonl", tmp_path / "run", tmp_path / "tiny.yaml"
    tiny_dataset(data)
    config.write_text(
        f"model: embedded\ndataset: {data}\nmax_length: 64\noutput_dir: {out}\nmax_steps: {MAX_STEPS}\n"
        "save_steps: 2\nsave_total_limit: 3\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 1\n"
        "lora_r: 8\nlora_alpha: 16\nwarmup_steps: 1\nlearning_rate: 1.0e-3\nlogging_steps: 1\n",
        encoding="utf-8",
    )
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(finetune_command(config), cwd=ROOT, env=env(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 150
    marker = out / "checkpoint-2" / "trainer_state.json"
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    log.close()
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()[-2000:]
    assert marker.exists(), "no checkpoint was written before the deadline"
    assert not (out / "adapter").exists(), "the run finished before it could be killed; the test proves nothing"

    second = subprocess.run(finetune_command(config, "--resume"), cwd=ROOT, env=env(), capture_output=True,
                            text=True, timeout=240)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming from" in second.stderr

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["global_step"] == MAX_STEPS == metrics["max_steps"]
    assert metrics["resumed_from_step"] >= 2 and metrics["resumed_from_step"] % 2 == 0
    assert metrics["rows_skipped"] == 2 and metrics["skipped"] == {"invalid_json": 1, "no_assistant_turn": 1}
    assert metrics["data"]["rows_used"] == 24 and len(metrics["data_sha256"]) == 64
    assert metrics["final_loss"] is not None and metrics["tokens_seen"] > 0 and metrics["seconds"] > 0
    assert metrics["config"]["max_length"] == 64 and metrics["quantization"] == "none"
    steps_logged = [e["step"] for e in json.loads((out / f"checkpoint-{MAX_STEPS}" / "trainer_state.json")
                                                  .read_text())["log_history"] if "loss" in e]
    assert steps_logged == list(range(1, MAX_STEPS + 1))  # the curve spans the killed and the resumed part

    adapter = out / "adapter"
    adapter_config = json.loads((adapter / "adapter_config.json").read_text())
    assert adapter_config["r"] == 8 and adapter_config["peft_type"] == "LORA"
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".partial-*"))


def test_refuses_to_overwrite_without_flag(tmp_path):
    from finetune.arguments import parse_config
    from finetune.train import TrainingSetupError, prepare_output_dir

    (tmp_path / "checkpoint-4").mkdir()
    with pytest.raises(TrainingSetupError, match="--resume"):
        prepare_output_dir(parse_config(["--output_dir", str(tmp_path)]))
    assert prepare_output_dir(parse_config(["--output_dir", str(tmp_path), "--overwrite"])) is None
    assert not (tmp_path / "checkpoint-4").exists()


def test_resume_refuses_different_data(tmp_path):
    from finetune.arguments import parse_config
    from finetune.train import TrainingSetupError, _check_same_run

    config = parse_config(["--output_dir", str(tmp_path)])
    _check_same_run(tmp_path, None, "a" * 64, config)  # a fresh run records its data hash
    assert json.loads((tmp_path / "run_config.json").read_text())["data_sha256"] == "a" * 64
    _check_same_run(tmp_path, tmp_path / "checkpoint-2", "a" * 64, config)  # same data: fine
    with pytest.raises(TrainingSetupError, match="data differs"):
        _check_same_run(tmp_path, tmp_path / "checkpoint-2", "b" * 64, config)
