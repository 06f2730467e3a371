"""The tutor's own short texts: help, replies to small talk, "not available yet" (pure).

Small talk gets one short line plus what the tutor can do; review, progress and export are in the
intent vocabulary (:mod:`schemas.turn`) but not built yet, so they get one honest line, never an
explanation of the sentence.
"""

from __future__ import annotations

from agent.graph.state import ActiveQuiz

HELP = (
    "I can **explain** machine-learning concepts and **quiz** you on them. Just write, for example "
    "\"What does dropout do?\" or \"Can you test me on precision and recall? 5 questions, hard ones\".\n\n"
    "- `/explain TEXT` - an explanation grounded in my notes\n"
    "- `/quiz TOPIC` - a multiple-choice quiz; answer with the A-D buttons, the letter, or the option's words\n"
    "- `/new [TOPIC]` - a fresh quiz (on the last topic if you name none)\n"
    "- `/retry` - the questions you missed in your last quiz\n"
    "- `/help` - this message\n\n"
    "The settings button next to the message box sets the usual number of questions and difficulty; "
    "a number or difficulty in your message wins for that quiz."
)
CAN_DO = (
    "I can explain machine-learning concepts (just ask) and quiz you on them "
    "(e.g. \"quiz me on overfitting, 5 questions\"); `/help` lists everything."
)
NOT_YET = {
    "review": "Reviewing the facts you are due to revisit",
    "progress": "A progress report",
    "export": "Exporting your quizzes",
}
_GREETINGS = {"hello", "hi", "hey", "hiya", "morning", "evening", "greetings", "howdy"}
_THANKS = {"thanks", "thank", "thx", "cheers", "ty"}
_BYE = {"bye", "goodbye", "later", "cya"}


def small_talk(text: str) -> str:
    """One short line for greetings, thanks and chit-chat, then what the tutor can do."""
    words = {w.strip(".,!?:;'\"").casefold() for w in text.split()}
    if words & _THANKS:
        opening = "You're welcome!"
    elif words & _BYE:
        opening = "Goodbye, and good luck with your studies!"
    elif words & _GREETINGS:
        opening = "Hello!"
    else:
        opening = "I'm your machine-learning tutor."
    return f"{opening} {CAN_DO}"


def not_available(intent: str) -> str:
    """One line for an intent that is understood but not built yet."""
    return f"{NOT_YET.get(intent, 'That')} is not available yet. {CAN_DO}"


def waiting_line(quiz: ActiveQuiz | None) -> str:
    """A reminder of the question that waits, or ""."""
    return f"\n\nQuestion {quiz.pending + 1} of {quiz.total} is waiting for your answer." if quiz else ""
