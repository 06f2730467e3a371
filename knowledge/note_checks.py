"""Is a sentence of the student's notes a fair, self-contained quiz item? (pure, no I/O, no model)

A question drawn from notes is read alone, weeks later, without the page around it. So a sentence
is refused when it leans on its context or is not prose:

* ``deictic``     "this design", "these models", "such a layer", "the above", "below", "the following",
                  "as shown", "the former" - it points at something the student cannot see;
* ``dangling``    it opens with a pronoun or a connective ("It ...", "However, ...", "So far, ...");
* ``narrative``   the author's voice ("we", "our", "let us"): textbooks use it for steps of a story;
* ``code``        backticks, calls ``f(x)``, ``snake_case`` or ``dotted.names``, braces, ``=``, LaTeX ``$``;
* ``reference``   a figure, section, equation, table, chapter, appendix or listing, or a cross-reference
                  markup (``:numref:``, ``@fig-``, ``[@cite]``, a Markdown link);
* ``length``      fewer than :data:`MIN_WORDS` words or more than :data:`MAX_CHARS` characters;
* ``context``     it leans on the book's running example (:mod:`knowledge.note_context`: numbers, past-tense
                  results, "the model" as subject, "the state variables");
* ``form``        not a statement (a question, a lead-in ending in ":", a heading, a table row, a
                  fragment starting in lower case, mostly symbols);
* ``hedged``      the key is not the one answer the sentence states: "X is one of the few methods ...",
                  a guess ("could be improved", "might", "may be larger"), a comparison with something unseen
                  ("is way more rugged", "is smoother" with no "than"), an aside ("surprise, surprise"), "the
                  current ...", one of many ("a common method for ..."), a belief ("is thought to"), a metaphor
                  of rank ("the mainstay of");
* ``discourse``   a marker anywhere that ties it to the text around it: "thus", "as expected", "as explained",
                  "instead", "the new ...", "the resulting ...", "the actual ...", "also" (blind review round 2);
* ``lead-in``, ``presupposes``, ``example``, ``trivia`` (blind review round 3, :mod:`knowledge.note_presupposition`):
                  "After all, ...", "For illustration, ...", "on the other hand", "still", "the robot", "the two
                  hidden units", "the denominator", chip vendors and memory sizes.

A key (the answer) is refused unless it is a content phrase stated once, verbatim, in the sentence:
1-5 words, not a number, not a stop word or a generic head ("method", "idea", "goal"), no code; and (round 3)
not a description ("goal of Grad-CAM"), not said again in the stem in another form, asked by no weak predicate
("What has ...?", "What can handle ...?") and no garbled "Which to ...?".

    sentence_problems("In practice, this design alleviates the problem.")   # ['deictic', 'dangling']
    key_problems("Dropout zeroes random units during training.", "Dropout")   # []
"""

from __future__ import annotations

import re

from knowledge.note_context import context_problems
from knowledge.note_presupposition import (SENTENCE_CHECKS, key_form_problems, presupposition_problems,
                                           stem_problems)

MIN_WORDS, MAX_WORDS = 7, 40
MIN_CHARS, MAX_CHARS = 40, 230  # a stem is at most 240 characters (schemas.knowledge.Stem)
MAX_KEY_WORDS, MAX_KEY_CHARS = 5, 60
MIN_CONTEXT_WORDS = 4  # content words left in the stem once the key is taken out
MIN_SPECIFIC_WORDS = 3  # of them, words that are neither generic nor vague

