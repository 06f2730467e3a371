"""Turn reading, three ways on the same messages: rules alone, the model alone, the model with rule guard rails.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python bench/turns.py                      # frozen test set, shipped adapter
    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python bench/turns.py --adapter runs/tutor/adapter --limit 100
    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python bench/turns.py \
        --data evaluation/data/turns_test_blind.jsonl --results bench/results/turns_blind.json   # the blind set

Runs ``tutor eval turns`` once per reader mode (each writes predictions.jsonl and results.json under
``--out``/<mode>), prints one table (intent, topic exact/F1, questions/difficulty/letter accuracy and
values predicted where none was said, seconds per turn p50/p95/cold) and writes ``bench/results/turns.json``.
Run it on a quiet machine: seconds per turn are the turn-latency target of issue 12 (p95 <= 1.0 s, warm,
2 CPU threads), and other processes on a 2-core machine change them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common.files import write_json

ROOT = Path(__file__).resolve().parents[1]


def row(results: dict, key: str = "metrics") -> list:
    m = results[key]
    s = results["seconds_per_turn"]
    return [
        results["reader"], m["intent_accuracy"], m["topic"]["exact_match"], m["topic"]["token_f1"],
        *(f"{m[f]['accuracy']} / {m[f]['predicted_where_none']}" for f in ("questions", "difficulty", "letter")),
        s.get("p50"), s.get("p95"), s.get("cold"),
    ]


HEADER = ["reader", "intent", "topic exact", "topic F1", "questions acc / extra", "difficulty acc / extra",
          "letter acc / extra", "s p50", "s p95", "s cold"]


def table(rows: list[list]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def token_budget(data: str, model: str | None = None) -> dict:
    """Prompt and answer tokens per turn (the gold answer lines of ``data``, and the same fields as JSON)."""
    from transformers import AutoTokenizer

    from evaluation.turn_scoring import expected_reading, load_rows
    from llm.loading import model_source
    from llm.spec import resolve_model
    from prompts.turns import turn_messages

    source, kwargs = model_source(resolve_model(model))
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    prompts, lines, jsons = [], [], []
    for row in load_rows(data):
        prompt = tokenizer.apply_chat_template(turn_messages(row.text, row.options), tokenize=False,
                                               add_generation_prompt=True)
        prompts.append(len(tokenizer(prompt)["input_ids"]))
        reading = expected_reading(row)
        lines.append(len(tokenizer(reading.line())["input_ids"]) + 1)  # + the end-of-sequence token
        jsons.append(len(tokenizer(reading.model_dump_json())["input_ids"]) + 1)

    def stats(values: list[int]) -> dict:
        ordered = sorted(values)
        return {"mean": round(sum(values) / len(values), 1), "p95": ordered[int(0.95 * (len(ordered) - 1))],
                "max": ordered[-1]}

    return {"prompt_tokens": stats(prompts), "answer_line_tokens": stats(lines), "answer_as_json_tokens": stats(jsons)}


def adapter_sha256(adapter: str | None) -> str | None:
    """The first 12 hex digits of the adapter weights' sha256 (which adapter the figures belong to)."""
    import hashlib

    folder = Path(adapter) if adapter else ROOT / "llm/adapters/tutor-smollm2"
    weights = folder / "adapter_model.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest()[:12] if weights.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "evaluation/data/turns_test.jsonl"), help="labelled turns (JSONL)")
    parser.add_argument("--out", default=str(ROOT / "runs/bench-turns"), help="folder for each mode's eval output")
    parser.add_argument("--model", help="model spec (default: the embedded model)")
    parser.add_argument("--adapter", help="adapter folder (default: the shipped tutor adapter)")
    parser.add_argument("--limit", type=int, help="only the first N rows")
    parser.add_argument("--modes", default="rules,model,both", help="comma-separated reader modes")
    parser.add_argument("--results", default=str(ROOT / "bench/results/turns.json"), help="summary JSON to write")
    args = parser.parse_args(argv)

    from evaluation.turns import TurnEvalConfig, run_turns

    runs: dict = {"tokens": token_budget(args.data, args.model), "data": Path(args.data).name,
                  "adapter_sha256": adapter_sha256(args.adapter)}
    print("tokens per turn:", json.dumps(runs["tokens"]))
    for mode in args.modes.split(","):
        config = TurnEvalConfig(data=args.data, out=str(Path(args.out) / mode), reader=mode, model=args.model,
                                adapter=args.adapter, limit=args.limit)
        runs[mode] = run_turns(config)
        runs[mode].pop("files", None)
    modes = [runs[m] for m in args.modes.split(",")]
    print(table([row(r) for r in modes]))
    print("\nwithout the rows whose topic the adapter trains on (seen_concept):")
    print(table([row(r, "metrics_unseen_topics") for r in modes]))
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.results, runs)
    print(f"\nwrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
