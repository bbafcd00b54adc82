"""Where an accepted repayment plan stands on a day: paid so far, the next installment, whether one is
missed past the grace period, whether a progress notice is due, and when the case should next wake.

Pure: the plan, the loan's payments and the plan timing in; amounts in the loan's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dueflow.domain.case import Case
from dueflow.domain.loan import Loan


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


def plan_status(case: Case, loan: Loan, today: date, timing: PlanTiming) -> PlanStatus:
    """The status of ``case``'s accepted plan on ``today`` (payments since acceptance count)."""
    plan = case.plan
    if plan is None or plan.accepted_on is None:
        raise ValueError(f"case {case.case_id} has no accepted plan")
    accepted = plan.accepted_on
    paid = sum((p.amount for p in loan.payments if accepted <= p.date <= today), Decimal(0))
    cumulative = Decimal(0)
    next_installment = None
    broken = False
    for installment in plan.installments:
        cumulative += installment.amount
        if paid < cumulative:
            owed = cumulative - paid if cumulative - paid < installment.amount else installment.amount
            next_installment = (installment.seq, installment.due_date, owed)
            broken = today > installment.due_date + timedelta(days=timing.broken_grace_days)
            break
    period = (today - accepted).days // timing.progress_every_days
    candidates = []
    if next_installment is not None:
        _, due_on, _ = next_installment
        remind_on = due_on - timedelta(days=timing.reminder_days_before)
        candidates += [d for d in (remind_on, due_on + timedelta(days=timing.broken_grace_days + 1)) if d > today]
    candidates.append(accepted + timedelta(days=timing.progress_every_days * (period + 1)))
    return PlanStatus(
        paid=paid,
        remaining=max(plan.total - paid, Decimal(0)),
        next_installment=next_installment,
        broken=broken,
        completed=paid >= plan.total,
        progress_due=period >= 1 and period > case.progress_notices,
        progress_period=period,
        next_event_on=min(candidates) if candidates else None,
    )
