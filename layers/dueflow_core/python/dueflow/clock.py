"""The clock every handler reads. In AWS it is the real time; the local runtime sets a simulated one
(a day advances only when the daily scan runs), which makes a simulation reproducible."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_sleep: Callable[[float], None] = time.sleep


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return _now()


def today(zone: str) -> date:
    """The current local date in ``zone`` (the bank's time zone for business dates)."""
    return now().astimezone(ZoneInfo(zone)).date()


def set_clock(source: Callable[[], datetime]) -> None:
    """Replace the clock (local runtime and tests only)."""
    global _now  # noqa: PLW0603 - one process-wide clock is the point
    _now = source


def reset_clock() -> None:
    set_clock(lambda: datetime.now(UTC))


def sleep(seconds: float) -> None:
    """Wait (pacing calls to AWS). The local runtime makes this a no-op: its time is simulated."""
    _sleep(seconds)


def set_sleep(source: Callable[[float], None] | None) -> None:
    """Replace the pacing sleep (local runtime only); None restores ``time.sleep``."""
    global _sleep  # noqa: PLW0603
    _sleep = source if source is not None else time.sleep
