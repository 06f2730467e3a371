"""The answer pad's Chainlit element (``agent/app/elements/AnswerPad.jsx``): its props go to the browser, nothing to disk.

Chainlit 2.12 writes an updatable custom element's content to a file under ``.files`` each time it is sent
(``Element._create`` -> ``BaseSession.persist_file``: open, write and close through aiofiles' worker threads),
even with ``persist=False``. The browser renders a custom element from the ``props`` of the ``element``
event and never fetches that file (Chainlit's frontend, ``components/Elements/CustomElement``). Every answer
sends two pads (the next question's, and the answered one locked on its letter), so those were two file
writes and six thread hand-offs per answer, each waiting for the GIL behind the busy event loop.
"""

from __future__ import annotations

import chainlit as cl


class PadElement(cl.CustomElement):
    """A custom element sent with ``persist=False`` (the tutor's pads) writes no file; else as Chainlit's."""

    async def _create(self, persist: bool = True) -> bool:
        if persist:
            return await super()._create(persist=True)
        # Element.send wants a URL or a file key; a custom element's is never used by the browser.
        self.chainlit_key = self.chainlit_key or self.id
        self.persisted = True
        return True
