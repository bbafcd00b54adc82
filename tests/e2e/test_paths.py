"""The collection paths, end to end on the local runtime."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from dueflow.domain.audit_chain import verify_chain
from dueflow_local.runtime import LocalRuntime
from tests.e2e.conftest import borrower, sent_messages

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = "L1-2026-06-15"


def audit_ok(rt: LocalRuntime, case_id: str, loan_id: str = "L1") -> list[str]:
    case = rt.services.cases.require(case_id)
    objects = rt.services.audit_store.read_case(loan_id, case_id)
    report = verify_chain(case_id, objects, case.get("audit_head"))
    assert report.ok, report.problems
    return [key.rsplit("/", 1)[-1].split("-", 1)[1].removesuffix(".json") for key, _ in objects]


def test_path_1_pays_after_the_first_reminder_and_is_cured(runtime: LocalRuntime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    # Day 1 (DPD 2): the scan opens the case; the reminders go out when the window opens at 08:00
    rt.run_day(date(2026, 6, 17))
    assert rt.stages_entered(CASE)[:3] == ["Confirm overdue", "First contact", "Await response"]
    first = sent_messages(rt, CASE)
    assert [(m.channel, m.template, m.language) for m in first] == [
        ("email", "first_reminder", "zh-CN"),
        ("sms", "first_reminder", "zh-CN"),
    ]
    assert {m.sent_at.astimezone(SHANGHAI).strftime("%H:%M") for m in first} == {"08:00"}  # type: ignore[union-attr]
    # Day 2: the customer pays the total overdue at noon
    total = rt.services.cases.require(CASE)["statement"]["total_overdue"]
    rt.run_day(date(2026, 6, 18), [("12:00", lambda: rt.post_payment("L1", date(2026, 6, 18), "1100.00"))])
    assert total
    case = rt.services.cases.require(CASE)
    assert (case["status"], case["outcome"]) == ("CLOSED", "CURED")
    assert rt.execution(CASE)["status"] == "SUCCEEDED"
    assert rt.stages_entered(CASE)[-2:] == ["Closed: cured", "Closed: cured: done"]
    # no further message, ever
    rt.run_day(date(2026, 6, 19))
    assert len(sent_messages(rt, CASE)) == 2
    kinds = audit_ok(rt, CASE)
    assert kinds[0] == "case_opened" and kinds[-1] == "case_closed" and kinds.count("message_sent") == 2
    assert "payment_received" in kinds
