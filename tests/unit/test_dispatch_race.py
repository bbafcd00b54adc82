"""A complaint opened after the contact gate passed a message but before the message was claimed stops
it: nothing goes out, and the case's record shows the complaint and then the message dropped for it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.outbox import Message
from dueflow.services.case_actions import Caller, open_complaint
from dueflow.services.dispatch import run_dispatch
from dueflow.settings import Settings
from dueflow_local.memory import Wire
from dueflow_local.memory_runtime import memory_services

NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CASE = "L1-2026-06-15"


def test_a_complaint_between_the_gate_and_the_claim_stops_the_message() -> None:
    clock.set_clock(lambda: NOON)
    try:
        services = memory_services(Settings(environment="race", index_shards=2), Wire())
        loan = Loan.model_validate(
            {
                "loan_id": "L1",
                "customer_id": "C1",
                "principal": "12000.00",
                "annual_rate": "0.12",
                "term_months": 12,
                "start_date": "2026-05-15",
                "customer": {"phone": "+8613800138000", "timezone": "Asia/Shanghai"},
            }
        )
        services.loans.put([loan], date(2026, 7, 1))
        services.cases.create(Case(case_id=CASE, loan_id="L1", customer_id="C1", opened_on=date(2026, 6, 16)))
        message = Message(f"{CASE}:first_reminder:sms", CASE, "L1", "C1", "sms", "first_reminder", "en", NOON)
        message.values = {"ref": "0001", "amount": "10.00", "currency": "CNY", "due_date": "2026-06-15"}
        services.outbox.enqueue(message)
        claim = services.outbox.claim

        def claim_then_complaint(message_id: str, now: datetime) -> bool:
            claimed = claim(message_id, now)
            open_complaint(services, Caller("complaints-channel", frozenset(), system=True), CASE)  # the race
            return claimed

        services.outbox.claim = claim_then_complaint  # type: ignore[method-assign]
        first = run_dispatch(services, NOON)
        services.outbox.claim = claim  # type: ignore[method-assign]
        second = run_dispatch(services, NOON)
        sent: list[Any] = services.notifier.sent  # type: ignore[attr-defined]
        records = [json.loads(data)["type"] for _, data in services.audit_store.read_case("L1", CASE)]
    finally:
        clock.reset_clock()
    assert (first.sent, second.sent, second.dropped, second.deferred) == (0, 0, 0, 1)
    assert [m for m in sent if m.get("PhoneNumber")] == []  # nothing reached the customer
    # the first reminder is a notice the law requires: held until the complaint is resolved, not dropped
    held = services.outbox.get(f"{CASE}:first_reminder:sms")
    assert held is not None and held.status == "PENDING" and held.not_before > NOON
    assert records == ["complaint_opened"]
