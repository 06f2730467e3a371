"""The study clock: UTC now plus an offset read at each request, so tests can jump days ahead.

| env var                    | meaning                                   |
|----------------------------|-------------------------------------------|
| TUTOR_CLOCK_OFFSET_DAYS    | days added to the real time (may be < 0)  |
| TUTOR_CLOCK_OFFSET_SECONDS | seconds added on top                      |

    Clock().now()                       # real time + the offsets in the environment now
    Clock(fixed=datetime(...)).now()    # a fixed instant (unit tests)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

OFFSET_DAYS_ENV = "TUTOR_CLOCK_OFFSET_DAYS"
OFFSET_SECONDS_ENV = "TUTOR_CLOCK_OFFSET_SECONDS"


class ClockError(ValueError):
    """An offset variable is not a number."""


@dataclass(frozen=True)
class Clock:
    """Timezone-aware UTC time for scheduling; ``fixed`` pins it, otherwise offsets come from the env."""

    fixed: datetime | None = None

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed.astimezone(timezone.utc)
        return datetime.now(timezone.utc) + offset()


def offset() -> timedelta:
    """The offset set in the environment now (read on every call: a running app picks up a change)."""
    return timedelta(days=_number(OFFSET_DAYS_ENV), seconds=_number(OFFSET_SECONDS_ENV))


def _number(name: str) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return 0.0
    try:
        return float(raw)
    except ValueError:
        raise ClockError(f"{name} must be a number of {name.rsplit('_', 1)[-1].lower()}, not {raw!r}") from None
