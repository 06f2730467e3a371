"""Plain text from user input that may contain HTML (pure, standard library only).

A topic like ``<script>alert(1)</script> overfitting`` means "overfitting": tags are dropped and
the contents of script/style elements are discarded, not shown or searched.
"""

from __future__ import annotations

from html.parser import HTMLParser

_SKIP = {"script", "style"}


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        self._skipping += tag in _SKIP

    def handle_endtag(self, tag) -> None:
        self._skipping -= tag in _SKIP and self._skipping > 0

    def handle_data(self, data) -> None:
        if not self._skipping:
            self.parts.append(data)


def text_content(markup: str) -> str:
    """The visible text of ``markup``, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