STOP_WORDS = frozenset(
    "a an the of to in on at by for with from and or but as is are was were be been being it its this that these "
    "those their there here which who whom whose what when where why how not no than then so such can may might "
    "will would should could must do does did has have had into onto over under about between each every any all "
    "some most more less many much few one two also only very if though although even because since while unless "
    "until whether".split()
)
# Heads too generic to be an answer on their own ("the ____ is to minimise the loss": goal? aim? idea?).
GENERIC = frozenset(
    "method methods approach approaches model models data value values function functions idea ideas goal goals aim "
    "problem problems result results thing things way ways case cases example examples point points reason key "
    "question issue issues step steps part parts kind type types set number amount lot term terms quantity "
    "procedure technique techniques algorithm algorithms process variable variables parameter parameters output "
    "outputs input inputs first second third main same other following previous next latter former purpose "
    "advantage disadvantage benefit drawback difference intuition challenge solution answer option choice".split()
)
# Words that name a whole field or an activity, never one option among peers ("machine learning", "target").
BROAD = frozenset(
    "machine learning|deep learning|ml|ai|artificial intelligence|statistics|optimization|optimisation|"
    "classification|regression|visualization|visualisation|prediction|predictions|training|inference|target|"
    "targets|iteration|iterations|learning|computation|performance|accuracy|data science|modeling|modelling|"
    "interpretability|explainability|supervised learning|unsupervised learning|filter|filters|overfit|overfitting"
    .split("|"))
# Words that say little about which concept is meant: blind review round 1 judged "What requires a lot of computing
# time?" and "What serves multiple purposes in deep learning?" to fit any answer.
VAGUE = frozenset(
    "lot lots multiple various several purposes purpose time times important useful good bad better worse different "
    "differently serve serves require requires need needs make makes work works use used uses help helps play plays "
    "role roles thing things always often sometimes usually many much large small big computing practice "
    # round 2: "What has drawbacks, both computational and statistical?", "What is quite a powerful and flexible
    # architecture?", "Problems occur when the ____ is too small or too large."
    "too occur occurs drawbacks advantages benefits limitations powerful flexible beneficial effective popular "
    "successful quite remarkably well actual essentially computational statistical long".split()
)

_DEICTIC = re.compile(
    r"\b(this|these|those|such|it)\b|\b(?:in|of|on|for|with|from|by|at|to|like|about|beyond|after|besides|despite) "
    r"that\b(?! (?:is|are|was|were)\b)"
    r"|\b(?:the )?(?:above|below)\b|\bthe following\b|\bas follows\b|\bas (?:shown|seen|discussed|mentioned|described)"
    r"\b|\bthe (?:former|latter|authors?|paper|book|reader)\b|\b(?:he|she|his|her|him|they|them|their)\b|\baforementioned\b|\bpreviously\b|\bearlier\b|\bhere\b|\bnow\b",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"^(?:it|its|they|them|their|he|she|his|her|that|there|both|however|thus|therefore|hence|so|moreover|"
    r"furthermore|additionally|also|similarly|instead|otherwise|then|finally|again|next|still|yet|but|and|or|"
    r"nevertheless|nonetheless|consequently|accordingly|indeed|likewise|conversely|meanwhile|second(?:ly)?|"
    r"third(?:ly)?|first(?:ly)?|last(?:ly)?|recall|note|notice|remember|in (?:addition|contrast|practice|"
    r"particular|short|other words|summary|turn|fact)|for (?:example|instance)|as a result|on the other hand|"
    r"to (?:this|that) end|one|another|other|suppose|imagine|consider|later|beyond|unlike|when invoked|"
    r"the (?:alternative|same|other|rest|remaining)|as for|no)\b",
    re.IGNORECASE,
)
_NARRATIVE = re.compile(r"\b(?:we|our|ours|us|let's|let us|I|me|my)\b", re.IGNORECASE)
CODE = re.compile(
    r"`|\w\(\s*\)|\b[a-z_]\w*\([^)]*\)|\b[a-z]+_[a-z0-9_]+\b|\b[a-z]\w+\.[a-z_]\w+\b|[{}\[\]=<>$\\|]|::|->|\+\+"
    r"|\b(?:def|torch|numpy|np|nn|tf|jax|mx)\b(?!-)",
)
_REFERENCE = re.compile(
    r"\b(?:fig(?:ure)?s?|sec(?:tion)?s?|eq(?:uation)?s?|tables?|tab|chapters?|ch|appendix|appendices|listings?|"
    r"algorithms? \d|exercises?|lemma|theorem|box)\b\.?\s*(?:\d|[A-Z]\b|\(|:|\bof\b)"
    r"|:(?:numref|eqref|ref|cite|label):|@(?:fig|sec|tbl|eq)-|\[@|@[a-z]+\d{4}|\]\(|\bin the (?:figure|plot|diagram|image|table|"
    r"code|example|exercise|chapter|section|appendix|previous|next|last)\b|\bthis (?:chapter|section|book)\b"
    r"|\bsee\b|\bcf\.",
    re.IGNORECASE,
)

