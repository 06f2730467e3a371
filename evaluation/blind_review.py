"""Summarise a blind review of quiz questions (pure): per-topic and overall shares against the issue's targets.

A reviewer with no access to the cards or code reads a packet of questions (the requested topic, the stem,
options A-D, the keyed letter) and writes one judgment per question. This script joins the two files and
writes ``results.json`` and ``results.md`` next to the judgments.

    python -m evaluation.blind_review --packet evaluation/reports/quiz-review/blind/packet.jsonl \
        --judgments evaluation/reports/quiz-review/blind/judgments.jsonl --out evaluation/reports/quiz-review/blind

The packet of a quiz review comes from ``tutor eval quiz`` output (the keyed letter, never the card or fact):

    python -m evaluation.blind_review --from-quiz evaluation/reports/quiz-review3/results.json --packet PACKET.jsonl

Targets (issue 13): cards >= 95% on the requested topic, 100% keyed correctly, >= 2.5 of 3 plausible
distractors on average; notes >= 85% self-contained and keyed correctly.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from common.files import write_atomic, write_json

TARGETS = {"on_topic": 0.95, "keyed_correct": 1.0, "plausible_distractors": 2.5, "self_contained_and_keyed": 0.85}


class Judgment(BaseModel):
    id: str
    on_topic: bool | None = None  # notes reviews judge no topic
    keyed_correct: bool
    plausible_distractors: int = Field(ge=0, le=3)
    self_contained: bool
    note: str = ""


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def quiz_packet(results: dict) -> list[dict]:
    """The reviewer's rows from a ``tutor eval quiz`` results file: id, requested topic, stem, options, keyed letter
    (nothing that names the card, the fact or its statement)."""
    rows = []
    for quiz in results["quizzes"]:
        for question in quiz.get("rows") or []:
            rows.append({"id": f"r{len(rows) + 1:03d}", "requested_topic": quiz["topic"],
                         "question": question["question"],
                         "options": dict(zip("ABCD", question["options"], strict=True)), "keyed": question["answer"]})
    return rows


def summarise(packet: list[dict], judgments: list[Judgment]) -> dict:
    """Overall and per-topic shares; every packet row must be judged exactly once."""
    by_id = {j.id: j for j in judgments}
    missing = [row["id"] for row in packet if row["id"] not in by_id]
    if missing or len(by_id) != len(judgments):
        raise ValueError(f"judgments do not match the packet (missing {missing[:5]}, duplicates "
                         f"{len(judgments) - len(by_id)})")
    groups: dict[str, list[Judgment]] = defaultdict(list)
    for row in packet:
        groups[row.get("requested_topic", "(notes)")].append(by_id[row["id"]])
    rows = [by_id[row["id"]] for row in packet]
    return {"overall": _shares(rows), "per_topic": {topic: _shares(js) for topic, js in groups.items()},
            "targets": TARGETS, "not_keyed": [{"id": j.id, "note": j.note} for j in rows if not j.keyed_correct],
            "off_topic": [{"id": j.id, "note": j.note} for j in rows if j.on_topic is False]}


def _shares(js: list[Judgment]) -> dict:
    n = len(js)
    topical = [j for j in js if j.on_topic is not None]
    return {
        "questions": n,
        "on_topic": round(sum(j.on_topic for j in topical) / len(topical), 4) if topical else None,
        "keyed_correct": round(sum(j.keyed_correct for j in js) / n, 4),
        "plausible_distractors": round(sum(j.plausible_distractors for j in js) / n, 3),
        "self_contained": round(sum(j.self_contained for j in js) / n, 4),
        "self_contained_and_keyed": round(sum(j.self_contained and j.keyed_correct for j in js) / n, 4),
    }


def markdown(summary: dict, title: str) -> str:
    o, t = summary["overall"], summary["targets"]
    lines = [f"# {title}", "", f"{o['questions']} questions, judged blind (no access to the cards or code).", "",
             "| measure | value | target |", "|---|---|---|"]
    if o["on_topic"] is not None:
        lines.append(f"| on the requested topic | {o['on_topic']:.1%} | >= {t['on_topic']:.0%} |")
    lines += [f"| keyed correctly (one defensible answer) | {o['keyed_correct']:.1%} | {t['keyed_correct']:.0%} |",
              f"| plausible distractors (of 3) | {o['plausible_distractors']:.2f} | >= {t['plausible_distractors']} |",
              f"| self-contained | {o['self_contained']:.1%} | |",
              f"| self-contained and keyed | {o['self_contained_and_keyed']:.1%} | >= {t['self_contained_and_keyed']:.0%} (notes) |",
              "", "| topic | n | on topic | keyed | plausible |", "|---|---|---|---|---|"]
    for topic, s in summary["per_topic"].items():
        on = "" if s["on_topic"] is None else f"{s['on_topic']:.0%}"
        lines.append(f"| {topic} | {s['questions']} | {on} | {s['keyed_correct']:.0%} | {s['plausible_distractors']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packet", type=Path, required=True, help="the questions the reviewer read (JSONL)")
    parser.add_argument("--from-quiz", type=Path, help="write --packet from this `tutor eval quiz` results.json, and stop")
    parser.add_argument("--judgments", type=Path, help="the reviewer's judgments (JSONL)")
    parser.add_argument("--out", type=Path, help="folder for results.json and results.md")
    parser.add_argument("--title", default="Blind review of quiz questions", help="heading of results.md")
    args = parser.parse_args(argv)
    if args.from_quiz is not None:
        rows = quiz_packet(json.loads(args.from_quiz.read_text(encoding="utf-8")))
        write_atomic(args.packet, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        print(f"wrote {len(rows)} questions to {args.packet}")
        return 0
    if args.judgments is None or args.out is None:
        parser.error("--judgments and --out are needed to summarise a review")
    summary = summarise(load_jsonl(args.packet), [Judgment(**row) for row in load_jsonl(args.judgments)])
    write_json(args.out / "results.json", summary)
    write_atomic(args.out / "results.md", markdown(summary, args.title))
    print(markdown(summary, args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
