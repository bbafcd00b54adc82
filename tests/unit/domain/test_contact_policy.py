"""The contact policy gate: window, caps, opt-out, complaints, verified contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dueflow.domain.contact_policy import Channel, ContactRules, Recipient, Verdict, decide, first_window_moment

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL = frozenset(Channel)
CUSTOMER = Recipient(timezone="Asia/Shanghai", verified_channels=ALL)


def at(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_inside_the_window_sends_now() -> None:
    decision = decide(Channel.SMS, at("2026-07-01 10:00"), CUSTOMER, [])
    assert decision.verdict == Verdict.SEND and decision.not_before is None


def test_a_reminder_due_at_23_00_goes_out_at_08_00_next_morning() -> None:
    decision = decide(Channel.SMS, at("2026-07-01 23:00"), CUSTOMER, [])
    assert decision.verdict == Verdict.DEFER and decision.reason == "outside the contact window"
    assert decision.not_before == at("2026-07-02 08:00").astimezone(UTC)


def test_before_opening_waits_for_08_00_the_same_day_and_21_00_is_closed() -> None:
    assert decide(Channel.EMAIL, at("2026-07-01 07:59"), CUSTOMER, []).not_before == at("2026-07-01 08:00")
    assert decide(Channel.EMAIL, at("2026-07-01 21:00"), CUSTOMER, []).not_before == at("2026-07-02 08:00")
    assert decide(Channel.EMAIL, at("2026-07-01 20:59"), CUSTOMER, []).verdict == Verdict.SEND


def test_the_window_is_the_customers_local_time() -> None:
    london = Recipient(timezone="Europe/London", verified_channels=ALL)
    # 15:00 in Shanghai is 08:00 in London (BST, UTC+1): just open
    assert decide(Channel.SMS, at("2026-07-01 15:00"), london, []).verdict == Verdict.SEND
    deferred = decide(Channel.SMS, at("2026-07-01 14:59"), london, [])
    assert deferred.not_before == at("2026-07-01 08:00", ZoneInfo("Europe/London"))


def test_three_sms_today_defers_the_fourth_to_tomorrow() -> None:
    sent = [at("2026-07-01 09:00"), at("2026-07-01 11:00"), at("2026-07-01 13:00")]
    decision = decide(Channel.SMS, at("2026-07-01 15:00"), CUSTOMER, sent)
    assert decision.verdict == Verdict.DEFER and decision.reason == "contact cap reached"
    assert decision.not_before == at("2026-07-02 08:00")
    # email is not capped
    assert decide(Channel.EMAIL, at("2026-07-01 15:00"), CUSTOMER, sent).verdict == Verdict.SEND


def test_seven_in_seven_days_waits_for_the_oldest_to_age_out() -> None:
    sent = [at(f"2026-07-0{d} 10:00") for d in range(1, 8)]  # one a day, 1st..7th
    decision = decide(Channel.CALL, at("2026-07-07 16:00"), CUSTOMER, sent)
    # the 1st's contact leaves the 7 days at 2026-07-08 10:00
    assert decision.verdict == Verdict.DEFER and decision.not_before == at("2026-07-08 10:00")


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [
        (Recipient("Asia/Shanghai", ALL, opted_out=frozenset({Channel.SMS})), "opted out of sms"),
        (Recipient("Asia/Shanghai", ALL, do_not_contact=True), "do-not-contact"),
        (Recipient("Asia/Shanghai", ALL, complaint_open=True), "complaint is open"),
        (Recipient("Asia/Shanghai", frozenset({Channel.EMAIL})), "no verified sms contact"),
    ],
)
def test_never_contact_after_opt_out_complaint_or_to_unverified_contacts(recipient: Recipient, reason: str) -> None:
    decision = decide(Channel.SMS, at("2026-07-01 10:00"), recipient, [])
    assert decision.verdict == Verdict.DROP and reason in decision.reason


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(Channel.SMS, datetime(2026, 7, 1, 10), CUSTOMER, [])


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
    offsets=st.lists(st.integers(min_value=-7 * 24 * 60, max_value=0), max_size=12),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/London", "America/New_York"]),
    channel=st.sampled_from(list(Channel)),
)
def test_what_is_sent_or_deferred_lands_inside_the_window_and_under_the_caps(
    now: datetime, offsets: list[int], zone: str, channel: Channel
) -> None:
    rules = ContactRules()
    recipient = Recipient(zone, ALL)
    sent = [now + timedelta(minutes=m) for m in offsets]
    decision = decide(channel, now, recipient, sent, rules)
    assert decision.verdict in (Verdict.SEND, Verdict.DEFER)
    when = now if decision.verdict == Verdict.SEND else decision.not_before
    assert when is not None and when >= now
    local = when.astimezone(ZoneInfo(zone))
    assert rules.window_start <= local.time() < rules.window_end
    # deferring is stable: asked again at the deferred time, with the same history, the gate says send
    assert decide(channel, when, recipient, sent, rules).verdict == Verdict.SEND


def test_a_message_queued_at_night_is_queued_for_the_window_opening_in_the_customer_zone() -> None:
    night = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai, 19:00 in London
    assert first_window_moment(night, "Asia/Shanghai") == datetime(2026, 6, 2, 0, 0, tzinfo=UTC)  # 08:00 local
    assert first_window_moment(night, "Europe/London") == night  # inside the London window: at once
    late = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)  # 22:30 in London: after the window
    assert first_window_moment(late, "Europe/London") == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