# Blind review round 1: "LIME is one of the few methods that ..." (others fit too), "Sampling could be improved in
# the current implementation of LIME." (an opinion), "The random forest PDP is way more rugged ..." (than what?).
_HEDGED = re.compile(
    r"\bone of (?:the )?(?:few|many|several|most|main|best|two|three|\w+est)\b|\b(?:could|would|might)\b"
    r"|\bsurprise\b|\bthe current\b|\bperhaps\b|\bprobably\b|\bmaybe\b",
    re.IGNORECASE)
_COMPARED = re.compile(
    r"\b(?:is|are|be|becomes?|gets?|looks?|seems?)\b(?:,[^,]{1,30},)?\s+(?:(?:way|much|far|even|slightly|a bit|a lot|"
    r"considerably|significantly|somewhat)\s+)?(?:(?:more|less)\s+[a-z]+|[a-z]{3,}er)\b(?![^.]*\bthan\b)"
    r"(?!\s+(?:when|if|for|as)\b)", re.IGNORECASE)
_NOT_COMPARATIVE = frozenset("never other either neither rather whether however together further under over after "
                             "ever later another number layer parameter user matter order filter transformer encoder "
                             "decoder optimizer optimiser regularizer regulariser classifier computer cluster "
                             "hyperparameter perceptron".split())

# Blind review round 2 (evaluation/reports/notes/blind-round2): "What may be larger than ...?" (a feature map may
# too), "What is a common method for dealing with overfitting?" (feature selection is too), "The dot product
# attention is the mainstay of ..." (self-attention is as defensible), "... is thought to make ... smoother".
_ONE_OF_MANY = re.compile(
    r"\bmay\b|\b(?:is|are)\s+(?:thought|believed|said|considered|assumed|known)\s+to\b|\bseems?\s+to\b"
    r"|\ban?\s+(?:common|popular|typical|standard|widely[- ]used|simple|good|natural|possible|useful|important)\s"
    r"|\b(?:mainstay|backbone|workhorse|cornerstone|key ingredient|heart of)\b", re.IGNORECASE)
# Markers inside the sentence that lean on what came before (round 2: "Hidden layers are, as explained, ...",
# "Any pre-existing hidden state is thus reset", "As expected, the variance ...", "The new gradient replacement
# ...", "The Transformer decoder is also a stack ..." (also like the encoder), "... as an alternative").
_DISCOURSE = re.compile(
    r"\b(?:thus|hence|therefore|consequently|accordingly|instead|otherwise|alternatively|already|again)\b"
    r"|\bas (?:expected|explained|noted|before|usual|such|discussed|promised|mentioned|introduced|above)\b"
    r"|\b(?:so far|in turn|an alternative|as an alternative)\b(?! to\b)"
    r"|\bthe (?:new|resulting|original|actual|aforementioned|respective|remaining|given|latter|former|"
    r"above|extreme|modified|proposed|improved)\b"
    r"|\balso\b(?! (?:known|called|referred|termed|named)\b)", re.IGNORECASE)

_NEGATION = re.compile(r"\b(?:not(?! (?:just|only)\b)|never|cannot|can't|doesn't|don't|isn't|aren't|no)\b", re.IGNORECASE)
# Two statements joined by a colon ("X is a global method: The method considers ..."): the second leans on the first.
_TWO_STATEMENTS = re.compile(r":\s+[A-Z]")

CHECKS = ("form", "length", "deictic", "dangling", "narrative", "code", "reference", "hedged", "discourse",
          "context", *SENTENCE_CHECKS)  # the last: blind review round 3 (knowledge.note_presupposition)


