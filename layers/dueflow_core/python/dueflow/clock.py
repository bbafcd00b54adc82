"""The clock every handler reads. In AWS it is the real time; the local runtime sets a simulated one
(a day advances only when the daily scan runs), which makes a simulation reproducible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


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
