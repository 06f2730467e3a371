"""Checks that need the concept names: does a question from notes presuppose unseen context, and is each wrong
option really wrong? (pure, no I/O, no model)

Blind review round 2 (49 questions from 15 held-out d2l chapters, evaluation/reports/notes/blind-round2) judged
67.3% self-contained and keyed; the reviewer's notes on the failures give these checks:

* ``unresolved`` "the" and a plural with no concept name in it that nothing restricts ("The outputs of the
                gates are ...": which gates? "the missing team members") - it presupposes the page around it;
* ``list slot`` the blank is one member of a list ("estimating ____ and a second moment") or an example ("as
                in a ____"): the other members are the natural wrong options, and often right as well;
* a wrong option the notes liken to the key (:func:`alike`: "Like a dropout layer, batch normalization layers
                behave differently in training and prediction" - so "dropout" is no wrong option for "What behaves
                differently during training than at test time?");
* a wrong option that is a kind of the key (:func:`family_related`, by the cards; :func:`head_related`, by words):
                "GRU" against "RNN" for "the parametrization cost of an ____ does not grow with time steps",
                "smooth L1 loss" against "loss functions" - both are then true.

    s = "The outputs of the gates are given by two fully connected layers."
    precision_problems(s, "fully connected layers", "The outputs of the gates are given by two ____.", names)
    # ['unresolved']

(Vague stems - "What has drawbacks, both computational and statistical?" - are refused by
:func:`knowledge.note_checks.key_problems`; a check that the stem names some concept besides its key refused
24 of the 28 questions of the dev chapters, most of them fair, because a chapter's own phrases are no names.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from knowledge.names import ConceptNames, tokens
from knowledge.note_checks import GENERIC

BLANK = "____"
# "the gates", "the missing team members" (which?) where a noun phrase ends (a verb or the sentence's end follows,
# so "the memory cell stays" is no plural), not "the gates of an LSTM", "the queries, keys, and values" (a list
# names them), "the hidden states" (a name, checked against the concept names) or "the bias" (not plural).
_DEFINITE_PLURAL = re.compile(
    r"\bthe\s+((?:[a-z][a-z-]*\s+){0,2}[a-z][a-z-]*[^siua\W]s)\b"
    r"(?=\s*[.;:!?]|\s+(?:are|were|have|had|can|cannot|may|will|must|should|do|remain|become)\b)", re.IGNORECASE)
# One member of a list, or an example ("as in a ____": a linear model, and also a logistic regression).
_LIST_SLOT = re.compile(rf"{BLANK}\s+(?:and|or)\s+\w|\w\s+(?:and|or)\s+(?:(?:the|an?)\s+)?{BLANK}"
                        r"|\b(?:as in|such as|e\.g\.,?|for example,?|for instance,?|like|including)\s+"
                        rf"(?:(?:the|an?)\s+)?{BLANK}"
                        rf"|{BLANK},\s+(?:[\w-]+\s+){{0,3}}[\w-]+,?\s+(?:and|or)\s|,\s+{BLANK},"  # "____, X and Y"
                        rf"|,\s+(?:[\w-]+\s+){{0,3}}[\w-]+,\s+(?:and|or)\s+(?:(?:the|an?)\s+)?{BLANK}", re.IGNORECASE)


def unresolved(sentence: str, names: ConceptNames) -> bool:
    """Whether ``sentence`` says "the [up to two words] <plural>" with no known name in it and nothing restricting it
    ("the gates")."""
    for m in _DEFINITE_PLURAL.finditer(sentence):
        if any(m.start(1) <= span[0] < m.end(1) or span[1] == m.end(1) for _, span in names.matches(tokens(sentence))):
            continue  # "the residual connections", "the hidden states", "the convolutional layers": a name in it
        if m.group(1).split()[-1].lower() in GENERIC:
            continue  # "the parameters", "the values": the check ``context`` and the vague-stem check judge those
        return True
    return False


def list_slot(stem: str) -> bool:
    """Whether the blank of a cloze stem is one member of a list ("____ and minima", "for X and ____") or an
    example ("as in a ____", "such as ____")."""
    return BLANK in stem and bool(_LIST_SLOT.search(stem))


def precision_problems(sentence: str, key: str, stem: str, names: ConceptNames) -> list[str]:
    """The name-aware checks a draft (``stem`` asking for ``key`` from ``sentence``) fails; [] when none."""
    problems = []
    if unresolved(sentence, names):
        problems.append("unresolved")
    if list_slot(stem):
        problems.append("list slot")
    return problems


# --------------------------------------------------------------------- wrong options that are right too

def family_map(families: Mapping[str, list[str]]) -> dict[str, frozenset[str]]:
    """Card id -> every card below it, transitively, in ``{general card: [more specific cards]}``
    (knowledge/data/card_families.yaml): what is said of a kind is true of its instances."""
    below: dict[str, set[str]] = {g: set(s) for g, s in families.items()}
    changed = True
    while changed:  # transitive closure: regularisation > early stopping, optimisers > gradient descent > SGD
        changed = False
        for specific in below.values():
            extra = set().union(*(below.get(s, set()) for s in specific)) - specific
            if extra:
                specific |= extra
                changed = True
    return {c: frozenset(v) for c, v in below.items()}


def family_related(key_cards: frozenset[str], option_cards: frozenset[str],
                   families: Mapping[str, frozenset[str]]) -> bool:
    """Whether an option's card is a kind of the key's card ("GRU" for "RNN"): a statement about RNNs holds for
    GRUs too. The other way round is kept: "RNN" against "GRU" ("____ has an update gate") is wrong, and a
    question on multi-head attention keeps self-attention (its general kind) as an option."""
    return any(o in families.get(k, frozenset()) for k in key_cards for o in option_cards)


def head_related(key: str, option: str) -> bool:
    """Whether one names a kind of the other by its words: the option's last word modifies the key ("smooth L1
    loss" for "loss functions": a loss) or the key's last word modifies the option ("loss functions" for
    "smooth L1 loss")."""
    a, b = [k for k, _, _ in tokens(key)], [k for k, _, _ in tokens(option)]
    if len(a) < 1 or len(b) < 1:
        return False
    return b[-1] in a[:-1] or a[-1] in b[:-1]


# "Like X, Y ...", "As with X, Y ...", "X, similar to Y, ...", "both X and Y": the sentence says the same of each.
_LIKENED = re.compile(r"\b(?:like|as with|as in|similar to|similarly to|just as|as does|as do|both|same as)\b",
                      re.IGNORECASE)


def alike(sentence: str, names: ConceptNames) -> list[frozenset[tuple[str, ...]]]:
    """Groups of concept names (index keys, and their cards' ids as ``("card", id)``) that ``sentence`` likens."""
    if not _LIKENED.search(sentence):
        return []
    found = names.matches(tokens(sentence))
    longest = [(t, span) for t, span in found
               if not any(o != span and o[0] <= span[0] and span[1] <= o[1] for _, o in found)]
    members = {t.keys for t, _ in longest} | {("card", c) for t, _ in longest for c in t.card_ids}
    return [frozenset(members)] if len({t.keys for t, _ in longest}) > 1 else []


def likened(key: tuple[str, ...], key_cards: frozenset[str], option: tuple[str, ...], option_cards: frozenset[str],
            groups: list[frozenset[tuple[str, ...]]]) -> bool:
    """Whether some sentence likens the option to the key (by name or by card)."""
    a = {key} | {("card", c) for c in key_cards}
    b = {option} | {("card", c) for c in option_cards}
    return any(a & g and b & g for g in groups)
