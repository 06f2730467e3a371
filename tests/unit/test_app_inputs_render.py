"""Browser input checks and message rendering of the web app (pure, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_app_inputs_render.py -q
"""

from __future__ import annotations

import pytest

from agent.app import render
from agent.app.inputs import INVALID_BUTTON, event_from_action, event_from_message, preferences
from agent.graph.events import (
    OUTPUT, ActionClick, AnswerClick, ExplanationEnd, Feedback, FileOffer, ProgressReport, QuestionShown, Summary,
    TextTurn,
)
from agent.study.companion import REVIEW_TOPIC


def test_preferences_are_clamped():
    assert preferences(None) == {"questions": 10, "difficulty": "medium"}
    assert preferences({"questions": 15.0, "difficulty": "hard"}) == {"questions": 15, "difficulty": "hard"}
    assert preferences({"questions": 999, "difficulty": "insane"}) == {"questions": 20, "difficulty": "medium"}
    assert preferences({"questions": "x"})["questions"] == 10


def test_messages_are_cleaned_and_bounded():
    event = event_from_message("what\x00 is\x1b over\u200bfitting?", None, {"questions": 5})
    assert isinstance(event, TextTurn) and event.text == "what is overfitting?" and event.questions == 5
    assert event_from_message("overfitting", "quiz", None).text == "/quiz overfitting"
    assert "Please type" in event_from_message(" \n\t ", None, None)
    assert "Please type" in event_from_message(None, None, None)
    huge = event_from_message("a" * 5000, None, None)
    assert isinstance(huge, str) and "5,000 characters" in huge


@pytest.mark.parametrize(
    "name, payload",
    [
        ("answer", {"quiz_id": "q", "index": 0, "letter": "E"}),
        ("answer", {"quiz_id": "q", "index": -1, "letter": "A"}),
        ("answer", {"quiz_id": "q" * 500, "index": 0, "letter": "A"}),
        ("answer", {"quiz_id": "q", "letter": "A"}),
        ("answer", {"quiz_id": "q", "index": 0, "letter": "A", "extra": {"x": 1}}),
        ("answer", ["not", "a", "dict"]),
        ("quiz_on", {"topic": {"nested": True}}),
        ("delete_everything", {}),
    ],
)
def test_tampered_payloads_are_refused(name, payload):
    event = event_from_action(name, payload, None)
    if name == "answer" and isinstance(payload, dict) and "extra" in payload:
        assert isinstance(event, AnswerClick)  # unknown keys are ignored, the known ones are validated
    else:
        assert event == INVALID_BUTTON


def test_valid_buttons_become_events():
    answer = event_from_action("answer", {"quiz_id": "q1", "index": 3, "letter": "B"}, {"difficulty": "easy"})
    assert (answer.kind, answer.quiz_id, answer.index, answer.letter, answer.difficulty) == (
        "answer", "q1", 3, "B", "easy")
    topic = event_from_action("quiz_on", {"topic": "Over\x07fitting " * 40}, None)
    assert isinstance(topic, ActionClick) and topic.action == "quiz_on" and len(topic.topic) <= 200
    assert "\x07" not in topic.topic


def test_text_is_neutralised():
    assert render.model_text("<script>alert(1)</script> & co") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    escaped = render.literal("<b>*bold*</b> [x](http://e) `c`")
    assert "<" not in escaped.replace("\\<", "") and "\\*bold\\*" in escaped and "\\[x\\]" in escaped


QUESTION = QuestionShown.model_validate({
    "kind": "question", "quiz_id": "q1", "index": 2, "total": 10, "topic": "over<fitting>", "retry": False,
    "score": 1, "question": {"question": "Which *one* <b>is</b> right?", "options": ["a<", "b", "c", "d"],
                             "answer": "B", "explanation": "", "concept": "C", "source": None},
})


def test_question_has_progress_options_and_an_answer_pad():
    shown = render.question(QUESTION)
    assert "Question 3 of 10" in shown.content and "<b>" not in shown.content and "a\\<" in shown.content
    assert shown.buttons == []  # the answers are the pad's (agent/app/elements/AnswerPad.jsx)
    assert shown.pad.props() == {"quiz_id": "q1", "index": 2, "total": 10, "letters": ["A", "B", "C", "D"],
                                 "tooltips": ["a<", "b", "c", "d"], "answered": None}
    # what the pad's button B sends is a valid answer turn for this question
    click = event_from_action("answer", {"quiz_id": "q1", "index": 2, "letter": "B"}, None)
    assert (click.quiz_id, click.index, click.letter) == ("q1", 2, "B")
    assert "Welcome back" in render.question(QUESTION, resumed=True).content


def _graded(correct: bool) -> dict:
    return {"index": 2, "question": "Which one?", "chosen": "B" if correct else "A", "correct": "B",
            "is_correct": correct, "correct_option": "the right one", "chosen_option": "b" if correct else "x",
            "explanation": "Because of the fact.", "concept": "C", "source": "card:c", "feedback": ""}


def test_feedback_says_right_or_wrong_with_answer_explanation_and_source():
    shown = [render.feedback(Feedback(quiz_id="q1", graded=_graded(ok), total=10, score=score,
                                      source_title="Overfitting")) for ok, score in ((True, 3), (False, 2))]
    right, wrong = (s.content for s in shown)
    assert "Correct" in right and "score 3/3" in right and "source: Overfitting" in right
    assert "Not quite" in wrong and "You chose A" in wrong and "**B. the right one**" in wrong
    assert "Because of the fact" in wrong


