"""A GGUF vocabulary as llama.cpp reads it, for :mod:`llm.llamacpp_runtime`: which tokens end a turn, and each
token's bytes whatever their length.

* :func:`end_tokens`: every id ``llama_vocab_is_eog`` counts as an end. For the embedded SmolLM2 GGUF these are
  ``<|endoftext|>`` (0), ``<|im_end|>`` (2, the GGUF's EOS) and ``<reponame>`` (4); a decode that stopped on the EOS
  alone would feed the others back as if they were text.
* :func:`token_bytes`: not ``Llama.detokenize``, which in llama-cpp-python 0.3.36 reads each piece into a 32-byte
  buffer and silently returns nothing for a longer one (SmolLM2 has 47 such tokens, e.g. 64 dashes and a newline
  with 32 spaces of indent), so a stream would lose that text.

    ends = end_tokens(llama)                 # frozenset({0, 2, 4})
    token_bytes(llama, 15069)                # b"-" * 64
"""

from __future__ import annotations

import ctypes
from typing import Any


def end_tokens(llama: Any) -> frozenset[int]:
    """Every token id llama.cpp counts as ending a generation (EOS and end-of-turn), the EOS included."""
    import llama_cpp

    vocab = llama._model.vocab
    ends = {t for t in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
    return frozenset(ends | {llama.token_eos()})


def token_bytes(llama: Any, token: int, *, special: bool = False) -> bytes:
    """The bytes of one token's piece (control tokens as nothing unless ``special``), however long."""
    import llama_cpp

    size = 64
    while True:
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(llama._model.vocab, llama_cpp.llama_token(token), buffer, size, 0, special)
        if n >= 0:
            return buffer.raw[:n]
        size = -n  # too small: llama.cpp says how many bytes the piece needs
