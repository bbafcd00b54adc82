"""Each invariant of a run finds the violation planted in an otherwise clean set of facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dueflow.domain.loan import Customer, Loan, Payment
from dueflow.settings import Settings
from dueflow_local.invariants import Facts, audited_states, check
from dueflow_local.meter import Delivery
from tests.e2e.conftest import borrower
from tests.property.strategies import loans

CASE = "L1-2026-06-15"
PHONE = "+8613800138000"
DAYS = [date(2026, 6, 10) + timedelta(days=i) for i in range(21)]  # first installment due 06-15


def at(day: int, hour: int) -> datetime:
    """``hour`` o'clock Shanghai time on June ``day``, as UTC."""
    return datetime(2026, 6, day, hour - 8, tzinfo=UTC)


def clean(**changes: Any) -> Facts:
    loan = borrower("L1")
    case = {"case_id": CASE, "loan_id": "L1", "status": "OPEN", "opened_on": "2026-06-16", "wake_on": "2026-07-01"}
    facts = Facts(
        settings=Settings(environment="test"),
        days=DAYS,
        book=[loan],
        final={"L1": loan},
        cases=[case],
        executions={CASE: "RUNNING"},
        parked={CASE},
        entered={CASE: ["Confirm overdue", "Route", "Await response"]},
        audit_ok={CASE: True},
        audit_stages={CASE: {"confirm", "Await response"}},
        deliveries=[Delivery(at(16, 10), "sms", PHONE, "reminder"), Delivery(at(16, 10), "call", CASE, "first")],
        audited_states={"Confirm overdue": "confirm", "Await response": "Await response"},
        ended=at(30, 23),
    )
    facts = replace(facts, **changes)
    if "outbox" not in changes:  # one SENT message on the record for each delivery
        facts.outbox = [
            {
                "message_id": f"m{i}",
                "case_id": CASE,
                "channel": d.channel,
                "status": "SENT",
                "not_before": d.at.isoformat(),
            }
            for i, d in enumerate(facts.deliveries)
        ]
        facts.audit_messages = {CASE: {f"m{i}" for i in range(len(facts.deliveries))}}
    return facts


def outbox_item(message_id: str, channel: str, status: str, not_before: datetime) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "case_id": CASE,
        "channel": channel,
        "status": status,
        "not_before": not_before.isoformat(),
    }


def violations(facts: Facts) -> dict[str, int]:
    return {k: v["violations"] for k, v in check(facts).items() if isinstance(v, dict) and v["violations"]}


def test_clean_facts_hold() -> None:
    result = check(clean())
    assert result["violations_total"] == 0, result


def test_a_loan_cured_the_day_before_the_scan_needs_no_case() -> None:
    paid = borrower("L1").model_copy(update={"payments": (Payment(date=date(2026, 6, 15), amount="1100.00"),)})
    assert violations(clean(final={"L1": paid}, cases=[], executions={})) == {}
    # ... but the case that was opened all the same is reported
    assert violations(clean(final={"L1": paid})) == {"one_case_per_episode": 1}


