"""Do explanations answer the question asked? Extractive vs model answers on held-out questions.

Each question in ``--data`` (JSONL: question, topic, card, fact, statement, answer; written for this
project about held-out concepts, ``finetune.tutor_data.is_heldout``) is labelled with the fact that
answers it. For every variant, the same questions and the same retrieved facts:

* ``clean``      - the answer ends on a complete sentence (:func:`agent.explain.sentences.ends_cleanly`);
  must be 100%. ``raw_clean`` is the same check on the model's raw text up to where generation
  stopped (after the third sentence, at the end of text, or at the token limit), before the
  sentence buffer dropped any trailing fragment.
* ``answered``   - the first two sentences hold every content word of the labelled fact's answer
  (:func:`knowledge.facts.states_answer`); aim >= 80%. For a model variant an answer that fell back
  to the best fact (the model finished no sentence) counts as not answered: the model's own output
  is judged. ``fallback`` is the share of such answers.
* ``hit@1/hit@3`` - the labelled fact is the first / among the three retrieved facts (no model).
* ``tokens/s``   - generated tokens over generation seconds (model variants; includes the prompt).

Variants: ``extractive`` (no model: the top facts' statements), ``base`` (embedded model, no
adapter), ``adapter`` (embedded model + shipped tutor adapter, or ``--adapter DIR``).

    python -m evaluation.explain_report --out evaluation/reports/explain                  # all variants
    tutor eval explain --data evaluation/data/explain_questions.jsonl --out evaluation/reports/explain   # the same
    python -m evaluation.explain_report --variants extractive --data evaluation/data/explain_questions_dev.jsonl --out runs/explain-dev
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


DEFAULT_DATA = Path("evaluation/data/explain_questions.jsonl")
VARIANTS = ("extractive", "base", "adapter")


def load_questions(path: Path, limit: int = 0) -> list[dict]:
    """The labelled questions; a malformed line fails with its line number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["question"], row["statement"], row["answer"]  # noqa: B018  (required fields)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled question ({exc})") from None
        rows.append(row)
    return rows[:limit] if limit else rows


def stale_labels(rows: list[dict], kb) -> list[str]:
    """Questions whose labelled fact statement is no longer in any card (cards edited since labelling)."""
    statements = {f.statement for card in kb.cards.values() for f in card.facts}
    return [r["question"] for r in rows if r["statement"] not in statements]


def score_answer(text: str, row: dict, fell_back: bool = False) -> dict:
    """The per-question checks of one answer text (``fell_back``: not the model's own words)."""
    from agent.explain.sentences import ends_cleanly, split_complete
    from knowledge.facts import states_answer

    sentences, _ = split_complete(text.strip(), final=True)
    answered = not fell_back and states_answer(" ".join(sentences[:2]), row["answer"])
    return {"clean": ends_cleanly(text), "answered": answered, "fallback": fell_back,
            "sentences": len(sentences), "words": len(text.split())}


def run_variant(explainer, rows: list[dict], name: str, tokenizer=None) -> dict:
    """Answer every question with one variant; per-question rows and the summary."""
    from tqdm import tqdm

    from agent.explain.sentences import ends_cleanly

    mode = "extractive" if name == "extractive" else "model"
    results, tokens, seconds = [], 0, 0.0
    for row in tqdm(rows, desc=name, unit="question"):
        started = time.perf_counter()
        stream = explainer.explain(row["question"], row.get("topic"), mode=mode)
        text = "".join(stream.pieces)
        elapsed = time.perf_counter() - started
        statements = [f.statement for f in stream.facts]
        raw = "".join(stream.raw)
        generated = len(tokenizer(raw, add_special_tokens=False)["input_ids"]) if tokenizer and raw else 0
        tokens, seconds = tokens + generated, seconds + elapsed
        results.append({
            "question": row["question"], "answer_text": text, "raw": raw if mode == "model" else None,
            "hit@1": statements[:1] == [row["statement"]], "hit@3": row["statement"] in statements[:3],
            "raw_clean": ends_cleanly(raw) if mode == "model" else None, "tokens": generated,
            "seconds": round(elapsed, 3), **score_answer(text, row, bool(stream.fell_back)),
        })
    return {"summary": summarise(results, tokens, seconds, mode), "rows": results}


