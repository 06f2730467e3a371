"""Turn one self-contained sentence of the notes into a question, by rules (pure, no model).

Definitional sentences make the best items: the answer is the defined term and the rest of the
sentence says what it is. Where a rule can, the cloze becomes a question:

    "Dropout is a regularisation method that zeroes random units."  -> "Which regularisation method zeroes random units?"
    "A unit that outputs max(0, x) is called a ReLU."              -> "What is a unit that outputs max(0, x) called?"
    "Perplexity refers to the exponentiated cross-entropy."        -> "Which term refers to the exponentiated cross-entropy?"
    "The learning rate is the step size of each update."           -> "What is the step size of each update?"
    "Momentum is a running average of past gradients."             -> "____ is a running average of past gradients."

A sentence about a named concept is asked about its subject or its object (:func:`named_questions`):

    "Warmup can be applied to any scheduler."                      -> "What can be applied to any scheduler?"
    "PFI, which permutes one feature, measures the loss increase." -> "What measures the loss increase?"
    "A common technique for regularization is noise injection."    -> "What is a common technique for regularization?"
    "To reduce overfitting, one uses dropout."                     -> "What is used to reduce overfitting?"

Other sentences are blanked at a name (:func:`cloze`). Every draft names its ``form`` and, when the
sentence files the term under a category ("a regularisation *method*"), that ``head``, so that
distractors can be of the same kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.note_checks import GENERIC, STOP_WORDS, key_problems, sentence_problems

BLANK = "____"
FORMS = ("which", "called", "refers", "what-is", "subject", "reverse", "purpose", "cloze-definition",
         "cloze-name")  # best first

_TERM = r"(?:(?:The|An?)\s+)?(?P<term>[A-Za-z][\w'/-]*(?:\s+[\w'/-]+){0,4}?(?:\s+\([A-Za-z][\w -]{0,20}\))?)"
_CALLED = re.compile(r"^(?P<subject>.{12,}?)\s+(?:is|are)\s+(?:often\s+|commonly\s+|usually\s+)?(?:called|known as|"
                     r"referred to as|termed|named)\s+(?:an?\s+|the\s+)?(?P<term>[^,;:]{2,60}?)\.$")
_WHICH = re.compile(rf"^{_TERM}\s+(?P<verb>is|are)\s+(?:an?\s+)?(?P<head>[a-z][\w-]*(?:\s+[a-z][\w-]*){{0,3}}?)\s+"
                    r"(?P<link>that|which|who|used to|used for|designed to)\s+(?P<rest>.{8,})\.$")
_REFERS = re.compile(rf"^{_TERM}\s+(?P<verb>refers to|refer to|denotes|denote|means|stands for|is defined as|"
                     r"are defined as)\s+(?P<rest>.{8,})\.$")
_THE = re.compile(rf"^{_TERM}\s+(?P<verb>is|are)\s+the\s+(?P<rest>.{{8,}})\.$")
# A definition proper: "X is a/an/the/one of ...", "X refers to/denotes ..." (not "X are sampled ...").
_DEFINES = re.compile(rf"^{_TERM}\s+(?:(?:is|are)\s+(?:an?|the|one of the)|refers to|denotes)\s+(?P<rest>.{{8,}})\.$")
# Words that make a "term" a description rather than a name ("your goal", "the next step", "a common choice").
QUALIFIERS = frozenset(
    "your my our their his her next first second third last other big good key common main top new same different "
    "simple important often two three several few many most some following previous final whole entire".split()
)


@dataclass(frozen=True)
class Draft:
    """A question drawn from one sentence: ``stem`` asks for ``key``, which the sentence states."""

    stem: str
    key: str
    form: str  # one of FORMS
    head: str = ""  # the category the sentence files the key under ("regularisation method"), "" if none


def _term(match: re.Match) -> str | None:
    """The defined term, without a trailing "(ACRONYM)", if it reads as a name rather than a clause."""
    term = re.sub(r"\s*\([^)]*\)$", "", match.group("term")).strip()
    words = term.split()
    if not words or words[0].lower() in STOP_WORDS or words[-1].lower() in STOP_WORDS:
        return None
    if any(w.lower() in STOP_WORDS - {"of", "and"} for w in words):
        return None  # "the model we trained" or "it is": a clause, not a name
    if words[0].lower() in QUALIFIERS or words[-1].lower() in GENERIC:
        return None
    if len(words) == 1 and len(term) < 6 and not (term.isupper() and len(term) > 1):
        return None  # "green", "loss": too short to be a specific name on its own
    return term


def _lower_first(text: str) -> str:
    """``text`` with a capitalised article or function word lowered ("A unit" -> "a unit"; "ReLU", "Adam" stay)."""
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in STOP_WORDS and first[1:] == first[1:].lower() else text


def definitional(sentence: str) -> list[Draft]:
    """Question drafts for a definitional sentence, most question-like first ([] for other sentences)."""
    drafts: list[Draft] = []
    if m := _CALLED.match(sentence):
        key = re.sub(r"\s*\([^)]*\)$", "", m.group("term")).strip()
        verb = "are" if re.search(r"\sare\s+(?:\w+\s+)?(?:called|known|referred|termed|named)", sentence) else "is"
        drafts.append(Draft(f"What {verb} {_lower_first(m.group('subject'))} called?", key, "called"))
    if (m := _WHICH.match(sentence)) and (term := _term(m)):
        link, rest, head = m.group("link"), m.group("rest"), m.group("head")
        verb = m.group("verb")
        body = rest if link in ("that", "which", "who") else f"{verb} {link} {rest}"
        drafts.append(Draft(f"Which {head} {body}?", term, "which", head))
    if (m := _REFERS.match(sentence)) and not m.group("rest").startswith("that ") and (term := _term(m)):
        verb = {"refer to": "refers to", "denote": "denotes", "are defined as": "is defined as"}.get(m.group("verb"),
                                                                                                 m.group("verb"))
        drafts.append(Draft(f"Which term {verb} {m.group('rest')}?", term, "refers"))
    if (m := _THE.match(sentence)) and not m.group("rest").startswith("to ") and (term := _term(m)):
        drafts.append(Draft(f"What {m.group('verb')} the {m.group('rest')}?", term, "what-is"))
    if (m := _DEFINES.match(sentence)) and (term := _term(m)):
        start = m.start("term")
        drafts.append(Draft(sentence[:start] + BLANK + sentence[start + len(term):], term, "cloze-definition"))
    return drafts


# What may follow the subject of a "subject" question: a modal or auxiliary, or a verb in the third person.
_VERB = re.compile(r"^(?:(?:can(?:not)?|may|might|must|should|will|would|could|does|is|has|tends to|seems to|helps?|"
                   r"allows?)\b|(?!(?:is|was|has|this|thus|its|less|loss|bias|gas|plus|focus|class|process|"
                   r"access|mass|series|basis|analysis|axis|status|always|sometimes|perhaps|various|previous|numerous)\b)[a-z]{2,}(?<![su])s\b)")
_APPOSITIVE = re.compile(r"^,\s+(?:which|a|an|the|also|i\.e\.|e\.g\.)\b[^,]{3,80},\s+")
_PURPOSE = re.compile(r"^To (?P<goal>[a-z][^,]{8,}),\s+(?:(?:one|practitioners|people)\s+(?:can\s+|often\s+|typically\s+|"
                      r"usually\s+)?(?:use|uses|apply|applies)\s+|(?:it is common to|it helps to)\s+use\s+)(?:an?\s+|the\s+)?$")


def named_questions(sentence: str, span: tuple[int, int]) -> list[Draft]:
    """Questions asking for the concept name at ``span`` by its role in ``sentence`` (subject, complement, tool)."""
    start, end = span
    key, before, after = sentence[start:end], sentence[:start], sentence[end:]
    drafts = []
    if re.fullmatch(r"(?:(?:The|An?)\s+)?", before):
        rest = _APPOSITIVE.sub("", after).strip() if after.startswith(",") else after.strip()
        plural_noun = re.match(r"^[a-z]+s\s.*\b(?:are|were|have|do|differ)\b", rest)  # "implementations ... are"
        compound = re.search(r":|;|,\s+(?:but|so|while)\b|,\s+(?:and|or)\s+(?:the|a|an|it|this|there)\b|\bsurprise\b", rest)  # two statements in one
        if _VERB.match(rest) and rest.endswith(".") and not compound and not (plural_noun and not re.match(r"^(?:is|has|does)\b", rest)):
            drafts.append(Draft(f"What {rest[:-1]}?", key, "subject"))
    if after == "." and (m := re.match(r"^(?P<subject>(?:The|An?|One)\s+.{12,}?)\s+(?:is|are)\s+(?:an?\s+|the\s+)?$", before)):
        drafts.append(Draft(f"What is {_lower_first(m.group('subject'))}?", key, "reverse"))
    if after.strip() in (".", "is used.") and (m := _PURPOSE.match(before)):
        drafts.append(Draft(f"What is used to {m.group('goal')}?", key, "purpose"))
    return drafts


# Nouns a name often modifies ("dropout probability", "warmup period"): blanking the name leaves "the ____ period".
HEADS = frozenset("layer layers probability probabilities rate rates period periods sample samples size sizes matrix "
                  "vector weights step steps schedule basis mode coefficient coefficients score scores loss error "
                  "network networks unit units distribution estimate estimates implementation implementations "
                  "stochastic".split()) | {"block", "blocks", "channel", "channels"}  # round 3 densenet-03: "____ block"
_AUXILIARY = frozenset("is are was were can may will has have do does could would should must".split())


def slot_problem(sentence: str, span: tuple[int, int]) -> bool:
    """Whether the name at ``span`` is only part of a noun phrase, so that a blank there gives away its kind
    (blind review round 1: "unit ____", "inherent ____", "a ____ period", "the ____ stochastic gradient")."""
    before = re.findall(r"[A-Za-z][\w'-]*|[^\w\s]", sentence[:span[0]])[-2:]
    after = re.findall(r"[A-Za-z][\w'-]*|[^\w\s]", sentence[span[1]:])[:3]
    content = [w[0].isalpha() and w.lower() not in STOP_WORDS for w in before]
    if content and content[-1] and (not before[-1].lower().endswith(("ing", "ed")) or len(before) == 2 and (
            content[0] and before[0].islower() or before[0].lower() in ("a", "an", "the"))):
        return True  # a word in front that names its kind: "unit ____", "exponential smoothing ____", "a smoothing ____"
    if not after or not after[0][0].isalpha():
        return False
    nxt = after[0].lower()
    if nxt in GENERIC or nxt in HEADS:
        return True
    if nxt not in STOP_WORDS and not nxt.endswith("ly") and len(after) > 1 and after[1].lower() in _AUXILIARY:
        return True  # "____ samples are ...": the name modifies the subject
    return nxt not in STOP_WORDS and all(not w[0].isalpha() for w in after[1:2]) or \
        len(after) == 3 and all(w[0].isalpha() and w.lower() not in STOP_WORDS for w in after[:2]) and after[2] in ".,;:"


def cloze(sentence: str, span: tuple[int, int]) -> Draft | None:
    """The sentence with ``span`` (a name) blanked; None when the name only modifies a noun ("the ____ model")
    or is modified itself ("unit ____", :func:`slot_problem`)."""
    start, end = span
    if slot_problem(sentence, span):
        return None
    return Draft(sentence[:start] + BLANK + sentence[end:], sentence[start:end], "cloze-name")


def problems(sentence: str, draft: Draft) -> list[str]:
    """Every check the draft fails: the sentence's (:func:`sentence_problems`) and its key's."""
    stem = draft.stem.replace(BLANK, " ")
    return sentence_problems(sentence) + key_problems(sentence, draft.key, stem)
