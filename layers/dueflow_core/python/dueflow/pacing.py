"""Pacing and time budgets for the scheduled handlers.

``Pacer`` keeps calls to a rate (StartExecution under the region's refill rate, SMS and e-mail sends
under the account's sending rates); each of N parallel invocations gets ``rate / N``. ``Budget`` says
when an invocation must stop to stay inside its Lambda timeout (or before the next tick starts the same
work), so a slice of work that does not fit one invocation hands over instead of being cut off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dueflow import clock


class Pacer:
    """At most ``rate`` calls a second (sleeps between calls when they come faster)."""

    def __init__(
        self, rate: float, sleep: Callable[[float], None] | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._sleep = sleep or clock.sleep
        self._now = now

    def wait(self) -> None:
        now = self._now()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


class Budget:
    """Time left in this invocation: ``remaining_ms`` is the Lambda context's clock; the invocation
    stops taking new work once less than ``reserve_s`` is left (None: no limit, a local run)."""

    def __init__(self, remaining_ms: Callable[[], int] | None = None, reserve_s: float = 60.0) -> None:
        self._remaining_ms = remaining_ms
        self._reserve_ms = reserve_s * 1000

    def exhausted(self) -> bool:
        return self._remaining_ms is not None and self._remaining_ms() < self._reserve_ms


UNLIMITED = Budget()
