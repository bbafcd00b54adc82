"""Where an accepted repayment plan stands on a day: paid so far, the next installment, whether it is
broken (an obligation unpaid past the grace period), whether a progress notice is due, and when the
case should next wake.

Pure: the plan is read from the loan's ledger (the restructuring booked when it was accepted), where the
position engine decides what a payment pays; amounts in the loan's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.position import PlanPosition, assess


@dataclass(frozen=True)
class PlanTiming:
    """Days: reminders before an installment, grace after one before the plan counts as broken, and
    the period of progress notices."""

    reminder_days_before: int = 3
    broken_grace_days: int = 3
    progress_every_days: int = 14


@dataclass(frozen=True)
class PlanStatus:
    paid: Decimal
    remaining: Decimal
    next_installment: tuple[int, date, Decimal] | None  # (seq, due date, amount still owed on it)
    broken: bool
    completed: bool
    progress_due: bool
    progress_period: int
    next_event_on: date | None


def plan_reference(case: Case) -> str:
    """The reference under which a case's plan is booked on the loan's ledger."""
    version = case.plan.version if case.plan is not None else 0
    return f"{case.case_id}:plan:{version}"


def plan_status(case: Case, loan: Loan, today: date, timing: PlanTiming) -> PlanStatus:
    """The status of ``case``'s accepted plan on ``today``, as the loan's ledger has it: what went to the
    arrears the plan covers, its next installment, broken or completed (see ``Restructuring``)."""
    plan = case.plan
    if plan is None or plan.accepted_on is None:
        raise ValueError(f"case {case.case_id} has no accepted plan")
    accepted = plan.accepted_on
    position = assess(loan, today)
    booked = position.plan_for(plan_reference(case))
    if booked is None:
        # accepted on the case, not yet on the ledger (the booking is retried with the acceptance, or the
        # loan read is older than the booking): as accepted, nothing paid towards it yet
        first = plan.installments[0]
        booked = PlanPosition(
            reference=plan_reference(case),
            accepted_on=accepted,
            covered=plan.total,
            paid=Decimal(0),
            next_installment=(first.seq, first.due_date, first.amount),
            broken_on=None,
            completed_on=None,
            superseded_on=None,
        )
    next_installment = booked.next_installment
    period = (today - accepted).days // timing.progress_every_days
    candidates = []
    if next_installment is not None and booked.in_force:
        _, due_on, _ = next_installment
        remind_on = due_on - timedelta(days=timing.reminder_days_before)
        candidates += [d for d in (remind_on, due_on + timedelta(days=timing.broken_grace_days + 1)) if d > today]
        # the regular installments paid alongside break the plan as well when unpaid past the grace
        regular = [position.next_due_date] if position.next_due_date is not None else []
        if position.dpd:
            regular.append(today - timedelta(days=position.dpd))
        candidates += [d + timedelta(days=timing.broken_grace_days + 1) for d in regular]
        candidates = [d for d in candidates if d > today]
    candidates.append(accepted + timedelta(days=timing.progress_every_days * (period + 1)))
    return PlanStatus(
        paid=booked.paid,
        remaining=booked.remaining,
        next_installment=next_installment,
        broken=booked.broken_on is not None or booked.superseded_on is not None,
        completed=booked.completed_on is not None,
        progress_due=period >= 1 and period > case.progress_notices,
        progress_period=period,
        next_event_on=min(candidates) if candidates else None,
    )
