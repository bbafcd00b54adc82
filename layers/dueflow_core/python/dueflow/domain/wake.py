"""What a waiting case should hear when it wakes (or is re-evaluated): the event ``kind`` that the
state machine's routers read. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.plan_progress import PlanTiming, plan_status
from dueflow.domain.position import assess
from dueflow.workflow.definition import AWAIT_AGREEMENT, AWAIT_PLAN, AWAIT_RESPONSE, AWAIT_SECOND


@dataclass(frozen=True)
class Thresholds:
    """Days past due before a silent case may go to negotiation, and to legal review."""

    negotiation_dpd: int = 0
    legal_review_dpd: int = 90
    promise_grace_days: int = 3
    grace_days: int = 1  # a loan fewer days past due than this is not in collection (the scan's rule)

    def current(self, dpd: int) -> bool:
        """Is a loan ``dpd`` days past due current, or within the grace period?"""
        return dpd < max(self.grace_days, 1)


_BEFORE_PLAN = (AWAIT_RESPONSE, AWAIT_SECOND, AWAIT_AGREEMENT)
_BEFORE_AGREEMENT = (AWAIT_RESPONSE, AWAIT_SECOND)

# the stage a silent case's wait leads to, and the threshold that stage has
_NEXT_THRESHOLD = {AWAIT_SECOND: "negotiation_dpd", AWAIT_AGREEMENT: "legal_review_dpd"}


def wake_kind(case: Case, loan: Loan, today: date, timing: PlanTiming, thresholds: Thresholds = Thresholds()) -> str:
    """What the case's record says happened, for a wake-up or a re-evaluation: ``paused`` (a complaint is
    open), ``plan_accepted`` / ``plan_proposed`` (an API event whose answer the workflow never got),
    ``plan_completed`` (the plan paid and the loan current) /
    ``broken_promise`` / ``tick`` (a plan in force), ``cured`` (nothing overdue), ``promised`` (a
    promise to pay holds escalation), ``not_yet`` (silent, but the next stage's days-past-due threshold
    is not reached: the cadence goes on, unless the claim's limitation period is nearing its end), else
    ``no_response``."""
    if case.complaint_open:
        return "paused"
    if case.waiting_state == AWAIT_PLAN and case.plan_accepted:
        status = plan_status(case, loan, today, timing)
        if status.completed:
            # settled only when the loan itself is current by the ledger: arrears that fell due alongside
            # the plan and are still unpaid past the grace period make it a broken plan
            return "plan_completed" if thresholds.current(assess(loan, today).dpd) else "broken_promise"
        if status.broken:
            return "cured" if not assess(loan, today).dpd else "broken_promise"
        return "tick"
    if case.plan_in_force and case.waiting_state in _BEFORE_PLAN:
        # accepted while the workflow did not hear it (its answer was lost): the record says so. Checked
        # before "cured": a kept plan makes the loan current by the ledger, which is not a cure
        return "plan_accepted"
    dpd = assess(loan, today).dpd
    if not dpd:
        return "cured"
    if case.waiting_state in _BEFORE_AGREEMENT and case.plan is not None and case.plan.accepted_on is None:
        return "plan_proposed"
    if case.promise is not None and case.promise.pending(today, thresholds.promise_grace_days):
        return "promised"  # a promise to pay holds escalation until its date and grace have passed
    if case.limitation_flagged_on is not None:
        return "limitation_nearing"  # legal review now, from whichever wait, whatever the days past due
    threshold = _NEXT_THRESHOLD.get(case.waiting_state or "")
    if threshold is not None and dpd < getattr(thresholds, threshold):
        return "not_yet"
    return "no_response"


def threshold_date(case: Case, state: str, loan: Loan, today: date, thresholds: Thresholds) -> date | None:
    """When a case waiting in ``state`` reaches the days-past-due threshold of the stage that wait leads
    to, if that is still ahead (a stage escalates at the later of its timer and its threshold)."""
    threshold = _NEXT_THRESHOLD.get(state)
    if threshold is None:
        return None
    dpd = assess(loan, today).dpd
    needed = getattr(thresholds, threshold)
    return today + timedelta(days=needed - dpd) if 0 < dpd < needed else None


def legal_review_due(loan: Loan, today: date, thresholds: Thresholds, case: Case | None = None) -> bool:
    """Has the loan been past due long enough for legal review, or is the case's limitation period
    nearing its end (flagged: dueflow.services.limitation)?"""
    if case is not None and case.limitation_flagged_on is not None:
        return True
    return assess(loan, today).dpd >= thresholds.legal_review_dpd
