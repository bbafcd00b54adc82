"""The cases table and the outbox on moto: conditional writes make every step safe to retry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dueflow.adapters.case_repository import CaseRepository
from dueflow.adapters.outbox import Message, Outbox
from dueflow.domain.case import Case

T = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def case(case_id: str = "L1-2026-06-15", **extra: Any) -> Case:
    fields = {"case_id": case_id, "loan_id": "L1", "opened_on": date(2026, 7, 1), "stage": "Confirm overdue"}
    return Case.model_validate(fields | extra)


def test_a_case_is_created_once(ddb: Any) -> None:
    cases = CaseRepository(ddb, "dueflow-test-cases", shards=4)
    assert cases.create(case()) is True
    assert cases.create(case(stage="changed")) is False
    assert cases.require("L1-2026-06-15").stage == "Confirm overdue"
    assert cases.open_case_for_loan("L1").case_id == "L1-2026-06-15"  # type: ignore[union-attr]


def test_parked_cases_wake_by_date_and_a_token_resumes_only_once(ddb: Any) -> None:
    cases = CaseRepository(ddb, "dueflow-test-cases", shards=4)
    for n, wake in enumerate([date(2026, 7, 8), date(2026, 7, 20)]):
        cases.create(case(f"C{n}"))
        cases.park(f"C{n}", f"token-{n}", "Await response", wake)
    assert list(cases.wakeups_due(date(2026, 7, 7))) == []
    assert list(cases.wakeups_due(date(2026, 7, 8))) == ["C0"]
    assert sorted(cases.wakeups_due(date(2026, 7, 31))) == ["C0", "C1"]
    assert cases.unpark("C0", "token-0") is True
    assert cases.unpark("C0", "token-0") is False  # a second resume with the same token is refused
    assert cases.require("C0").task_token is None and list(cases.wakeups_due(date(2026, 7, 8))) == []


def test_a_closed_case_cannot_be_parked(ddb: Any) -> None:
    cases = CaseRepository(ddb, "dueflow-test-cases", shards=4)
    cases.create(case(status="CLOSED"))
    cases.park("L1-2026-06-15", "t", "Await response", date(2026, 7, 8))
    assert cases.require("L1-2026-06-15").task_token is None


def test_contact_log_keeps_a_week(ddb: Any) -> None:
    cases = CaseRepository(ddb, "dueflow-test-cases", shards=4)
    for days in (10, 6, 1, 0):
        cases.add_contact("C9", T - timedelta(days=days))
    assert cases.contacts("C9") == [T - timedelta(days=d) for d in (6, 1, 0)]


def message(mid: str = "m1", minutes: int = 0) -> Message:
    return Message(
        mid, "C1", "L1", "CU1", "sms", "first_reminder", "zh-CN", T + timedelta(minutes=minutes), {"amount": "1.00"}
    )


def test_outbox_queues_once_and_hands_out_due_messages(ddb: Any) -> None:
    outbox = Outbox(ddb, "dueflow-test-outbox", shards=4)
    assert outbox.enqueue(message("m1")) is True
    assert outbox.enqueue(message("m1")) is False
    outbox.enqueue(message("m2", minutes=30))
    assert list(outbox.due(T)) == ["m1"]
    assert sorted(outbox.due(T + timedelta(hours=1))) == ["m1", "m2"]
    back = outbox.get("m1")
    assert back is not None and back.values == {"amount": "1.00"} and back.not_before == T


def test_a_message_is_claimed_once_then_sent_deferred_or_dropped(ddb: Any) -> None:
    outbox = Outbox(ddb, "dueflow-test-outbox", shards=4)
    for mid in ("a", "b", "c"):
        outbox.enqueue(message(mid))
    assert outbox.claim("a", T) is True and outbox.claim("a", T) is False
    assert outbox.sent("a", T, "provider-1") is True and outbox.sent("a", T, "provider-2") is False
    assert outbox.defer("b", T + timedelta(hours=6)) is True
    assert sorted(outbox.due(T)) == ["a", "c"]  # a: sent, its record not yet complete
    assert outbox.drop("c", "case closed") is True and outbox.claim("c", T) is False
    assert [outbox.get(m).status for m in "abc"] == ["SENT", "PENDING", "DROPPED"]  # type: ignore[union-attr]
    assert sorted(outbox.due(T + timedelta(days=1))) == ["a", "b"]  # a: its record not yet complete
    assert outbox.recorded("a", "SENT") is True
    assert list(outbox.due(T + timedelta(days=1))) == ["b"]
