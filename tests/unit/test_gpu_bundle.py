"""The adapter-v2 GPU bundle's pure parts: the lossless GGUF squeeze and the non-regression verdict."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

GPU = Path(__file__).resolve().parents[2] / "bench" / "gpu"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, GPU / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_gguf(path: Path) -> None:
    """A GGUF with a Q8_0, a Q4_1 and an F32 tensor of random bytes (quantised blocks are only bytes here)."""
    gguf = pytest.importorskip("gguf")
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.name", "tiny")
    q8 = rng.integers(0, 256, size=(4, 2 * 34), dtype=np.uint8)  # 4 rows x 64 values
    q4 = rng.integers(0, 256, size=(2, 3 * 20), dtype=np.uint8)  # 2 rows x 96 values
    writer.add_tensor("a.weight", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("b.weight", rng.standard_normal(7).astype(np.float32))
    writer.add_tensor("c.weight", q4, raw_dtype=gguf.GGMLQuantizationType.Q4_1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_squeeze_round_trip_is_byte_exact(tmp_path):
    squeeze = _load("gguf_squeeze")
    source, packed, rebuilt = tmp_path / "m.gguf", tmp_path / "m.ggsq", tmp_path / "r.gguf"
    _tiny_gguf(source)
    info = squeeze.pack(source, packed)
    assert {s["name"] for s in info["streams"]} == {"rest", "scales34x2", "quants34x2", "scales20x4", "quants20x4"}
    squeeze.unpack(packed, rebuilt)
    assert rebuilt.read_bytes() == source.read_bytes()


def test_squeeze_refuses_a_damaged_file(tmp_path):
    squeeze = _load("gguf_squeeze")
    source, packed = tmp_path / "m.gguf", tmp_path / "m.ggsq"
    _tiny_gguf(source)
    squeeze.pack(source, packed)
    data = bytearray(packed.read_bytes())
    head = json.loads(data[len(squeeze.MAGIC) + 8 : len(squeeze.MAGIC) + 8 + int.from_bytes(data[6:14], "little")])
    head["sha256"] = "0" * 64  # as if another file had been squeezed: the rebuilt bytes no longer match
    text = json.dumps(head).encode()
    damaged = squeeze.MAGIC + len(text).to_bytes(8, "little") + text + data[14 + int.from_bytes(data[6:14], "little") :]
    packed.write_bytes(damaged)
    with pytest.raises(ValueError, match="sha256"):
        squeeze.unpack(packed, tmp_path / "r.gguf")
    assert not (tmp_path / "r.gguf").exists()


def _results(folder: Path, low: float) -> None:
    folder.mkdir(parents=True)
    cmp = {"n": 500, "first_accuracy": 0.30, "second_accuracy": 0.29, "difference": -0.01,
           "difference_ci95": [low, 0.02], "mcnemar": {"p_value": 0.5}}
    (folder / "results.json").write_text(json.dumps(
        {"comparison": {"loglik": cmp, "letter_chat": {**cmp, "difference_ci95": [-0.01, 0.03]}},
         "settings": {"device": "cuda", "dtype": "float32"}}))


@pytest.mark.parametrize(("low", "passes"), [(-0.019, True), (-0.021, False)])
def test_non_regression_floor_is_minus_two_points(tmp_path, low, passes):
    summary = _load("adapter_summary")
    _results(tmp_path / "reports" / "openbookqa", low)
    out = summary.summarise(tmp_path / "train", tmp_path / "reports", tmp_path / "adapter", tmp_path / "t.tsv")
    assert out["non_regression"]["loglik"] is passes
    assert out["non_regression"]["all_modes"] is passes
    assert [r["passes"] for r in out["comparisons"] if r["mode"] == "letter_chat"] == [True]
    assert out["adapter_under_20_mb"] is False  # no adapter files: nothing shipped


def test_stage_seconds_stay_within_each_call(tmp_path):
    summary = _load("adapter_summary")
    timings = tmp_path / "t.tsv"
    timings.write_text("gguf\t100\t100\ntrain\t130\t100\n"  # call 2: cut off during training
                       "gguf\t500\t500\ntrain\t502\t500\neval-loglik\t560\t500\ndone\t600\t500\n")  # call 3
    assert summary.stage_seconds(timings) == {"gguf": 32, "train": 58, "eval-loglik": 40}
