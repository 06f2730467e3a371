"""Is a wrong option of the same kind as the key, and is it really wrong? (pure, no I/O, no model)

A blind review of 51 questions from textbook chapters (evaluation/reports/notes/blind-round1) found
0.69 of 3 plausible distractors: options were names the cards know but of another kind ("sigmoid" for
"learning rate", "random forest" for "Shapley value", "machine learning" for anything). Kind evidence,
strongest first:

* ``head``     the same head noun ("fully connected layers" / "convolutional layers", "smoothing kernel" /
               "Gaussian kernel"): the notes' own noun phrases ending in the key's head join the pool;
* ``sibling``  a card fact offers both as options of one question (a person grouped them: "dropout",
               "weight decay", "early stopping");
* ``subject``  both are subjects the notes name (a title or an "expansion (ACRONYM)": "LIME", "SHAP");
* ``category`` the notes file both under the same category ("X is a regularisation method ..."), or both
               name cards of one kind (knowledge/data/card_kinds.yaml: "normalisation layer", "loss function").

The same review found keys that a distractor shares: "second moment" offered against "minibatch" in
an Adam chapter that also says Adam estimates the second moment. :func:`also_stated` refuses an option
that another sentence of the same notes states with most of the question's words.

    head_noun("fully connected layers")          # 'layer'
    noun_phrases("Convolutional layers differ from pooling layers.", "layers")  # ['Convolutional layers', 'pooling layers']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.names import tokens
from knowledge.note_checks import BROAD, GENERIC, STOP_WORDS, content_words

MIN_SHARED = 0.5  # share of the question's content words another sentence must hold to state the option too
MIN_SHARED_WORDS = 3
# Words before a head that are not part of a name ("these layers", "many layers", "two layers").
_NOT_MODIFIER = STOP_WORDS | frozenset(
    "many several few two three four five different other same various multiple new own single each both".split())
# Words that start an instruction or a clause, never a name ("Invert positive metrics", "Estimate PFI").
VERBS = frozenset(
    "invert estimate apply set add remove consider ensure start train fit evaluate test normalize normalise scale "
    "split sample replace define initialize initialise repeat combine select visualize visualise interpret report "
    "measure permute shuffle calculate compute use make pick choose run check compare show plot draw".split())


def index_keys(text: str) -> tuple[str, ...]:
    return tuple(k for k, _, _ in tokens(text))


def head_noun(text: str) -> str:
    """The index term of the last word ("fully connected layers" -> the term of "layers"); "" if none."""
    keys = index_keys(text)
    return keys[-1] if keys else ""


def is_broad(text: str) -> bool:
    """Whether ``text`` names a whole field or activity rather than one concept among peers."""
    return text.strip().lower() in BROAD


def is_name(text: str) -> bool:
    """Whether ``text`` reads as a name: not an instruction ("Invert positive metrics"), not a qualified
    example ("current penguin"), not a generic head on its own."""
    words = text.split()
    if not words or words[0].lower() in VERBS or words[0].lower() in {"current", "this", "that", "our", "your"}:
        return False
    return not (len(words) == 1 and words[0].lower() in GENERIC)


def noun_phrases(text: str, head: str, max_words: int = 3) -> list[str]:
    """Phrases of ``text`` of up to ``max_words`` words ending in the word ``head`` (up to number), with
    at least one modifier that is a content word ("pooling layers", not "many layers")."""
    found = []
    matches = list(re.finditer(r"[A-Za-z][\w-]*", text))
    words = [m.group(0) for m in matches]
    first = [not text[:m.start()].strip() or text[:m.start()].rstrip()[-1] in ".!?\n" for m in matches]
    for i, word in enumerate(words):
        if _fold(word) != _fold(head):
            continue
        start = i
        while start > 0 and i - start + 1 < max_words and _modifier(words[start - 1], first[start - 1]):
            start -= 1
        if start < i:
            found.append(" ".join(words[start:i + 1]))
    return found


def _fold(word: str) -> str:
    """A head word's surface form up to number and spelling ("layers" ~ "layer", "normalisation" ~ "normalization")."""
    lower = word.lower()
    return (lower[:-1] if lower.endswith("s") and not lower.endswith("ss") else lower).replace("s", "z")


def _modifier(word: str, sentence_start: bool) -> bool:
    """A word that may name a kind in front of a head ("pooling", "convolutional"), not "y", "w1", "many", "uses",
    nor a capitalised name inside a sentence ("Keras layers")."""
    lower = word.lower()
    return (word.isalpha() and len(word) >= 3 and lower not in _NOT_MODIFIER and lower not in VERBS
            and not lower.endswith(("ly", "ed")) and (word.islower() or word.isupper() or sentence_start))


def sibling_sets(groups: Iterable[Iterable[str]], max_words: int = 4) -> dict[tuple[str, ...], frozenset]:
    """For each short option of a group (a card fact's answer and distractors), the index keys of the others."""
    siblings: dict[tuple[str, ...], set] = {}
    for group in groups:
        members = [index_keys(re.sub(r"^(?:the|an?)\s+", "", g.strip(), flags=re.I)) for g in group]
        if any(not m or len(m) > max_words for m in members):
            continue  # a sentence-long option is not a name
        for m in members:
            siblings.setdefault(m, set()).update(o for o in members if o != m)
    return {k: frozenset(v) for k, v in siblings.items()}


_COORDINATION = re.compile(r"\s*(?:,|,?\s*(?:and|or|nor|vs\.?|versus)|/)\s*", re.IGNORECASE)


def coordinated(text: str, spans: list[tuple[tuple[str, ...], tuple[int, int]]]) -> list[tuple[tuple, tuple]]:
    """Pairs of names (index keys) that ``text`` lists side by side ("dropout, weight decay and early stopping"):
    a list holds things of one kind. ``spans`` are the names found in ``text`` with their character spans."""
    whole = [s for s in spans if not any(o[1] != s[1] and o[1][0] <= s[1][0] and s[1][1] <= o[1][1] for o in spans)]
    ordered = sorted(whole, key=lambda s: s[1])  # the longest names only ("weight decay", not "weight")
    pairs = []
    for (a, (_, end)), (b, (start, _)) in zip(ordered, ordered[1:]):
        if a != b and start >= end and _COORDINATION.fullmatch(text[end:start]):
            pairs.append((a, b))
    return pairs


def card_kind_map(kinds: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    """Card id -> the kinds it is filed under, from ``{kind: [card ids]}`` (knowledge/data/card_kinds.yaml)."""
    found: dict[str, set[str]] = {}
    for kind, card_ids in kinds.items():
        for card_id in card_ids:
            found.setdefault(card_id, set()).add(kind)
    return {c: frozenset(k) for c, k in found.items()}


def also_stated(option: str, stem: str, key: str, sentences: Iterable[frozenset[str]]) -> bool:
    """Whether some sentence of the notes (given as sets of index keys) holds ``option`` and most of the
    stem's content words: the notes may make the option true as well."""
    option_keys = set(index_keys(option))
    key_keys = set(index_keys(key))
    wanted = {k for w in content_words(stem) for k in index_keys(w)} - key_keys - option_keys
    if not option_keys or not wanted:
        return False
    need = max(MIN_SHARED_WORDS, MIN_SHARED * len(wanted))
    return any(option_keys <= s and len(wanted & s) >= need for s in sentences)
