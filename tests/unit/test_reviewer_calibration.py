"""The reviewer-calibration packet: both sources mixed under fresh ids, the source kept out of the packet.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_reviewer_calibration.py -q
"""

from __future__ import annotations

import json
import random

from evaluation.blind_review import Judgment
from evaluation.reviewer_calibration import EXAM_TOPIC, by_source, exam_rows, make


def _tutor(n: int) -> list[dict]:
    return [{"id": f"r{i:03d}", "requested_topic": "dropout", "question": f"q{i}?",
             "options": dict(zip("ABCD", "wxyz")), "keyed": "A"} for i in range(n)]


def test_exam_rows_keep_only_four_option_questions(tmp_path):
    rows = [{"id": "e1", "question": "Q1?", "choices": {"text": list("abcd"), "label": list("ABCD")}, "answerKey": "B"},
            {"id": "e2", "question": "Q2?", "choices": {"text": list("abc"), "label": list("ABC")}, "answerKey": "A"}]
    path = tmp_path / "exam.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (row,) = exam_rows(path, 1, random.Random(0))
    assert row["requested_topic"] == EXAM_TOPIC and row["options"]["B"] == "b" and row["keyed"] == "B"


def test_packet_mixes_sources_under_fresh_ids_and_summaries_split_them():
    exam = [{"requested_topic": EXAM_TOPIC, "question": f"e{i}?", "options": dict(zip("ABCD", "abcd")),
             "keyed": "C", "source": "exam", "source_id": f"e{i}"} for i in range(3)]
    packet, key = make(_tutor(3), exam, random.Random(1))
    assert [row["id"] for row in packet] == ["c001", "c002", "c003", "c004", "c005", "c006"]
    assert all(set(row) == {"id", "requested_topic", "question", "options", "keyed"} for row in packet)
    assert sorted(entry["source_id"] for entry in key.values()) == ["e0", "e1", "e2", "r000", "r001", "r002"]
    judgments = [Judgment(id=row["id"], on_topic=True, keyed_correct=True, self_contained=True,
                          plausible_distractors=3 if key[row["id"]]["source"] == "exam" else 1) for row in packet]
    summary = by_source(packet, key, judgments)
    assert summary["exam"]["plausible_distractors"] == 3 and summary["tutor"]["plausible_distractors"] == 1
    assert summary["exam"]["questions"] == summary["tutor"]["questions"] == 3
