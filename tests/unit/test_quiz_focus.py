"""The quiz evaluation's focus report: share on the concept card, kind/difficulty mix, stems repeated across
topics, and the 50 questions printed for a person to read (evaluation.quiz_focus, quiz_report; no model).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_quiz_focus.py -q
"""

from __future__ import annotations

from pathlib import Path

from evaluation.quiz_focus import fact_labels, repeated_stems, summarise_focus, topic_focus
from evaluation.quiz_quality import QuizEvalConfig, run_quiz_eval
from evaluation.quiz_report import reproduce_command, samples_text
from agent.quiz.service import TutorService


def _row(question: str, source: str, kind: str = "recall", difficulty: str = "easy") -> dict:
    return {"question": question, "source": source, "kind": kind, "difficulty": difficulty}


def test_topic_focus_counts_questions_from_the_planners_concept_card(knowledge_base):
    rows = [_row("q1", "card:kernel-trick"), _row("q2", "card:kernel-trick", "computation", "hard"),
            _row("q3", "card:support-vector-machines", "understanding", "medium")]
    focus = topic_focus(knowledge_base, "kernel trick", rows)
    assert focus["concept"] == [knowledge_base.card("kernel-trick").title] and focus["on_concept"] == 2
    assert focus["kinds"] == {"recall": 1, "computation": 1, "understanding": 1}
    assert focus["difficulties"] == {"easy": 1, "hard": 1, "medium": 1}


def test_fact_labels_come_from_the_card_fact(knowledge_base):
    fact = knowledge_base.card("kernel-trick").facts[0]
    assert fact_labels(knowledge_base, fact.id) == (fact.kind, fact.difficulty)
    assert fact_labels(knowledge_base, "note-0123456789ab.s2") == ("unlabelled", "unlabelled")
    assert fact_labels(knowledge_base, None) == ("unlabelled", "unlabelled")


def test_stems_repeated_across_topics_are_found_after_normalising():
    quizzes = [("pca", [_row("Why scale features first?", "card:a"), _row("What is PCA?", "card:a")]),
               ("k-means", [_row("why scale features first", "card:b"), _row("What is k?", "card:b")]),
               ("svm", [_row("Why scale features first?", "card:c")])]
    assert repeated_stems(quizzes) == [{"stem": "Why scale features first?", "topics": ["pca", "k-means", "svm"]}]
    summary = summarise_focus([(t, rows, {"on_concept": 1, "kinds": {"recall": len(rows)}, "difficulties": {}})
                               for t, rows in quizzes])
    assert summary["re_asked"] == 2 and summary["questions"] == 5 and summary["on_concept"] == 3
    assert summary["kinds"] == {"recall": 5}


def test_the_evaluation_reports_focus_and_prints_questions_to_read(knowledge_base, tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("# held out\nkernel trick\nbatch normalisation\n", encoding="utf-8")
    config = QuizEvalConfig(topics=topics, out=tmp_path / "report", questions=5, no_model=True, difficulty="hard",
                            samples=6)
    results = run_quiz_eval(config, service=TutorService(knowledge_base, lm=None))
    focus = results["summary"]["focus"]
    assert focus["questions"] == 10 and focus["on_concept"] == 10  # both cards hold more than 5 facts
    assert set(focus["kinds"]) <= {"application", "computation", "scenario", "understanding", "recall"}
    report = (tmp_path / "report" / "results.md").read_text(encoding="utf-8")
    assert "## Focus per topic" in report and "## Stems asked under several topics" in report
    assert reproduce_command(results["config"]) in report and "--difficulty hard --no-model" in report
    text = samples_text(results, 6)
    keys = [line for line in text.splitlines() if line.startswith("   *")]
    assert len(keys) == 6 and "kernel trick" in text  # one key marked per question
    assert Path(tmp_path / "report" / "samples.md").read_text(encoding="utf-8").count("### ") == 6
