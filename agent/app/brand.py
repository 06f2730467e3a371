"""How the app presents itself: its name, logo, favicon and welcome text (pure; no Chainlit import).

The launcher writes :data:`PUBLIC_FILES` into ``<app root>/public`` (Chainlit serves ``/logo``,
``/favicon`` and the assistant's avatar from there); the welcome text is the description of the
app's one chat profile, which Chainlit shows above the starters on an empty chat.
"""

from __future__ import annotations

NAME = "ML Tutor"
DESCRIPTION = "A machine-learning tutor: explanations, graded quizzes, spaced review, progress and Anki export."
INDIGO, AMBER = "#4338CA", "#F59E0B"

# A mortarboard over a small three-node network: "learning" twice over. Drawn here, no fonts needed.
_MARK = f"""<rect x="2" y="2" width="60" height="60" rx="14" fill="{INDIGO}"/>
  <path d="M32 12 L56 22 L32 32 L8 22 Z" fill="#FFFFFF"/>
  <path d="M18 27 V35 C18 39 46 39 46 35 V27 L32 33 Z" fill="#E0E7FF"/>
  <path d="M52 24 V33" stroke="{AMBER}" stroke-width="2.5" stroke-linecap="round"/>
  <circle cx="52" cy="35" r="2.6" fill="{AMBER}"/>
  <g stroke="#C7D2FE" stroke-width="2.2">
    <line x1="20" y1="50" x2="32" y2="44"/><line x1="32" y1="44" x2="44" y2="50"/>
    <line x1="20" y1="50" x2="44" y2="50"/>
  </g>
  <circle cx="20" cy="50" r="3.6" fill="#FFFFFF"/><circle cx="32" cy="44" r="3.6" fill="{AMBER}"/>
  <circle cx="44" cy="50" r="3.6" fill="#FFFFFF"/>"""


def icon_svg() -> str:
    """The square mark (favicon, avatar, welcome icon)."""
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">\n  {_MARK}\n</svg>\n'


def logo_svg(text_color: str) -> str:
    """The mark and the name side by side (the header and login logo); ``text_color`` per theme."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 236 64" width="236" height="64">\n'
        f"  {_MARK}\n"
        f'  <text x="74" y="43" font-family="Inter, Helvetica, Arial, sans-serif" font-size="30" '
        f'font-weight="700" fill="{text_color}">{NAME}</text>\n</svg>\n'
    )


PUBLIC_FILES: dict[str, str] = {
    "logo_light.svg": logo_svg("#1E1B4B"),
    "logo_dark.svg": logo_svg("#F5F5F4"),
    "favicon.svg": icon_svg(),
    "avatars/ml_tutor.svg": icon_svg(),  # the assistant's avatar (Chainlit looks it up by the app's name)
}
ICON_URL = "/public/favicon.svg"

# Only what works today: uploading notes to the chat is not built (notes are read from TUTOR_NOTES_DIR).
WELCOME = f"""\
### Welcome to {NAME}

I help you learn machine learning, one concept at a time:

- **Explain**: ask anything, e.g. *"How does dropout reduce overfitting?"*, and I answer from my notes, with sources.
- **Quiz**: `/quiz TOPIC` or *"quiz me on precision and recall, 5 questions"*; answer with A-D and get feedback at once.
- **Review**: every answer is remembered; `/review` brings back the facts due now (missed ones come back sooner).
- **Progress**: `/progress` shows your mastery per concept, what is due and your answers over time.
- **Export**: download each quiz as an Anki deck, or `/export [anki|markdown|json]` for all your answers.

`/help` lists every command.
"""
