"""One strict policy for what comes in from outside, wherever it comes in (the loan book, the event log,
the REST API, the CLI): money and rates as plain decimal strings, dates as ISO dates inside a window, JSON
objects without duplicate keys. Each refusal says what was wrong in words; callers add the line or the
field.

- **Amounts and rates**: ASCII digits with at most one decimal point (and a leading ``-`` only where a
  range check will refuse it with its own words). A JSON integer is taken as it is; a JSON number with a
  fraction is refused (a float cannot carry money exactly), as are exponents (``1e-30``), underscores
  (``1_000``), other scripts' digits (``١٠``), ``NaN`` and ``Infinity``, and more than 20 digits.
- **Dates**: a ``YYYY-MM-DD`` string (no epoch integers, no times) between 1970-01-01 and 2100-12-31.
- **JSON**: an object whose keys are each given once (``NaN`` and ``Infinity`` parse as floats, which
  every amount, rate and date field refuses by name).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_DIGITS = 20

_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plain_decimal(value: Any) -> Decimal:
    """A decimal from a plain decimal string or a JSON integer (ValueError saying why not)."""
    if isinstance(value, bool):
        raise ValueError('must be a decimal string such as "1000.00", not true or false')
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, int):
        if len(str(abs(value))) > MAX_DIGITS:
            raise ValueError(f"has more than {MAX_DIGITS} digits")
        return Decimal(value)
    if isinstance(value, float):
        raise ValueError('must be a decimal string such as "1000.00", not a JSON number with a fraction')
    if not isinstance(value, str):
        raise ValueError(f'must be a decimal string such as "1000.00", not {type(value).__name__}')
    text = value.strip()
    if not _PLAIN.fullmatch(text):
        raise ValueError(
            f"{text[:24]!r} is not a plain decimal: ASCII digits and at most one decimal point "
            "(no exponent, separators, spaces or other scripts' digits)"
        )
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise ValueError(f"has more than {MAX_DIGITS} digits")
    return Decimal(text)


def iso_date(value: Any) -> date:
    """A date from a ``YYYY-MM-DD`` string within the window (ValueError saying why not)."""
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _ISO.fullmatch(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a calendar date") from None
    else:
        shown = value[:24] if isinstance(value, str) else type(value).__name__
        raise ValueError(f"must be a date string YYYY-MM-DD, not {shown!r}")
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise ValueError(f"{parsed} is outside {MIN_DATE} to {MAX_DATE}")
    return parsed


class DuplicateKey(json.JSONDecodeError):
    """A JSON object gives the same key twice (which one would win is not the sender's call to leave)."""


def strict_json(text: str | bytes) -> Any:
    """``json.loads`` that refuses duplicate keys."""
    source = text.decode("utf-8") if isinstance(text, bytes) else text

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise DuplicateKey(f"duplicate key {key[:40]!r}", source, 0)
            seen[key] = value
        return seen

    if len(source) > MAX_BODY_CHARS:
        raise json.JSONDecodeError(f"the body is longer than {MAX_BODY_CHARS:,} characters", source[:80], 0)
    try:
        return json.loads(source, object_pairs_hook=pairs)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", source[:80], 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise json.JSONDecodeError(f"a number too long ({str(exc)[:60]})", source[:80], 0) from None


# a request body larger than this is refused before it is parsed (API Gateway's own limit is 10 MB; no
# DueFlow body needs more than a few KB)
MAX_BODY_CHARS = 256 * 1024