def summarise(results: list[dict], tokens: int, seconds: float, mode: str) -> dict:
    n = len(results)
    share = lambda key: round(sum(bool(r[key]) for r in results) / n, 4) if n else None  # noqa: E731
    summary = {"n": n, "clean": share("clean"), "answered": share("answered"), "hit@1": share("hit@1"),
               "hit@3": share("hit@3"), "mean_words": round(sum(r["words"] for r in results) / n, 1) if n else None,
               "seconds_per_answer": round(seconds / n, 3) if n else None}
    if mode == "model":
        summary |= {"raw_clean": share("raw_clean"), "fallback": share("fallback"), "tokens": tokens,
                    "tokens_per_s": round(tokens / seconds, 2) if seconds else None}
    return summary


def markdown(results: dict, meta: dict) -> str:
    lines = [
        "# Explanations: do they answer the question asked?", "",
        f"{meta['n']} questions from `{meta['data']}`, each labelled with the fact that answers it; "
        f"{meta.get('heldout', '?')} of them about held-out concepts (never trained on). Same questions and "
        "retrieved facts for every variant; 'answered' judges the model's own words (a fallback to the best "
        "fact counts as not answered).", "",
        "| variant | clean | raw clean | answered (first 2 sentences) | fallback | hit@1 | hit@3 | words | s/answer "
        "| tokens/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    for name, res in results.items():
        s = res["summary"]
        lines.append(f"| {name} | {pct(s['clean'])} | {pct(s.get('raw_clean'))} | {pct(s['answered'])} | "
                     f"{pct(s.get('fallback'))} | "
                     f"{pct(s['hit@1'])} | {pct(s['hit@3'])} | {s['mean_words']} | {s['seconds_per_answer']} | "
                     f"{s.get('tokens_per_s', '-')} |")
    if meta.get("stale_labels"):
        lines += ["", f"**{len(meta['stale_labels'])} labelled facts are no longer in the cards**: relabel "
                  "them (see results.json, meta.stale_labels) before reading hit@1/hit@3."]
    lines += ["", f"Command: `{meta['command']}`  ", f"Model: {meta.get('model') or '-'}; adapter: "
              f"{meta.get('adapter') or '-'}; max sentences {meta['max_sentences']}, max new tokens "
              f"{meta['max_new_tokens']}. Timings were taken on a shared machine; rerun on a quiet one.", "",
              "## Samples (first 8 questions)", ""]
    for i, row in enumerate(next(iter(results.values()))["rows"][:8]):
        lines.append(f"**{row['question']}**\n")
        for name, res in results.items():
            lines.append(f"- {name}: {res['rows'][i]['answer_text']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _relative(path: str | None) -> str | None:
    """``path`` relative to the working directory when inside it (reports name no machine's folders)."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled questions (JSONL)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and report.md")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--model", default=None, help="model spec (default: the embedded model)")
    parser.add_argument("--adapter", default=None, help="adapter folder for the 'adapter' variant (default: shipped)")
    parser.add_argument("--limit", type=int, default=0, help="first N questions (0 = all)")


def register_explain(eval_sub: argparse._SubParsersAction) -> None:
    """``tutor eval explain``: this report."""
    parser = eval_sub.add_parser("explain", help="explanations on held-out questions: extractive vs model answers",
                                 description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.set_defaults(handler=lambda args: run(args, parser))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import sys

    from agent.explain import Explainer
    from agent.explain import explainer as explainer_module
    from knowledge.base import KnowledgeBase

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)}")
    from finetune.tutor_data import is_heldout

    rows = load_questions(args.data, args.limit)
    kb = KnowledgeBase.load()
    program = ["tutor"] if parser.prog == "tutor eval explain" else ["python", "-m", "evaluation.explain_report"]
    results: dict = {}
    meta = {"n": len(rows), "data": str(args.data), "command": " ".join(program + sys.argv[1:]),
            "heldout": sum(is_heldout(r.get("card", "")) for r in rows), "stale_labels": stale_labels(rows, kb),
            "max_sentences": explainer_module.MAX_SENTENCES, "max_new_tokens": explainer_module.MAX_NEW_TOKENS}
    for name in variants:
        lm = runtime = None
        if name != "extractive":
            from llm.loading import load_model
            from llm.structured import StructuredRuntime

            lm = load_model(args.model, "none" if name == "base" else args.adapter)
            runtime = StructuredRuntime.for_model(lm)
            meta["model"] = lm.label
            meta["adapter"] = _relative(lm.adapter) if name == "adapter" else meta.get("adapter")
        mode = "extractive" if lm is None else "model"
        results[name] = run_variant(Explainer(kb, lm, runtime, mode), rows, name, lm.tokenizer if lm else None)
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "results": results}
    (args.out / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report = markdown(results, meta)
    (args.out / "report.md").write_text(report, encoding="utf-8")
    print(report.split("## Samples")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
