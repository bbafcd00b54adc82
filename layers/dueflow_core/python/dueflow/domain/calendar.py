"""Date arithmetic for schedules: months added to a date with the day clamped to the month's end."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """Return ``start`` moved by ``months`` calendar months, on the same day of month, clamped to the
    last day of the target month (Jan 31 + 1 month = Feb 28 or 29)."""
    index = start.month - 1 + months
    year = start.year + index // 12
    month = index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))
