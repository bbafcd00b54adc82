"""One item's work tried again after a transient failure of an AWS call (a throttle, a short outage).

botocore already retries each call (standard mode, three attempts); this retries the item's whole,
idempotent work a few times more with backoff, so that one item's bad luck does not fail the batch or
the slice it belongs to. Bad data (ValueError and the like) is not transient and is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dueflow import clock

T = TypeVar("T")

ATTEMPTS = 4
BACKOFF_S = 0.5
NOT_TRANSIENT = (ValueError, TypeError, KeyError, AttributeError, AssertionError)


def attempt(work: Callable[[], T], attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S) -> T:
    """``work()``, tried up to ``attempts`` times (waiting ``backoff_s``, then twice as long, ...); the
    last failure is raised."""
    for number in range(1, attempts + 1):
        try:
            return work()
        except NOT_TRANSIENT:
            raise
        except Exception:
            if number == attempts:
                raise
            clock.sleep(backoff_s * 2 ** (number - 1))
    raise AssertionError("unreachable")