def sentence_problems(sentence: str) -> list[str]:
    """The names of the checks (:data:`CHECKS`) that ``sentence`` fails; [] means it stands alone."""
    text = sentence.strip()
    problems = []
    if _not_a_statement(text):
        problems.append("form")
    words = text.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS and MIN_CHARS <= len(text) <= MAX_CHARS):
        problems.append("length")
    for name, pattern in (("deictic", _DEICTIC), ("dangling", _DANGLING), ("narrative", _NARRATIVE),
                          ("code", CODE), ("reference", _REFERENCE)):
        if (pattern.match(text) if name == "dangling" else pattern.search(text)):
            problems.append(name)
    if hedged(text):
        problems.append("hedged")
    if _DISCOURSE.search(text):
        problems.append("discourse")
    return problems + context_problems(text) + presupposition_problems(text)


def hedged(text: str) -> bool:
    """Whether ``text`` hedges, guesses or compares with something unseen (check ``hedged``)."""
    if _HEDGED.search(text) or _ONE_OF_MANY.search(text):
        return True
    return any(m.group(0).split()[-1].lower() not in _NOT_COMPARATIVE for m in _COMPARED.finditer(text))


def plain_text(sentence: str) -> str:
    """``sentence`` without Markdown emphasis ("**works** for _text_" -> "works for text")."""
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", sentence)
    return re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", text)


def _not_a_statement(text: str) -> bool:
    if re.match(r"^\S{1,3}\)", text):
        return True  # "D) Signs ..." or "1) ...": an item of a caption or a list
    if not text or text.startswith(("#", "|", ">", "-", "*", "+", "!", "(")) or text.endswith(("?", ":", ";", ",")):
        return True
    if _TWO_STATEMENTS.search(text):
        return True
    if not text[0].isupper() or not text.rstrip("\"')").endswith("."):
        return True
    return sum(ch.isalpha() or ch == " " for ch in text) < 0.85 * len(text)


def content_words(text: str) -> list[str]:
    """Words of ``text`` that carry meaning: alphabetic, not stop words."""
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text) if w.lower() not in STOP_WORDS]


def find_key(sentence: str, key: str) -> list[tuple[int, int]]:
    """Character spans where ``key`` occurs in ``sentence`` as whole words (case-insensitive)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(key.strip())}(?![\w-])", re.IGNORECASE)
    return [m.span() for m in pattern.finditer(sentence)] if key.strip() else []


def key_problems(sentence: str, key: str, stem: str | None = None) -> list[str]:
    """Why ``key`` cannot be the answer drawn from ``sentence`` (asked by ``stem``, if given); [] when it can."""
    key = key.strip()
    words = key.split()
    problems = []
    if not find_key(sentence, key):
        problems.append("not stated")
    elif len(find_key(sentence, key)) > 1:
        problems.append("stated twice")
    if not 1 <= len(words) <= MAX_KEY_WORDS or len(key) > MAX_KEY_CHARS:
        problems.append("key length")
    meaning = content_words(key)
    if not meaning or any(ch.isdigit() for ch in key) and not any(ch.isalpha() for ch in key):
        problems.append("no content")
    elif len(meaning) == 1 and meaning[0].lower() in GENERIC or key.lower() in BROAD:
        problems.append("generic")  # "method"; "iteration", "machine learning": no peers to offer against it
    if len(words) == 1 and re.search(r"[a-z](?:ed|ing|ly)$", key):
        problems.append("not a noun")  # "labeled", "normalizing": a verb or an adverb, not a name
    if CODE.search(key) or not re.fullmatch(r"[\w' ()/.-]+", key) or words[:1] and words[0].lower() in STOP_WORDS:
        problems.append("not a phrase")
    problems += key_form_problems(key, stem)  # round 3: "goal of Grad-CAM", "distances" for "distance", "CPU"
    if stem is not None:
        problems += stem_problems(stem)  # round 3: "What has ...?", "Which to understand ...?"
        if find_key(stem, key):
            problems.append("key in stem")
        if len(content_words(stem)) < MIN_CONTEXT_WORDS:
            problems.append("too little context")
        elif len([w for w in content_words(stem) if w.lower() not in GENERIC | VAGUE]) < MIN_SPECIFIC_WORDS:
            problems.append("vague stem")
        if _NEGATION.search(stem) and (stem.startswith(" ") or stem.startswith(("What ", "Which "))):
            problems.append("negative stem")  # "What does not guarantee ...?": many things don't
    return problems
