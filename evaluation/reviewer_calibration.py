"""How strict is the blind reviewer? Mix human-written exam questions into a packet of the tutor's questions.

The distractor target (issue 13: >= 2.5 of 3 wrong options plausible) is judged by one blind reader. Three rounds
gave the cards' questions ~1.8. This script tells a reader's standard apart from the cards' quality: it shuffles
already-reviewed tutor questions together with professionally written multiple-choice questions (ARC-Easy:
grade-school science exams; ai2_arc schema) into one packet with fresh ids, and keeps the id -> source key out of
the packet. The reviewer reads both kinds under the same instructions (:data:`INSTRUCTIONS`) without knowing
which is which; the summary reports each source separately.

    python -m evaluation.reviewer_calibration make --tutor evaluation/reports/quiz-review3/blind/packet.jsonl \
        --exam ../shared/data/arc_easy_test.jsonl --n 60 --packet P.jsonl --key evaluation/reports/calibration/key.json
    python -m evaluation.reviewer_calibration summarise --packet P.jsonl --key .../key.json \
        --judgments J.jsonl --out evaluation/reports/calibration
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from common.files import write_atomic, write_json
from evaluation.blind_review import Judgment, load_jsonl, summarise

EXAM_TOPIC = "grade-school science"
INSTRUCTIONS = """For each question (a requested topic, a stem, options A-D, the keyed letter) write one JSON line:
{"id", "on_topic": is the question about the requested topic, "keyed_correct": is the keyed option the one
defensible answer, "plausible_distractors": how many of the three wrong options (0-3) would tempt a student who
has not mastered the topic (a real misconception or a near miss, not an opposite, an absurdity or a giveaway),
"self_contained": can it be answered without unseen context, "note": one short sentence on any weakness}."""


def exam_rows(path: Path, n: int, rng: random.Random) -> list[dict]:
    """``n`` four-option questions from an ai2_arc-schema file, in the packet's shape."""
    rows = [row for row in load_jsonl(path) if row["choices"]["label"] == list("ABCD")]
    return [{"requested_topic": EXAM_TOPIC, "question": row["question"],
             "options": dict(zip("ABCD", row["choices"]["text"], strict=True)), "keyed": row["answerKey"],
             "source": "exam", "source_id": row["id"]} for row in rng.sample(rows, n)]


def make(tutor: list[dict], exam: list[dict], rng: random.Random) -> tuple[list[dict], dict[str, dict]]:
    """The shuffled packet (fresh ids, no source) and its key (id -> source and original id)."""
    rows = [{**row, "source": "tutor", "source_id": row["id"]} for row in tutor] + exam
    rng.shuffle(rows)
    packet, key = [], {}
    for n, row in enumerate(rows, start=1):
        new_id = f"c{n:03d}"
        key[new_id] = {"source": row["source"], "source_id": row["source_id"]}
        packet.append({"id": new_id, **{k: row[k] for k in ("requested_topic", "question", "options", "keyed")}})
    return packet, key


def by_source(packet: list[dict], key: dict[str, dict], judgments: list[Judgment]) -> dict:
    """The blind-review summary of each source's questions."""
    out = {}
    for source in sorted({entry["source"] for entry in key.values()}):
        rows = [row for row in packet if key[row["id"]]["source"] == source]
        ids = {row["id"] for row in rows}
        out[source] = summarise(rows, [j for j in judgments if j.id in ids])["overall"]
    return out


def markdown(summary: dict) -> str:
    lines = ["# Reviewer calibration: tutor questions and human-written exam questions, one blind packet", "",
             "| source | n | keyed | plausible distractors (of 3) | on topic |", "|---|---|---|---|---|"]
    for source, s in summary.items():
        lines.append(f"| {source} | {s['questions']} | {s['keyed_correct']:.1%} | {s['plausible_distractors']:.2f} "
                     f"| {s['on_topic']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("--tutor", type=Path, required=True, help="a reviewed tutor packet (JSONL)")
    mk.add_argument("--exam", type=Path, required=True, help="human-written questions, ai2_arc schema (JSONL)")
    mk.add_argument("--n", type=int, default=60, help="tutor and exam questions each")
    mk.add_argument("--seed", type=int, default=7)
    mk.add_argument("--packet", type=Path, required=True)
    mk.add_argument("--key", type=Path, required=True)
    sm = sub.add_parser("summarise")
    for name in ("--packet", "--key", "--judgments", "--out"):
        sm.add_argument(name, type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "make":
        rng = random.Random(args.seed)
        packet, key = make(rng.sample(load_jsonl(args.tutor), args.n), exam_rows(args.exam, args.n, rng), rng)
        write_atomic(args.packet, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in packet))
        write_json(args.key, key)
        print(f"wrote {len(packet)} questions to {args.packet} and their sources to {args.key}")
        return 0
    packet, key = load_jsonl(args.packet), json.loads(args.key.read_text(encoding="utf-8"))
    result = {"by_source": by_source(packet, key, [Judgment(**row) for row in load_jsonl(args.judgments)]),
              "instructions": INSTRUCTIONS}
    write_json(args.out / "results.json", result)
    write_atomic(args.out / "results.md", markdown(result["by_source"]))
    print(markdown(result["by_source"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
