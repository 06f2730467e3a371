"""Can a model phrase quiz questions itself? Base vs tutor adapter on held-out concepts.

For each held-out fact (concepts never trained on, see :mod:`finetune.tutor_data`) the model
writes a :class:`schemas.QuestionDraft` under the Outlines constraint, first try, greedy. We
report the share of facts where

* ``valid``      - the draft assembles into a valid presented question (schema validators);
* ``stem_ok``    - the stem passes the quality checks (:func:`agent.quiz.checks.stem_problems`);
* ``key_ok``     - the source fact supports the key and no distractor (lexical verification);
* ``distinct``   - the three distractors are distinct from each other and from the key;
* ``usable``     - all four at once (what the "free" strategy would accept).

    python -m evaluation.phrasing --limit 40 --out runs/phrasing                       # base only
    python -m evaluation.phrasing --adapter llm/adapters/tutor-smollm2 --compare-base --out runs/phrasing
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from prompts.tutor import write_question_messages
from agent.quiz.assemble import build_question
from agent.quiz.checks import distractor_problems, lexical_support, stem_problems

METRICS = ("valid", "stem_ok", "key_ok", "distinct", "usable")


def score_draft(draft, statement: str, concept: str) -> dict:
    """The per-fact checks for one draft (``None`` = the output did not even parse)."""
    if draft is None:
        return {m: False for m in METRICS}
    try:
        build_question(
            stem=draft.question, correct=draft.correct_answer, distractors=list(draft.distractors), letter="A",
            seed=0, explanation=draft.explanation, concept=concept[:120], source=None,
        )
        valid = True
    except ValueError:
        valid = False
    stem_ok = not stem_problems(draft.question, draft.correct_answer, statement, concept)
    distinct = not distractor_problems(draft.correct_answer, list(draft.distractors), draft.question)
    key_ok = lexical_support(statement, draft.correct_answer, list(draft.distractors)).verified
    return {"valid": valid, "stem_ok": stem_ok, "key_ok": key_ok, "distinct": distinct,
            "usable": valid and stem_ok and key_ok and distinct}


def evaluate(lm, facts: list[dict], max_new_tokens: int = 320) -> dict:
    from tqdm import tqdm

    from llm.structured import StructuredOutputError, StructuredRuntime
    from schemas import QuestionDraft

    runtime = StructuredRuntime.for_model(lm)
    rows = []
    started = time.perf_counter()
    for fact in tqdm(facts, desc=lm.adapter and "adapter" or "base", unit="fact"):
        prompt = runtime.chat(write_question_messages(fact["concept"], fact["statement"]))
        try:
            draft = runtime.generate(QuestionDraft, prompt, seed=0, max_new_tokens=max_new_tokens)
        except StructuredOutputError:
            draft = None
        scores = score_draft(draft, fact["statement"], fact["concept"])
        rows.append({**fact, "draft": draft.model_dump() if draft else None, **scores})
    n = len(rows)
    summary = {m: sum(r[m] for r in rows) / n for m in METRICS} if n else {}
    return {"n": n, "seconds": round(time.perf_counter() - started, 1), "rates": summary, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="question-phrasing quality on held-out concepts")
    parser.add_argument("--heldout", type=Path, default=None, help="held-out facts JSONL (default: rebuilt from cards)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--adapter", default=None)
    parser.add_argument("--compare-base", action="store_true", help="also run the base model without the adapter")
    parser.add_argument("--limit", type=int, default=0, help="first N held-out facts (0 = all)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from finetune.tutor_data import build
    from llm.loading import load_model

    if args.heldout is None:
        build(args.out / "data")
        args.heldout = args.out / "data" / "heldout.jsonl"
    facts = [json.loads(line) for line in args.heldout.read_text().splitlines() if line.strip()]
    facts = facts[: args.limit] if args.limit else facts
    results = {}
    runs = [("base", None)] if not args.adapter else ([("base", "none")] if args.compare_base else []) + [("adapter", args.adapter)]
    for name, adapter in runs:
        results[name] = evaluate(load_model(args.model, adapter), facts)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "phrasing.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    lines = ["| model | n | " + " | ".join(METRICS) + " | seconds |", "|---|---|" + "---|" * len(METRICS) + "---|"]
    for name, res in results.items():
        rates = " | ".join(f"{res['rates'][m]:.0%}" for m in METRICS)
        lines.append(f"| {name} | {res['n']} | {rates} | {res['seconds']} |")
    table = "\n".join(lines)
    (args.out / "phrasing.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
