"""Word lists and patterns the turn rules match (pure data; tuned on evaluation/data/turns_dev.jsonl only)."""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "dozen": 12, "a dozen": 12, "half a dozen": 6,
    "a couple of": 2, "a couple": 2, "couple of": 2, "single": 1,
}
ORDINALS = {"first": "A", "1st": "A", "second": "B", "2nd": "B", "third": "C", "3rd": "C", "fourth": "D", "4th": "D",
            "last": "D"}
DIFFICULTY_WORDS = {
    "easy": "easy", "easier": "easy", "simple": "easy", "basic": "easy", "beginner": "easy", "gentle": "easy",
    "medium": "medium", "moderate": "medium", "intermediate": "medium", "normal": "medium",
    "hard": "hard", "harder": "hard", "difficult": "hard", "tough": "hard", "challenging": "hard",
    "advanced": "hard", "tricky": "hard",
}
QUESTION_NOUN = r"(?:questions?|qs|q's|items?|ones)"

JUNK = re.compile(
    r"(\bdrop\s+table\b|\bselect\b.*\bfrom\b|\bunion\s+select\b|'\s*or\s*'|--\s*$|;\s*--|<\s*script|onerror\s*=|"
    r"\brm\s+-rf\b|\bignore\s+(all\s+)?(previous|prior|your)\s+instructions\b|\bdisregard\s+(your|all|previous)\b|"
    r"\bsystem\s+prompt\b|^\s*[{\[].*[}\]]\s*$|"
    r"\]\(|javascript:|^\s*\|.*\|\s*$|<\s*(details|iframe|img|svg|style)\b)",
    re.IGNORECASE,
)
KEYBOARD = re.compile(r"^(asdf\w*|qwert\w*|\w*hjkl\w*|zxcv\w*|[^aeiouy\s]{5,})$", re.IGNORECASE)

RETRY = re.compile(
    r"\b(retry|rety|re-?try|redo|re-?attempt)\b|"
    r"\b(wrong|missed|mistakes?|failed|incorrect)\b.*\b(again|another|retry|redo)\b|"
    r"\b(again|another (go|shot|chance)|try)\b.*\b(wrong|missed|mistakes?|failed|incorrect)\b",
    re.IGNORECASE,
)
REVIEW = re.compile(
    r"\b(review|revew|revise|revision|due|spaced repetition|about to forget)\b", re.IGNORECASE
)
PROGRESS = re.compile(
    r"\b(progress|progres|how am i doing|mastered|mastery|my stats|stats|my scores?|weak on|how far along|"
    r"getting better|how did i do|have i covered|got right|have i learned|what have i learnt)\b",
    re.IGNORECASE,
)
EXPORT = re.compile(
    r"\b(export|exprot|download|anki|flashcards?|as markdown|markdown file|as json|json file|save (my|this|these|the))\b",
    re.IGNORECASE,
)
HELP = re.compile(
    r"^(help|help me|hlep|halp|commands?|menu)[.!?]*$|"
    r"\b(how does this work|how do i (use|start)|what can you (do|help)|what are the commands|what do the buttons|"
    r"i'?m lost|what kind of things can you|how to use)\b",
    re.IGNORECASE,
)
QUIZ = re.compile(
    r"\b(quiz\w*|qiuz\w*|test me|tets me|test my|drill me|ask me|check my understanding|practi[cs]e|"
    rf"{QUESTION_NOUN} (on|about|from)|\d+ {QUESTION_NOUN}|question quiz|another round|another one|"
    r"one more|same topic|same thing|same again|again but|more questions|start a quiz|"
    rf"(hard|easy|difficult|tough|medium) {QUESTION_NOUN}|{QUESTION_NOUN},)\b",
    re.IGNORECASE,
)
EXPLAIN = re.compile(
    r"\b(explain|expalin|explian|explanation of|describe|tell me|what|whats|wat|how|why|difference|eli5|"
    r"understand|confused|don'?t (really )?get|intuition|is it|meaning|define|definition)\b",
    re.IGNORECASE,
)
SMALLTALK_WORDS = frozenset(
    "hi hello hey heya yo hiya greetings thanks thank you so much thx ty cheers bye goodbye see tomorrow later good "
    "morning afternoon evening night lol haha hahaha wow cool nice great ok okay k awesome amazing you're youre "
    "helpful that was a lot very there i'm im tired today sure fine alright how are how's hows your day going doing".split()
)
FILLER_TAIL = frozenset(
    "please pls plz thanks thx now again instead first simply exactly today lol or something to me for me "
    "quickly briefly again? okay ok".split()
)
EXPLAIN_LEADS = (  # tried in this order; the first that matches gives the topic
    r"(what('?s| is)( the)? )?differences? between", r"how (do|can|should) i \w+",
    r"why (do|does|would) (we|you|\w+) (need|use)",
    r"(can|could|would) (you|u) (please )?(explain|describe|tell me about|help me understand)",
    r"(explain|expalin|explian|describe|define)( to me)?", r"tell me (everything |more )?about",
    r"help me understand", r"i'?d like an explanation of", r"an explanation of", r"eli5",
    r"what('?s| is| are| was|s)( an?| the)? (point|intuition|idea|purpose) (of|behind)",
    r"what('?s| is| are| does| do|s)", r"wh?at is", r"wat is", r"how (does|do|is|are)", r"why (does|do|is|are)",
    r"in what situations should i use", r"when should i use", r"is",
    r"i('?m| am) confused about", r"i don'?t (really )?(get|understand)", r"difference between",
)
QUIZ_LEADS = (
    rf"{QUESTION_NOUN} (on|about|from)", r"(quiz\w*|qiuz\w*|test|tets|drill|ask)( me)?( again)?( \w+)? (on|about|of)",
    r"quiz( me)?:", r"test my (knowledge|understanding) of", r"check my understanding of", r"practi[cs]e",
    r"(quiz|test) me", r"my notes (on|about)",
)
TOPIC_STOPS = re.compile(
    r"\s*(?:[,;!?()]|\.(?:\s|$)| - | – |\b(?:with \d+|with (?:a|some|\w+ )?(?:" + QUESTION_NOUN + r")|"
    r"using (?:only|my)|and (?:then|give|how)|make it|just|maybe|please|pls|plz|instead|first|again|"
    r"work|works|differ|change|changes|save|saves|generate|measure|control|solve|matter|mean|do|help|"
    r"tell|to me|like i'?m|in|for (?:me|beginners)|simply|exactly|the same as|"
    r"which should|(?:\d+|" + "|".join(n for n in NUMBER_WORDS if " " not in n) + r") " + QUESTION_NOUN + r"|"
    r"(?:hard|easy|difficult|tough|medium|challenging)(?: ones| questions)?\s*$|so far)\b)",
    re.IGNORECASE,
)
