"""The study layer's settings: the clock offset (environment read here, at each request).

Read on every call rather than once at start-up, so a running app picks up a change and tests can
jump days ahead without a restart.
"""

from __future__ import annotations

from common.settings import EnvSettings, setting


class StudySettings(EnvSettings):
    """How far the study clock runs ahead of the real time (review schedules, due dates)."""

    clock_offset_days: float = setting(0.0, env="TUTOR_CLOCK_OFFSET_DAYS", doc="days added to the study clock (may be < 0)")
    clock_offset_seconds: float = setting(
        0.0, env="TUTOR_CLOCK_OFFSET_SECONDS", doc="seconds added to the study clock on top of the days"
    )
