"""The knowledge a tutor holds: the curated cards plus the student's notes, behind one search.

    kb = KnowledgeBase.load(notes_dir=Path("~/.local/share/ml-tutor/notes"))
    kb.search("precision vs recall", k=3)
"""

from __future__ import annotations

from pathlib import Path

from knowledge.cards import load_cards
from knowledge.retrieval import Hit, KnowledgeIndex
from schemas.knowledge import ConceptCard, NoteChunk


class KnowledgeBase:
    """Cards by id, note chunks by source, and the fused BM25 index over both."""

    def __init__(self, cards: list[ConceptCard], chunks: list[NoteChunk] | None = None):
        self.cards = {c.id: c for c in cards}
        self.chunks = {c.source: c for c in chunks or []}
        self.index = KnowledgeIndex.build(cards, chunks or [])

    @classmethod
    def load(cls, notes_dir: Path | None = None) -> "KnowledgeBase":
        chunks: list[NoteChunk] = []
        if notes_dir is not None:
            from knowledge.notes import NoteStore

            chunks = NoteStore(notes_dir).chunks()
        return cls(list(load_cards()), chunks)

    def search(self, query: str, k: int = 5, kinds: tuple[str, ...] = ("card", "note")) -> list[Hit]:
        return self.index.search(query, k=k, kinds=kinds)

    def card(self, card_id: str) -> ConceptCard:
        return self.cards[card_id]

    def related(self, card: ConceptCard) -> list[ConceptCard]:
        return [self.cards[r] for r in card.related if r in self.cards]

    def suggestions(self, k: int = 5) -> list[str]:
        """A few topics to offer when a request matches nothing (the first card of each area)."""
        seen: dict[str, str] = {}
        for card in self.cards.values():
            seen.setdefault(card.area, card.title)
        return list(seen.values())[:k]
