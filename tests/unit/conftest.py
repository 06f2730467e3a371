"""The unit tier is pure: a unit test that imports torch, transformers, peft or trl while it runs fails.

Module imports are checked by ``test_unit_tier_is_pure.py``; this hook catches the imports inside a test
(``pytest.importorskip("torch")``). It can only see what was not imported before the test: run alone
(``pytest tests/unit``) the tier starts without them; after the integration tier they are already loaded.
"""

from __future__ import annotations

import sys

import pytest

HEAVY = ("torch", "transformers", "peft", "trl")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    before = {name for name in HEAVY if name in sys.modules}
    result = yield
    pulled = [name for name in HEAVY if name in sys.modules and name not in before]
    if pulled:
        pytest.fail(f"a unit test imported {', '.join(pulled)}: move it to tests/integration (marker `torch`)")
    return result
