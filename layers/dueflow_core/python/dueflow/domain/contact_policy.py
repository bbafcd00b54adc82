"""The contact policy gate every message passes before it goes out (接触规则).

- Only inside the contact window in the customer's time zone (08:00-21:00 by default); a message
  outside it is deferred to the next opening, never dropped.
- At most ``max_per_day`` SMS and calls per customer per local calendar day, and ``max_per_7_days`` in
  any 7 consecutive days; a message over a cap is deferred to when the cap frees.
- Never after an opt-out of that channel or a do-not-contact flag, never while a complaint is open
  (both drop the message: the case records why).
- Debt details only to the borrower's own verified contacts.

Times are timezone-aware ``datetime``s; the window is a local wall-clock range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"


CAPPED_CHANNELS = frozenset({Channel.SMS, Channel.CALL})


@dataclass(frozen=True, slots=True)
class ContactRules:
    """The configurable limits (see Settings: contact_window_*, max_contacts_*)."""

    window_start: time = time(8, 0)
    window_end: time = time(21, 0)
    max_per_day: int = 3
    max_per_7_days: int = 7


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the gate needs to know about the customer being contacted."""

    timezone: str
    verified_channels: frozenset[Channel]
    opted_out: frozenset[Channel] = field(default_factory=frozenset)
    do_not_contact: bool = False
    complaint_open: bool = False
    do_not_contact_reason: str | None = None  # why, when known (it goes on the record of what is dropped)
    calls_quiet_until: datetime | None = None  # no call before then (a rule pack's quiet after a conversation)


class Verdict(StrEnum):
    SEND = "send"
    DEFER = "defer"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Decision:
    """``SEND`` now, ``DEFER`` until ``not_before`` (aware, UTC), or ``DROP`` for ``reason``."""

    verdict: Verdict
    reason: str
    not_before: datetime | None = None


def decide(
    channel: Channel,
    now: datetime,
    recipient: Recipient,
    sent: Sequence[datetime],
    rules: ContactRules = ContactRules(),
) -> Decision:
    """May a message on ``channel`` go to ``recipient`` at ``now``? ``sent``: when earlier SMS / calls
    went to this customer (any case), for the caps."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if recipient.do_not_contact:
        if recipient.do_not_contact_reason:
            return Decision(Verdict.DROP, f"do not contact: {recipient.do_not_contact_reason}")
        return Decision(Verdict.DROP, "customer is flagged do-not-contact")
    if channel == Channel.CALL and recipient.calls_quiet_until is not None and recipient.calls_quiet_until > now:
        return Decision(Verdict.DEFER, "quiet after a telephone conversation", recipient.calls_quiet_until)
    if channel in recipient.opted_out:
        return Decision(Verdict.DROP, f"customer opted out of {channel}")
    if recipient.complaint_open:
        return Decision(Verdict.DROP, "a complaint is open: contact is paused")
    if channel not in recipient.verified_channels:
        return Decision(Verdict.DROP, f"no verified {channel} contact of the borrower")
    zone = ZoneInfo(recipient.timezone)
    local = now.astimezone(zone)
    earliest = _next_window_opening(local, rules)
    if channel in CAPPED_CHANNELS:
        earliest = _after_caps(earliest, [s.astimezone(zone) for s in sent], rules)
    if earliest <= local:
        return Decision(Verdict.SEND, "inside the contact window and under the caps")
    reason = "outside the contact window" if not _in_window(local, rules) else "contact cap reached"
    return Decision(Verdict.DEFER, reason, earliest.astimezone(ZoneInfo("UTC")))


def first_window_moment(now: datetime, timezone: str, rules: ContactRules = ContactRules()) -> datetime:
    """``now`` if it is inside the contact window in ``timezone``, else the window's next opening (UTC).
    A message queued at night is queued for the morning: the dispatcher does not pick it up, defer it
    and pick it up again (the gate still decides when it is due)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _next_window_opening(now.astimezone(ZoneInfo(timezone)), rules).astimezone(ZoneInfo("UTC"))


def _in_window(local: datetime, rules: ContactRules) -> bool:
    return rules.window_start <= local.time() < rules.window_end


def _next_window_opening(local: datetime, rules: ContactRules) -> datetime:
    """``local`` itself when inside the window, else the next window start (local, aware)."""
    if _in_window(local, rules):
        return local
    day = local.date() if local.time() < rules.window_start else local.date() + timedelta(days=1)
    return datetime.combine(day, rules.window_start, tzinfo=local.tzinfo)


def _after_caps(candidate: datetime, sent: list[datetime], rules: ContactRules) -> datetime:
    """The first moment at or after ``candidate`` inside the window where both caps allow one more."""
    for _ in range(30):  # each step moves to a later day or a later expiry; 30 is far beyond any cap
        day_count = sum(1 for s in sent if s.date() == candidate.date())
        if day_count >= rules.max_per_day:
            nxt = datetime.combine(candidate.date() + timedelta(days=1), rules.window_start, tzinfo=candidate.tzinfo)
            candidate = _next_window_opening(nxt, rules)
            continue
        week = sorted(s for s in sent if candidate - timedelta(days=7) < s <= candidate)
        if len(week) >= rules.max_per_7_days:
            # wait until the oldest contact inside the 7 days leaves it
            freed = week[len(week) - rules.max_per_7_days] + timedelta(days=7)
            candidate = _next_window_opening(freed, rules)
            continue
        return candidate
    raise RuntimeError("contact caps never free up: check the rules")  # pragma: no cover