def test_summary_reviews_missed_questions_and_offers_new_and_retry():
    result = {"quiz_id": "q1", "topic": "trees", "score": 1, "total": 2, "missed_concepts": ["C"],
              "study_next": ["C"], "graded": [_graded(True), {**_graded(False), "index": 1}]}
    shown = render.summary(Summary(result=result))
    assert "1 / 2 (50%)" in shown.content and "Review of missed questions" in shown.content
    assert "Concepts to revisit:** C" in shown.content
    assert [b.name for b in shown.buttons] == ["new_quiz", "retry"]
    assert shown.buttons[1].payload == {"quiz_id": "q1", "origin": "q1:retry"}
    retry = event_from_action("retry", shown.buttons[1].payload, None)
    assert (retry.action, retry.quiz_id, retry.origin) == ("retry", "q1", "q1:retry")
    perfect = render.summary(Summary(result={**result, "score": 2, "graded": [_graded(True)], "missed_concepts": [],
                                             "study_next": []}))
    assert [b.name for b in perfect.buttons] == ["new_quiz"] and "Every answer was right" in perfect.content


def test_explanation_footer_offers_a_quiz_and_flags_ungrounded_answers():
    footer = render.explanation_footer(
        ExplanationEnd(sources=["Overfitting"], key_facts=["A fact."], topic="Overfitting", origin="e1"))
    assert "Sources: Overfitting" in footer.content
    assert footer.buttons[0].payload == {"topic": "Overfitting", "origin": "e1"}
    bare = render.explanation_footer(ExplanationEnd())
    assert "not grounded" in bare.content and bare.buttons == []


def test_every_output_kind_validates_into_its_class_and_renders():
    """The outgoing union is discriminated by ``kind``: a dict validates into the one right class,
    and :func:`render.shown` has a renderer for every class of the union."""
    samples = [
        {"kind": "notice", "level": "warning", "text": "<b>careful</b>"},
        {"kind": "explanation_start", "question": "What is *overfitting*?"},
        {"kind": "explanation_piece", "text": "<script>x</script>"},
        {"kind": "explanation_end", "sources": ["S"], "key_facts": [], "topic": "T", "origin": "o"},
        {"kind": "quiz_started", "quiz_id": "q", "topic": "trees", "total": 3, "difficulty": "hard"},
        QUESTION.model_dump(),
        {"kind": "feedback", "quiz_id": "q1", "graded": _graded(True), "total": 10, "score": 3},
        {"kind": "summary",
         "result": {"quiz_id": "q1", "topic": "t", "score": 1, "total": 1, "graded": [_graded(True)]}},
        {"kind": "help", "text": "**help**"},
        {"kind": "progress", "text": "Progress of ada", "png": b"\x89PNG"},
        {"kind": "file", "label": "deck", "filename": "ml-tutor-quiz.apkg", "mime": "application/apkg", "data": b"PK"},
    ]
    events = [OUTPUT.validate_python(sample) for sample in samples]
    assert [type(e).__name__ for e in events] == ["Notice", "ExplanationStart", "ExplanationPiece", "ExplanationEnd",
                                                  "QuizStarted", "QuestionShown", "Feedback", "Summary", "Help",
                                                  "ProgressReport", "FileOffer"]
    contents = [render.shown(e).content for e in events]
    assert contents[0].startswith("⚠ ") and "<b>" not in contents[0] and "<script>" not in contents[2]
    assert "Question 3 of 10" in contents[5] and contents[8] == "**help**"
    with pytest.raises(ValueError):
        OUTPUT.validate_python({"kind": "question", "text": "no such shape"})


def test_review_summary_progress_and_downloads_render_with_their_files():
    result = {"quiz_id": "q1", "topic": REVIEW_TOPIC, "score": 0, "total": 1, "missed_concepts": ["C"],
              "study_next": ["C"], "graded": [_graded(False)]}
    shown = render.summary(Summary(result=result, review=True, review_note="Weakest concepts: C (due now)"))
    assert "**Review:** Weakest concepts: C \\(due now\\)" in shown.content
    assert [b.name for b in shown.buttons] == ["review", "retry"]
    again = event_from_action("review", shown.buttons[0].payload, None)
    assert isinstance(again, ActionClick) and again.action == "review"
    plain = render.summary(Summary(result={**result, "topic": "trees"}))
    assert "**Review:**" not in plain.content and plain.buttons[0].name == "new_quiz"
    progress = render.shown(ProgressReport(text="Progress of ada\n  Overfitting: mastery 40%", png=b"\x89PNG"))
    assert "```text\nProgress of ada\n  Overfitting: mastery 40%\n```" in progress.content
    assert [(a.display, a.name, a.data) for a in progress.attachments] == [("image", "progress.png", b"\x89PNG")]
    deck = render.shown(FileOffer(label="Anki deck", filename="ml-tutor-quiz.apkg", mime="application/apkg",
                                  data=b"PK"))
    assert "Anki deck" in deck.content and "File > Import" in deck.content
    assert [(a.display, a.name, a.mime) for a in deck.attachments] == [
        ("file", "ml-tutor-quiz.apkg", "application/apkg")]
    with pytest.raises(ValueError):  # a file name never carries a path
        FileOffer(label="x", filename="../etc/passwd", mime="text/plain", data=b"")


def test_a_review_question_names_its_concept():
    review = QUESTION.model_copy(update={"topic": REVIEW_TOPIC})
    assert f"{REVIEW_TOPIC} · {QUESTION.question.concept}" in render.question(review).content
    assert f"· {QUESTION.question.concept}" not in render.question(QUESTION).content.split("\n")[0]
