"""`tutor eval arc` on the real embedded model, on 8 hand-written questions (3-5 choices, letter and
numeric labels, in tests/integration/data/arc_mini.jsonl).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_eval_arc_model.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.arc import ArcEvalConfig, loglik_requests, run_arc
from evaluation.arc_data import read_jsonl

pytestmark = pytest.mark.model
MINI = Path(__file__).parent / "data" / "arc_mini.jsonl"


@pytest.fixture(scope="module")
def lm():
    from llm.loading import load_model

    return load_model(device="cpu")


def test_packed_scoring_equals_plain_forward_passes(lm):
    import torch

    from evaluation.loglik import LoglikScorer

    items = read_jsonl(MINI).items
    requests, _ = loglik_requests(lm.tokenizer, items, items[:1])  # with a shot: longer, uneven contexts
    packed = LoglikScorer(lm).score(requests, batch_size=3)
    with torch.inference_mode():
        for (context, continuations), scores in zip(requests, packed):
            for cont, score in zip(continuations, scores):
                logits = lm.model(torch.tensor([context + cont])).logits[0].float()
                logprobs = torch.log_softmax(logits[len(context) - 1 : -1], dim=-1)
                reference = logprobs.gather(1, torch.tensor(cont)[:, None]).sum().item()
                assert score == pytest.approx(reference, abs=2e-3)


def test_run_arc_both_modes_writes_results(tmp_path, lm):
    out = tmp_path / "eval"
    results = run_arc(ArcEvalConfig(data=str(MINI), mode="both", chat_template="both", batch_size=4, out=str(out)))
    saved = json.loads((out / "results.json").read_text())
    assert saved["data"]["n_scored"] == 8 and saved["data"]["n_skipped"] == 0
    assert len(saved["data"]["sha256"]) == 64 and saved["data"]["source"].endswith("arc_mini.jsonl")
    assert saved["seed"] == 0 and saved["wall_seconds"] > 0 and saved["settings"]["mode"] == "both"
    base = saved["models"]["base"]
    assert base["label"] == "SmolLM2-135M-Instruct (embedded)" and base["adapter"] is None
    assert set(base["runs"]) == {"loglik", "letter_chat", "letter_plain"}
    for name, run in base["runs"].items():
        assert run["n"] == 8 and run["parse_failures"] == 0, name
        assert 0 <= run["ci95"][0] <= run["accuracy"] <= run["ci95"][1] <= 1
        assert run["wall_seconds"] > 0
    assert 0 <= base["runs"]["loglik"]["acc_norm"] <= 1
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 24
    items = {i.id: i for i in read_jsonl(MINI).items}
    for row in rows:
        assert row["predicted"] in items[row["id"]].labels  # numeric and 5-label sets included
        assert row["correct"] == (row["predicted"] == items[row["id"]].answer)
    assert (out / "accuracy.png").stat().st_size > 1000 and "| base |" in (out / "results.md").read_text()
    assert results["models"]["base"]["runs"]["loglik"]["accuracy"] == base["runs"]["loglik"]["accuracy"]


def test_compare_base_with_an_adapter(tmp_path, lm):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from llm.embedded import ensure_converted

    # A random (not zero-initialised) LoRA adapter, so the two models really differ.
    model = AutoModelForCausalLM.from_pretrained(str(ensure_converted()))
    peft = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft.save_pretrained(tmp_path / "adapter")
    out = tmp_path / "cmp"
    run_arc(ArcEvalConfig(data=str(MINI), mode="loglik", adapter=str(tmp_path / "adapter"), compare_base=True,
                          limit=6, seed=3, out=str(out)))
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["models"]) == {"base", "adapter"}
    assert saved["models"]["adapter"]["adapter"] == str((tmp_path / "adapter").resolve())
    cmp = saved["comparison"]["loglik"]
    assert cmp["n"] == 6 and set(saved["comparison"]) == {"loglik", "loglik_norm"}
    assert cmp["first_accuracy"] == saved["models"]["base"]["runs"]["loglik"]["accuracy"]
    assert cmp["second_accuracy"] == saved["models"]["adapter"]["runs"]["loglik"]["accuracy"]
    assert 0 <= cmp["mcnemar"]["p_value"] <= 1 and 0 <= cmp["prediction_agreement"] <= 1
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    base_rows = [r for r in rows if r["model"] == "base"]
    adapter_rows = [r for r in rows if r["model"] == "adapter"]
    assert [r["id"] for r in base_rows] == [r["id"] for r in adapter_rows]
    assert any(a["logliks"] != b["logliks"] for a, b in zip(base_rows, adapter_rows))