@pytest.mark.parametrize(
    ("changes", "broken"),
    [
        ({"cases": []}, ("one_case_per_episode", "no_loan_left_behind")),  # overdue from 06-16 with no case
        (
            {
                "cases": [
                    {
                        "case_id": CASE,
                        "loan_id": "L1",
                        "status": "CLOSED",
                        "opened_on": "2026-06-16",
                        "closed_on": "2026-06-20",
                    },
                    {
                        "case_id": "L1-b",
                        "loan_id": "L1",
                        "status": "CLOSED",
                        "opened_on": "2026-06-21",
                        "closed_on": "2026-06-25",
                    },
                ],
                "executions": {CASE: "SUCCEEDED", "L1-b": "SUCCEEDED"},
                "audit_ok": {CASE: True, "L1-b": True},
            },
            # two cases in one episode, and the day between them (06-20) the overdue loan had none
            ("one_case_per_episode", "no_loan_left_behind"),
        ),
        (  # closed SETTLED on 06-20 while the loan was still overdue, and no case since: left behind
            {
                "cases": [
                    {
                        "case_id": CASE,
                        "loan_id": "L1",
                        "status": "CLOSED",
                        "outcome": "SETTLED",
                        "opened_on": "2026-06-16",
                        "closed_on": "2026-06-20",
                    }
                ],
                "executions": {CASE: "SUCCEEDED"},
            },
            "no_loan_left_behind",
        ),
        (  # handed over to litigation: the loan is no longer collection's to chase
            {
                "cases": [
                    {
                        "case_id": CASE,
                        "loan_id": "L1",
                        "status": "CLOSED",
                        "outcome": "LITIGATION",
                        "opened_on": "2026-06-16",
                        "closed_on": "2026-06-20",
                    }
                ],
                "executions": {CASE: "SUCCEEDED"},
            },
            None,
        ),
        ({"executions": {CASE: "FAILED"}}, "no_stuck_case"),
        ({"parked": set()}, "no_stuck_case"),
        ({"cases": [{"case_id": CASE, "loan_id": "L1", "status": "OPEN", "opened_on": "2026-06-16"}]}, "no_stuck_case"),
        (
            {"deliveries": [Delivery(at(16, 10), "sms", PHONE, "x"), Delivery(at(16, 15), "sms", PHONE, "x")]},
            "no_duplicate_message",
        ),
        ({"deliveries": [Delivery(at(16, 22), "email", "l1@example.com", "late")]}, "contact_window"),
        ({"deliveries": [Delivery(at(16, 9 + i), "sms", PHONE, f"m{i}") for i in range(4)]}, "contact_caps"),
        (
            {"deliveries": [Delivery(at(16 + i // 2, 10 + i % 2), "sms", PHONE, f"m{i}") for i in range(8)]},
            "contact_caps",
        ),
        ({"opt_outs": {CASE: [("sms", at(16, 9))]}}, "opt_outs_respected"),  # an SMS at 10:00 after it
        ({"opt_outs": {CASE: [("call", at(16, 9))]}}, "opt_outs_respected"),
        ({"opt_outs": {CASE: [("sms", at(16, 11)), ("email", at(16, 9))]}}, None),  # after the SMS; no e-mail
        ({"audit_ok": {CASE: False}}, "audit_complete"),
        ({"audit_stages": {CASE: {"confirm"}}}, "audit_complete"),
        ({"baseline": {CASE: "CURED"}}, "outcomes_match_baseline"),
        (  # a sent message with no audit record
            {
                "outbox": [outbox_item("m0", "sms", "SENT", at(16, 10)), outbox_item("m1", "call", "SENT", at(16, 10))],
                "audit_messages": {CASE: {"m1"}},
            },
            "messages_on_record",
        ),
        (  # the SMS went out, its dispatcher stopped, and nobody settled it after the lease
            {
                "outbox": [
                    outbox_item("m0", "sms", "SENDING", at(16, 10)),
                    outbox_item("m1", "call", "SENT", at(16, 10)),
                ],
                "audit_messages": {CASE: {"m1"}},
            },
            "messages_on_record",
        ),
        (  # the provider accepted an SMS the outbox knows nothing of
            {"outbox": [outbox_item("m1", "call", "SENT", at(16, 10))], "audit_messages": {CASE: {"m1"}}},
            "messages_on_record",
        ),
        (  # settled as unconfirmed and on the record: fine (the contact caps still count it)
            {
                "outbox": [
                    outbox_item("m0", "sms", "UNCONFIRMED", at(16, 10)),
                    outbox_item("m1", "call", "SENT", at(16, 10)),
                ],
                "audit_messages": {CASE: {"m0", "m1"}},
            },
            None,
        ),
    ],
)
def test_each_invariant_finds_its_violation(changes: dict[str, Any], broken: str | tuple[str, ...] | None) -> None:
    found = violations(clean(**changes))
    expected = {broken} if isinstance(broken, str) else set(broken or ())
    assert set(found) == expected, found


def test_a_loan_left_behind_is_named_with_each_day() -> None:
    closed = {
        "case_id": CASE,
        "loan_id": "L1",
        "status": "CLOSED",
        "outcome": "SETTLED",
        "opened_on": "2026-06-16",
        "closed_on": "2026-06-28",
    }
    result = check(clean(cases=[closed], executions={CASE: "SUCCEEDED"}))["no_loan_left_behind"]
    assert result["violations"] == 3  # the ends of 06-28, 06-29 and 06-30
    assert result["examples"][0] == "loan L1: 13 days past due at the end of 2026-06-28, no case"


def test_the_audited_states_come_from_the_definition() -> None:
    definition = {
        "States": {
            "Confirm overdue": {"Parameters": {"FunctionName": "stage", "Payload": {"stage": "confirm"}}},
            "Re-evaluate": {"Parameters": {"FunctionName": "stage", "Payload": {"stage": "reevaluate"}}},
            "Await response": {"Parameters": {"FunctionName": "wait", "Payload": {}}},
            "Route": {"Type": "Choice"},
        }
    }
    assert audited_states(definition, "stage", "wait") == {
        "Confirm overdue": "confirm",
        "Await response": "Await response",
    }


def test_a_cure_then_the_next_installment_overdue_is_a_new_episode_but_a_partial_payment_is_not() -> None:
    """Paid up on 07-15 (the day installment 2 falls due), overdue again on 07-16: two episodes, two
    cases. Had the payment not brought it up to date, a second case would be one too many."""
    days = [date(2026, 7, 10) + timedelta(days=i) for i in range(11)]

    def cases(second_opened: str) -> list[dict[str, Any]]:
        return [
            {
                "case_id": CASE,
                "loan_id": "L1",
                "status": "CLOSED",
                "opened_on": "2026-06-16",
                "closed_on": "2026-07-15",
            },
            {
                "case_id": "L1-2026-07-15",
                "loan_id": "L1",
                "status": "OPEN",
                "opened_on": second_opened,
                "wake_on": "2026-08-01",
            },
        ]

    executions = {CASE: "SUCCEEDED", "L1-2026-07-15": "RUNNING"}
    base = {"days": days, "executions": executions, "parked": {"L1-2026-07-15"}, "entered": {}, "deliveries": []}
    base["audit_ok"] = {CASE: True, "L1-2026-07-15": True}
    cured = borrower("L1").model_copy(update={"payments": (Payment(date=date(2026, 7, 15), amount="1200.00"),)})
    assert violations(clean(final={"L1": cured}, cases=cases("2026-07-16"), **base)) == {}
    partial = borrower("L1").model_copy(update={"payments": (Payment(date=date(2026, 7, 15), amount="500.00"),)})
    # ... and the first case closed on 07-15 with the loan still overdue: that day it had none
    assert violations(clean(final={"L1": partial}, cases=cases("2026-07-16"), **base)) == {
        "one_case_per_episode": 1,
        "no_loan_left_behind": 1,
    }


@settings(max_examples=100, deadline=None)
@given(loan=loans(max_term=12, max_payments=10), offset=st.integers(min_value=0, max_value=400))
def test_the_past_grace_walk_asks_the_engine_only_when_the_answer_can_change(loan: Loan, offset: int) -> None:
    """The invariants skip the days on which nothing can change; the answer is the every-day walk's."""
    from dueflow.domain.position import assess
    from dueflow_local.invariants import _past_grace

    days = [loan.start_date + timedelta(days=offset + i) for i in range(60)]
    settings = Settings()
    for customer in (None, {"timezone": "America/New_York"}):
        # a New York customer's loan is seen on its own calendar: at the 02:00 Shanghai scan, the day before
        lag = timedelta(days=1 if customer else 0)
        subject = loan.model_copy(update={"customer": Customer.model_validate(customer) if customer else None})
        for scan_view in (False, True):
            expected = {}
            for day in days:
                seen = [p for p in loan.payments if (p.date < day if scan_view else p.date <= day)]
                # the oldest installment unpaid by then, counted on the loan's calendar
                dpd = assess(loan.model_copy(update={"payments": tuple(seen)}), day).dpd
                if dpd and dpd - lag.days >= 2:
                    expected[day] = dpd - lag.days
            assert _past_grace(subject, days, 2, scan_view, settings) == expected


def test_an_episode_starts_after_the_payable_day_of_a_due_date_on_a_holiday() -> None:
    """cn holiday grace: installment 1 is due Saturday 2026-10-03 (National Day) and payable 10-08, so
    the loan is first overdue on 10-09 and the case opened that day is the episode's, not one opened on a
    day the loan was not overdue (the invariant reads the pack's calendar, as the engine does)."""
    loan = borrower("L1", start_date="2026-09-03", rules="cn")
    days = [date(2026, 9, 28) + timedelta(days=i) for i in range(20)]
    case_id = "L1-2026-10-09"
    case = {"case_id": case_id, "loan_id": "L1", "status": "OPEN", "opened_on": "2026-10-09", "wake_on": "2026-10-20"}
    facts = clean(
        days=days,
        book=[loan],
        final={"L1": loan},
        cases=[case],
        executions={case_id: "RUNNING"},
        parked={case_id},
        entered={case_id: ["Confirm overdue"]},
        audit_ok={case_id: True},
        audit_stages={case_id: {"confirm"}},
        deliveries=[],
        ended=datetime(2026, 10, 17, 12, tzinfo=UTC),
    )
    assert violations(facts) == {}
    # and a case opened on the due date itself (a holiday, nothing overdue yet) is still caught
    early = {**case, "opened_on": "2026-10-04"}
    assert violations(replace(facts, cases=[early])) == {"one_case_per_episode": 1}


def test_no_message_reaches_an_emergency_contact_or_a_guarantor_the_pack_excludes() -> None:
    """A third party is never contacted (银保监规〔2022〕13号, 15 U.S.C. 1692c(b)): an emergency contact
    never; a guarantor only as the loan's rule pack allows (cn: a joint guarantor, from 30 days past due)."""
    loan = borrower(
        "L1",
        rules="cn",
        emergency_contact={"name": "李四", "phone": "+8613900000001", "relationship": "brother"},
        guarantor={"liability": "joint_several", "phone": "+8613900000002"},
    )
    base = {"book": [loan], "final": {"L1": loan}}
    assert violations(clean(**base)) == {}
    to_emergency = Delivery(at(20, 10), "sms", "+8613900000001", "reminder")
    to_guarantor = Delivery(at(20, 11), "sms", "+8613900000002", "guarantor notice")
    found = check(clean(deliveries=[*clean().deliveries, to_emergency, to_guarantor], **base))
    assert found["no_third_party_contact"]["violations"] == 2  # a guarantor at 5 days past due is too early
    assert "its emergency contact was sent an sms" in found["no_third_party_contact"]["examples"][0]
    # 30 days past due (installment 1 due 06-15, on 07-15) the joint guarantor may hear; a general one never
    late = Delivery(datetime(2026, 7, 15, 2, tzinfo=UTC), "sms", "+8613900000002", "guarantor notice")
    days = [date(2026, 6, 10) + timedelta(days=i) for i in range(40)]
    assert violations(clean(deliveries=[*clean().deliveries, late], days=days, ended=late.at, **base)) == {}
    general = loan.model_copy(update={"guarantor": loan.guarantor.model_copy(update={"liability": "general"})})  # type: ignore[union-attr]
    later = clean(
        deliveries=[*clean().deliveries, late], days=days, ended=late.at, book=[general], final={"L1": general}
    )
    assert violations(later) == {"no_third_party_contact": 1}
