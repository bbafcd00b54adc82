"""What a waiting case should hear when it wakes (or is re-evaluated): the event ``kind`` that the
state machine's routers read. Pure."""

from __future__ import annotations

from datetime import date

from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.plan_progress import PlanTiming, plan_status
from dueflow.domain.position import assess
from dueflow.workflow.definition import AWAIT_PLAN


def wake_kind(case: Case, loan: Loan, today: date, timing: PlanTiming) -> str:
    """``paused`` (a complaint is open), ``plan_completed`` / ``broken_promise`` / ``tick`` (a plan in
    force), ``cured`` (nothing overdue), else ``no_response``."""
    if case.complaint_open:
        return "paused"
    if case.waiting_state == AWAIT_PLAN and case.plan_accepted:
        status = plan_status(case, loan, today, timing)
        if status.completed:
            return "plan_completed"
        if status.broken:
            return "broken_promise"
        return "tick"
    if not assess(loan, today).dpd:
        return "cured"
    return "no_response"
