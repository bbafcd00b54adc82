"""A complaint left open past its resolution deadline is escalated: once, on the case's record and to
the supervisors, and counted every day it stays open (the alarm reads that count: tests/infra)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower
from tests.e2e.test_paths import audit_ok

CASE = "L1-2026-06-15"
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}


def record_types(rt: Runtime) -> list[str]:
    return audit_ok(rt, CASE)  # the chain verifies, and the records' types in order


def test_an_open_complaint_past_its_deadline_is_escalated_once_and_counted_until_resolved(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    rt.run_day(date(2026, 6, 18), [("09:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints", system=True))])
    deadline = rt.services.cases.require(CASE).complaint_deadline
    assert deadline == date(2026, 6, 18) + timedelta(days=rt.settings.complaint_resolution_days)

    def day_of(day: date) -> dict[str, Any]:
        report = rt.scan(day)
        rt.dispatch_through(rt.local(day, "23:59"))
        return report

    first = date(2026, 6, 19)
    quiet = [day_of(first + timedelta(days=n)) for n in range((deadline - first).days + 1)]  # to the deadline
    assert [r["complaints_past_deadline"] for r in quiet] == [0] * len(quiet)
    assert "complaint_escalated" not in record_types(rt)
    assert not [n for n in rt.staff_notices() if n["type"] == "complaint_overdue"]
    past = [day_of(deadline + timedelta(days=n)) for n in (1, 2, 3)]  # three scans after it, one complaint
    assert [r["complaints_past_deadline"] for r in past] == [1, 1, 1]
    assert [r["complaints_escalated"] for r in past] == [1, 0, 0]
    overdue = [n for n in rt.staff_notices() if n["type"] == "complaint_overdue"]
    assert overdue == [
        {
            "subject": "DueFlow: complaint past its resolution deadline",
            "type": "complaint_overdue",
            "case_id": CASE,
            "deadline": deadline.isoformat(),
        }
    ]
    assert record_types(rt).count("complaint_escalated") == 1
    record = rt.services.audit_store.read_case("L1", CASE)
    escalated = [body for key, body in record if key.endswith("-complaint_escalated.json")]
    assert b'"days_past_deadline":1' in escalated[0].replace(b" ", b"")
    assert rt.services.cases.require(CASE).complaint_escalated_on == deadline + timedelta(days=1)
    # resolved: off the complaint-index, no longer counted
    after = deadline + timedelta(days=4)
    rt.run_day(after, [("10:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints/resolve", **SUPERVISOR))])
    assert day_of(after + timedelta(days=1))["complaints_past_deadline"] == 0
    assert record_types(rt).count("complaint_escalated") == 1
