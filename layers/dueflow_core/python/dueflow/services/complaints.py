"""Complaints past their resolution deadline (``complaint_resolution_days`` after opening, 15 by default).

The daily scan reads the sparse complaint-index shard by shard. Each open complaint whose deadline has
passed is escalated once: a ``complaint_escalated`` record on the case (its audit chain) and a notice to
the supervisors on the internal topic. Every one still open past its deadline is counted each day
(``ComplaintsPastDeadline``), which the operations alarm reads until the complaint is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dueflow import clock
from dueflow.services import audit_log
from dueflow.services.context import Services


@dataclass
class ComplaintCheck:
    past_deadline: int = 0  # open complaints whose deadline has passed (each day until resolved)
    escalated: int = 0  # of those, escalated by this run (once per complaint)


def escalate_overdue_complaints(services: Services, as_of: date, shard: int | None = None) -> ComplaintCheck:
    """Escalate every open complaint whose deadline is before ``as_of`` (safe to run again: the record
    is deduplicated, the notice goes out while the case does not yet carry ``complaint_escalated_on``)."""
    check = ComplaintCheck()
    for case_id in list(services.cases.complaints_due(as_of - timedelta(days=1), shard)):
        case = services.cases.get(case_id)
        if case is None or not case.complaint_open or case.complaint_deadline is None:
            continue
        if case.complaint_deadline >= as_of:
            continue
        check.past_deadline += 1
        if case.complaint_escalated_on is not None:
            continue
        body = {
            "deadline": case.complaint_deadline.isoformat(),
            "opened_on": case.complaint_opened_on.isoformat() if case.complaint_opened_on else None,
            "days_past_deadline": (as_of - case.complaint_deadline).days,
            "escalated_to": "supervisor",
        }
        dedupe = f"complaint:{case.complaints or 1}:escalated"
        audit_log.append(services, case_id, "complaint_escalated", clock.now(), body, dedupe=dedupe)
        services.notifier.notify_staff(
            "DueFlow: complaint past its resolution deadline",
            {"type": "complaint_overdue", "case_id": case_id, "deadline": body["deadline"]},
        )
        services.cases.update(case_id, {"complaint_escalated_on": as_of.isoformat()}, expect={"complaint_open": True})
        check.escalated += 1
    return check
