"""The study clock: UTC now plus an offset read at each request, so tests can jump days ahead.

The offset is :class:`agent.study.settings.StudySettings` (``TUTOR_CLOCK_OFFSET_DAYS``,
``TUTOR_CLOCK_OFFSET_SECONDS``); a value that is not a number raises :class:`ClockError`.

    Clock().now()                       # real time + the offsets in the environment now
    Clock(fixed=datetime(...)).now()    # a fixed instant (unit tests)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from agent.study.settings import StudySettings
from common.settings import SettingsError

ClockError = SettingsError  # an offset variable is not a number (the message names it)


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
    settings = StudySettings.from_env()
    return timedelta(days=settings.clock_offset_days, seconds=settings.clock_offset_seconds)
