"""Ablation of the model calls the quiz path used to make: with vs without each, same seeds, held-out topics.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m bench.quiz_ablation --out bench/results/quiz_ablation.json

Up to commit ab532fa a template quiz asked the model three things; this script keeps those calls
(prompts verbatim, same Outlines constraints, greedy) so the measurement can be rerun after their removal:

* plan pick  - the model picks ``count`` of the numbered candidate facts (a list of numbers); code fills
  the rest in relevance order. Compared with the planner's own order: identical plans, and the share of
  questions from the concept asked for (the best-matching card, or for a broad topic its near-equal cards).
* form pick  - the model picks one of a fact's authored question forms (seeded order) vs the first form:
  how often it differs, and the code-side stem problems (:func:`agent.quiz.checks.stem_problems`) of each.
* key check  - the model, shown only the fact, picks the key among the options, asked in two opposite
  option orders; both must name the key. Run where the real path ran it (the lexical check did not
  verify): on correctly keyed questions (false rejections) and on deliberately mis-keyed ones (a
  distractor posing as the key: detections), beside a chooser that always answers "1".

Topics are the held-out cards' titles (``finetune.tutor_data.is_heldout``: never in the adapter's
training rows) plus a fixed list of topics students ask about; facts for the form and key checks come
from the held-out cards only. Greedy decoding: the seeds vary option and form orders, not sampling.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, create_model

FIXED_TOPICS = ["learning-rate warmup", "batch normalisation", "kernel trick", "optimisation", "neural networks",
                "evaluation metrics", "attention", "clustering"]
SYSTEM = (  # the tutor's system prompt as it was when these calls were made
    "You are a patient teaching assistant for an introductory machine-learning course. "
    "You answer accurately and briefly, in plain language, using only the reference notes you are given."
)
Pick = Callable[[list[dict], int, int], int]  # (messages, candidates, seed) -> 0-based index


def _numbered(items) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def plan_messages(topic: str, candidates: list[str], count: int) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": (
        f"A student wants a quiz on: {topic}\n\nCandidate sub-concepts:\n{_numbered(candidates)}\n\n"
        f"Pick the {count} most relevant, different sub-concepts, by number, most relevant first.")}]


def pick_question_messages(concept: str, fact: str, stems: list[str]) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": (
        f"Concept: {concept}\nFact: {fact}\n\nCandidate quiz questions:\n{_numbered(stems)}\n\n"
        "Which question tests this fact most clearly? Answer with its number.")}]


class _Picks(BaseModel):
    model_config = ConfigDict(extra="forbid")


@lru_cache(maxsize=20)
def plan_picks_type(wanted: int) -> type[BaseModel]:
    return create_model(f"QuizPlanPicks{wanted}", __base__=_Picks,
                        picks=(list[Annotated[int, Field(ge=1, le=40)]], Field(min_length=1, max_length=wanted)))


def model_pick(runtime) -> Pick:
    from evaluation.quiz_quality import number_type

    def pick(messages, count, seed):
        text = runtime.generate_text(number_type(count), runtime.chat(messages), seed=seed, max_new_tokens=3)
        return int(text) - 1

    return pick


def counting(pick: Pick, answers: Counter) -> Pick:
    """``pick`` that also counts the 1-based numbers it answers."""

    def counted(messages, count, seed):
        choice = pick(messages, count, seed)
        answers[choice + 1] += 1
        return choice

    return counted


def always_first(messages, count, seed) -> int:
    return 0


def model_plan_picks(runtime, messages, candidates: int, wanted: int, seed: int) -> list[int]:
    from llm.structured import StructuredOutputError

    try:
        plan = runtime.generate(plan_picks_type(wanted), runtime.chat(messages), seed=seed,
                                max_new_tokens=16 + 4 * wanted)
    except StructuredOutputError:
        return []
    return [p - 1 for p in plan.picks if 1 <= p <= candidates][:wanted]


# ------------------------------------------------------------------------------ the three calls


def plan_rows(kb, runtime, topics: list[str], count: int, seeds: list[int]) -> list[dict]:
    from agent.quiz.planning import candidate_items, require_material

    rows = []
    for topic in topics:
        found = candidate_items(kb, require_material(kb, topic), "medium")
        candidates = found.items
        if len(candidates) < count:
            continue
        shortlist = candidates[: max(2 * count, 12)]
        labels = [f"{item.concept}: {_fact(kb, item).answer}" for item in shortlist]
        concept = {item.source for item in found.concept}
        without = candidates[:count]
        for seed in seeds:
            picks = model_plan_picks(runtime, plan_messages(topic, labels, count), len(shortlist), count, seed)
            with_model = list(dict.fromkeys([shortlist[i] for i in picks] + shortlist))[:count]
            rows.append({
                "topic": topic, "seed": seed, "picks": [p + 1 for p in picks],
                "identical": with_model == without, "same_set": set(with_model) == set(without),
                "on_topic_with": sum(i.source in concept for i in with_model) / count,
                "on_topic_without": sum(i.source in concept for i in without) / count,
                "picks_are_relevance_order": [p + 1 for p in picks] == list(range(1, len(picks) + 1)),
            })
    return rows


def form_rows(kb, pick: Pick, cards, seeds: list[int]) -> list[dict]:
    import random

    from agent.quiz.checks import stem_problems

    rows = []
    for card in cards:
        for index, fact in enumerate(card.facts):
            if len(fact.questions) < 2:
                continue
            for seed in seeds:
                forms = list(fact.questions)
                random.Random(f"forms:{seed}:{card.id}:{index}").shuffle(forms)
                chosen = pick(pick_question_messages(card.title, fact.statement, forms), len(forms), seed)
                rows.append({
                    "card": card.id, "fact": index, "seed": seed, "forms": len(forms), "picked": chosen + 1,
                    "problems_picked": len(stem_problems(forms[chosen], fact.answer, fact.statement, card.title)),
                    "problems_first": len(stem_problems(forms[0], fact.answer, fact.statement, card.title)),
                })
    return rows


def two_order_check(pick: Pick, fact: str, question, seed: int) -> bool:
    """The removed check: the key must be picked with the options in both orders."""
    from prompts.tutor import answer_with_fact_messages
    from schemas import LETTERS

    key = LETTERS.index(question.answer)
    for order in (list(range(4)), list(range(3, -1, -1))):
        messages = answer_with_fact_messages(fact, question.question, [question.options[i] for i in order])
        if order[pick(messages, 4, seed)] != key:
            return False
    return True


def key_rows(pickers: dict[str, Pick], cards, seeds: list[int]) -> list[dict]:
    from agent.quiz.assemble import build_question
    from agent.quiz.writing import verify_key
    from schemas import LETTERS

    rows = []
    for card in cards:
        for index, fact in enumerate(card.facts):
            for seed in seeds:
                letter = LETTERS[(index + seed + len(card.id)) % 4]
                for keyed, correct, wrong in (("correct", fact.answer, list(fact.distractors[:3])),
                                              ("miskeyed", fact.distractors[0], [fact.answer, *fact.distractors[1:3]])):
                    question = build_question(stem=fact.questions[0], correct=correct, distractors=wrong,
                                              letter=letter, seed=seed, explanation=fact.statement,
                                              concept=card.title, source=f"card:{card.id}")
                    row = {"card": card.id, "fact": index, "seed": seed, "keyed": keyed, "letter": letter,
                           "lexical": bool(verify_key(fact.statement, question))}
                    for name, pick in pickers.items():  # in the quiz path it ran only where lexical failed
                        row[name] = two_order_check(pick, fact.statement, question, seed)
                    rows.append(row)
    return rows


def _fact(kb, item):
    return kb.card(item.source.removeprefix("card:")).facts[item.fact]


# --------------------------------------------------------------------------------- summary


def _share(rows, test) -> float | None:
    return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else None


def summarise(plans, forms, keys, pickers) -> dict:
    reached = {k: [r for r in keys if r["keyed"] == k and not r["lexical"]] for k in ("correct", "miskeyed")}
    total = {k: sum(r["keyed"] == k for r in keys) for k in ("correct", "miskeyed")}
    every = {k: [r for r in keys if r["keyed"] == k] for k in ("correct", "miskeyed")}
    check = {name: {"detects_miskeyed": _share(every["miskeyed"], lambda r: not r[name]),
                    "rejects_correct": _share(every["correct"], lambda r: not r[name]),
                    "detects_miskeyed_where_reached": _share(reached["miskeyed"], lambda r: not r[name]),
                    "rejects_correct_where_reached": _share(reached["correct"], lambda r: not r[name]),
                    # the quiz path as it was: lexical check, then this check where lexical failed
                    "path_detects_miskeyed": _share(every["miskeyed"], lambda r: not (r["lexical"] or r[name])),
                    "path_rejects_correct": _share(every["correct"], lambda r: not (r["lexical"] or r[name]))}
             for name in pickers}
    return {
        "plan_pick": {"plans": len(plans), "identical": _share(plans, lambda r: r["identical"]),
                      "same_set": _share(plans, lambda r: r["same_set"]),
                      "picks_are_relevance_order": _share(plans, lambda r: r["picks_are_relevance_order"]),
                      "on_topic_with_model": _mean(plans, "on_topic_with"),
                      "on_topic_without": _mean(plans, "on_topic_without")},
        "form_pick": {"picks": len(forms), "picked_first": _share(forms, lambda r: r["picked"] == 1),
                      "stem_problems_picked": sum(r["problems_picked"] for r in forms),
                      "stem_problems_first": sum(r["problems_first"] for r in forms),
                      "picked_histogram": dict(sorted(Counter(r["picked"] for r in forms).items()))},
        "key_check": {"correct_questions": total["correct"], "miskeyed_questions": total["miskeyed"],
                      "lexical_verifies_correct": _share([r for r in keys if r["keyed"] == "correct"],
                                                         lambda r: r["lexical"]),
                      "lexical_verifies_miskeyed": _share([r for r in keys if r["keyed"] == "miskeyed"],
                                                          lambda r: r["lexical"]),
                      "reached_model_correct": len(reached["correct"]),
                      "reached_model_miskeyed": len(reached["miskeyed"]), "checks": check},
    }


def _mean(rows, key) -> float | None:
    return round(sum(r[key] for r in rows) / len(rows), 3) if rows else None


def print_table(summary: dict) -> None:
    p, f, k = summary["plan_pick"], summary["form_pick"], summary["key_check"]
    print(f"{'call':<11} {'measure':<52} {'with model':>10} {'without':>10}")
    print(f"{'plan pick':<11} {'plans identical to relevance order (n=%d)' % p['plans']:<52} {p['identical']!s:>10} {'1.0':>10}")
    print(f"{'':<11} {'share of questions on the concept asked':<52} {p['on_topic_with_model']!s:>10} "
          f"{p['on_topic_without']!s:>10}")
    print(f"{'form pick':<11} {'picks of form 1 (n=%d)' % f['picks']:<52} {f['picked_first']!s:>10} {'1.0':>10}")
    print(f"{'':<11} {'stem problems of the chosen forms':<52} {f['stem_problems_picked']:>10} "
          f"{f['stem_problems_first']:>10}")
    lexical_detects = round(1 - k["lexical_verifies_miskeyed"], 3)
    lexical_rejects = round(1 - k["lexical_verifies_correct"], 3)
    for name, row in k["checks"].items():
        print(f"{'key check':<11} {name + ' alone: mis-keyed detected (n=%d)' % k['miskeyed_questions']:<52} "
              f"{row['detects_miskeyed']!s:>10} {'-':>10}")
        print(f"{'':<11} {name + ' alone: correct rejected (n=%d)' % k['correct_questions']:<52} "
              f"{row['rejects_correct']!s:>10} {'-':>10}")
        print(f"{'':<11} {'lexical + ' + name + ': mis-keyed detected':<52} {row['path_detects_miskeyed']!s:>10} "
              f"{lexical_detects!s:>10}")
        print(f"{'':<11} {'lexical + ' + name + ': correct rejected':<52} {row['path_rejects_correct']!s:>10} "
              f"{lexical_rejects!s:>10}")
    print(f"model answers to the key-check prompts (1-4): {k['model_answer_histogram']}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/results/quiz_ablation.json"), help="results file")
    parser.add_argument("--count", type=int, default=10, help="questions per planned quiz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds (option, form and letter orders)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N held-out cards (smoke runs)")
    parser.add_argument("--model", default=None, help="model spec (default: the embedded model)")
    parser.add_argument("--adapter", default=None, help="adapter folder (default: the shipped tutor adapter)")
    args = parser.parse_args(argv)

    from finetune.tutor_data import is_heldout
    from knowledge.base import KnowledgeBase
    from llm.loading import load_model
    from llm.structured import StructuredRuntime

    kb = KnowledgeBase.load()
    cards = [c for c in kb.cards.values() if is_heldout(c.id)][: args.limit]
    topics = [c.title for c in cards] + FIXED_TOPICS
    started = time.perf_counter()
    lm = load_model(args.model, args.adapter)
    runtime = StructuredRuntime.for_model(lm)
    answers: Counter = Counter()
    pickers = {"model": counting(model_pick(runtime), answers), "always_1": always_first}
    plans = plan_rows(kb, runtime, topics, args.count, args.seeds[:1])  # greedy: the plan prompt has no seed
    forms = form_rows(kb, model_pick(runtime), cards, args.seeds)
    keys = key_rows(pickers, cards, args.seeds)
    summary = summarise(plans, forms, keys, pickers)
    summary["key_check"]["model_answer_histogram"] = dict(sorted(answers.items()))
    results = {
        "command": "python -m bench.quiz_ablation " + " ".join(argv if argv is not None else os.sys.argv[1:]),
        "model": lm.label, "adapter": lm.adapter, "seeds": args.seeds, "count": args.count,
        "heldout_cards": [c.id for c in cards], "fixed_topics": FIXED_TOPICS,
        "facts": sum(len(c.facts) for c in cards), "seconds": round(time.perf_counter() - started, 1),
        "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "summary": summary, "plans": plans, "forms": forms, "keys": keys,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print_table(summary)
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
