"""Does a sentence of the notes lean on the book's running example? And its connective, taken off (pure, no I/O).

Textbook chapters teach through a running example (a bike-rental dataset, "the state variables" of a
toy optimiser, "the model" trained two pages earlier). Such a sentence is true only of that example,
and a question drawn from it cannot be answered from the question alone. :func:`context_problems`
refuses it (check ``context``) when it has

* a specific number, time, year or percentage ("at 8:00 AM", "a learning rate of 0.1", "in 2017");
* a past-tense report ("had the largest contributions", "was trained on"): results of an experiment;
* a procedure step that ends in an agentless passive ("Three surrogate models are computed.");
* the reader addressed ("you", "your goal"), a plot described ("can be seen", "the dots", "x-axis");
* an instruction to the reader ("Make sure to ...") or "both curves" (two things shown, not named);
* a definite subject with no named concept ("The model ...", "The data ...", "The network ...") or a
  definite reference to the example anywhere ("the state variables", "the instance", "the dataset"),
  unless a restrictive phrase follows ("the data of the training set", "the instance that is explained").

:func:`detach` takes off a leading discourse marker ("However, ", "In practice, ", "Note that "): the
rest asserts the same thing, and is then checked on its own.

    context_problems("The temperature and humidity had the largest positive contributions.")  # ['context']
    detach("In practice, dropout is disabled at test time.")  # 'Dropout is disabled at test time.'
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w-])\d[\d.,:/]*(?:\s?%|\s?(?:AM|PM|am|pm)\b)?(?![\w-])|\b(?:percent|o'clock)\b")
_PAST = re.compile(r"\b(?:was|were|had|did|wasn't|weren't|didn't)\b", re.IGNORECASE)
_PROCEDURE = re.compile(
    r"\b(?:is|are)\s+(?:then\s+)?(?:computed|shown|plotted|trained|fitted|fit|displayed|visualized|visualised|depicted"
    r"|selected|sampled|drawn|generated|obtained|created|given|chosen|listed|reported|highlighted|marked|"
    r"colou?red|printed|loaded|initialized|initialised|defined here)\.$", re.IGNORECASE)
# Nouns that, after "the" and with nothing restricting them, point at the example being worked through.
EXAMPLE_NOUNS = (
    "model|models|network|networks|net|data|dataset|datasets|data set|classifier|regressor|learner|estimator|"
    "result|results|experiment|experiments|example|examples|instance|instances|plot|curve|curves|image|images|"
    "picture|sentence|document|text|task|setting|scenario|story|state variables?|variables?|features?|"
    "predictions?|outputs?|inputs?|weights|person|patient|customer|day|house|apartment|author|authors|paper|code|"
    "black box(?: model)?|original paper|first layer|last layer|second layer|hidden layer|output layer|"
    "training data|test data|training set|test set|validation set|loss curve|learning curve|gap|row|rows|column|"
    "columns|procedure|answer|question|computation|design|graph|line|lines|point|points|axioms|team|members?|"
    "problem|transformation|method|approach|algorithm|technique|operation|contribution|effect|update|estimate|"
    "quantity|formula|expression|term|operator|modification|layer|module|block|"
    "initial \\w+ \\w+"
)
_SUBJECT = re.compile(rf"^The\s+(?:\w+\s+)?(?:{EXAMPLE_NOUNS})\b(?!\s+(?:of|that|which|who|whose|where|for|used)\b)"
                      r"(?!-)", re.IGNORECASE)
_ANYWHERE = re.compile(
    r"\bthe\s+(?:state variables|dataset|data set|instance|instances|experiment|experiments|example|examples|"
    r"original paper|authors?|story|person|patient|customer|apartment|house|bike|rentals?|weather|day|"
    r"transformation|operation|contribution)\b"
    r"(?!\s+(?:of|that|which|who|whose|where|to be explained)\b)",
    re.IGNORECASE)

# Markers that only frame a statement that stands on its own. Not taken off (so refused, checks ``dangling`` and
# ``discourse``): markers of a conclusion or comparison with what came before - "Thus, ...", "Similarly, ...",
# "Instead, ..." (blind review round 2: "Any pre-existing hidden state is thus reset to defaults" needs its premise).
CONNECTIVES = (
    "however|moreover|furthermore|additionally|indeed|in practice|in general|generally|"
    "typically|usually|often|intuitively|importantly|in particular|in short|in summary|to summarize|to summarise|"
    "of course|fortunately|unfortunately|crucially|essentially|formally|informally|"
    "in fact|nevertheless|nonetheless|in other words|"
    "put simply|simply put|roughly speaking|broadly speaking|in essence|interestingly|notably|surprisingly|"
    "practically|traditionally|historically|in theory"
)
# An instruction to the reader, not a statement ("Make sure to ...", "Pair Shapley values with ...").
_IMPERATIVE = re.compile(r"^(?:make|be|pick|pair|use|try|keep|avoid|choose|design|draw|compute|implement|plot|run|"
                         r"check|read|compare|show|prove|explain|describe|give|find|think|look|go|don't|do|estimate|"
                         r"apply|set|add|remove|consider|ensure|start|evaluate|normalize|normalise|split|replace|"
                         r"define|initialize|initialise|repeat|combine|select|visualize|visualise|interpret|report|"
                         r"measure|permute|shuffle|calculate|invert|note|recall|assume|ignore|fix|vary|"
                         r"take|experiment|let|derive|rewrite|modify|extend|revisit|observe)\b",  # "Take the ..."
                         re.IGNORECASE)
_BOTH = re.compile(r"\bboth\s+(?!\w+\s+and\b)\w+", re.IGNORECASE)  # "both curves", not "both A and B"
_READER = re.compile(r"\b(?:you|your|yours|yourself)\b", re.IGNORECASE)  # the reader's own situation
_SEEN = re.compile(r"^\w+(?: \w+)?:\s|\bas alluded\b|\b(?:can be seen|is visible|are visible|x-axis|y-axis|dots|the \w+ model predicts)\b",
                   re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]+)\b")  # "for Adelie", "by Rahimi": not first, not after ":"
_CONNECTIVE = re.compile(rf"^(?:(?:{CONNECTIVES}),\s+|(?:note|recall|notice|remember) that\s+)", re.IGNORECASE)


def context_problems(sentence: str, proper: frozenset[str] | None = None) -> list[str]:
    """``["context"]`` if ``sentence`` leans on a running example (see the module docstring), else [].

    With ``proper`` (lower-cased words the cards capitalise, :attr:`knowledge.names.ConceptNames.proper`),
    a capitalised word inside the sentence that the cards don't know ("for Adelie", "Ali Rahimi") is a
    name from the example or a person, and refused too.
    """
    text = sentence.strip()
    checks = (_NUMBER, _PAST, _PROCEDURE, _SUBJECT, _ANYWHERE, _IMPERATIVE, _BOTH, _READER, _SEEN)
    if any(p.search(text) for p in checks):
        return ["context"]
    if proper is not None and any(w.lower() not in proper for w in _CAPITALISED.findall(text)):
        return ["context"]
    return []


def detach(sentence: str) -> str:
    """``sentence`` without its leading discourse markers, first letter capitalised."""
    text = sentence.strip()
    while (m := _CONNECTIVE.match(text)) and len(text) > m.end():
        text = text[m.end():]
        text = text[0].upper() + text[1:]
    return text
