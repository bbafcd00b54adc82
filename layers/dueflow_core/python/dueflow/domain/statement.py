"""The itemised overdue statement (逾期账单) as a JSON-ready dict: amounts as 2-place decimal strings."""

from __future__ import annotations

from typing import Any

from dueflow.domain.money import fmt
from dueflow.domain.position import PlanPosition, Position, StatementLine


def line_dict(line: StatementLine) -> dict[str, Any]:
    return {
        "seq": line.seq,
        "due_date": line.due_date.isoformat(),
        # under a rule pack's holiday grace: the next working day, when penalty and days overdue start
        "payable_on": (line.payable_on or line.due_date).isoformat(),
        "days_overdue": line.days_overdue,
        "principal_due": fmt(line.principal_due),
        "interest_due": fmt(line.interest_due),
        "principal_paid": fmt(line.principal_paid),
        "interest_paid": fmt(line.interest_paid),
        "principal_outstanding": fmt(line.principal_outstanding),
        "interest_outstanding": fmt(line.interest_outstanding),
        "penalty_accrued": fmt(line.penalty_accrued),
        # its two parts: 罚息 on overdue principal, 复利 on overdue interest (same daily rate)
        "penalty_on_principal_accrued": fmt(line.penalty_on_principal_accrued),
        "compound_interest_accrued": fmt(line.compound_interest_accrued),
        "penalty_paid": fmt(line.penalty_paid),
        "penalty_outstanding": fmt(line.penalty_outstanding),
        "penalty_waived": fmt(line.penalty_waived),
        "interest_waived": fmt(line.interest_waived),
        "total_outstanding": fmt(line.total_outstanding),
    }


def plan_dict(plan: PlanPosition, arrears: str) -> dict[str, Any]:
    """A plan booked on the loan (the latest), as of the statement's date."""
    following = plan.next_installment
    return {
        "reference": plan.reference,
        "accepted_on": plan.accepted_on.isoformat(),
        "covered": fmt(plan.covered),
        "paid": fmt(plan.paid),
        "remaining": fmt(plan.remaining),
        "overdue": arrears,
        "next_installment": (
            {"seq": following[0], "due_date": following[1].isoformat(), "amount": fmt(following[2])}
            if following is not None
            else None
        ),
        "status": "broken"
        if plan.broken_on
        else "completed"
        if plan.completed_on
        else "replaced"
        if plan.superseded_on
        else "in force",
        "ended_on": next(
            (d.isoformat() for d in (plan.broken_on, plan.completed_on, plan.superseded_on) if d is not None), None
        ),
    }


def statement_dict(position: Position) -> dict[str, Any]:
    """The statement of ``position``: the total overdue is the sum of the lines' outstanding amounts and
    what is overdue on a plan in force (``plan.overdue``); ``waived`` is what the ledger waived."""
    return {
        "loan_id": position.loan_id,
        "as_of": position.as_of.isoformat(),
        "currency": position.currency,
        "dpd": position.dpd,
        "bucket": position.bucket,
        "classification": str(position.classification),
        "overdue_principal": fmt(position.overdue_principal),
        "overdue_interest": fmt(position.overdue_interest),
        "penalty": fmt(position.penalty),
        "total_overdue": fmt(position.total_overdue),
        "outstanding_principal": fmt(position.outstanding_principal),
        "next_due_date": position.next_due_date.isoformat() if position.next_due_date else None,
        "next_due_amount": fmt(position.next_due_amount),
        "paid_total": fmt(position.paid_total),
        "unapplied_credit": fmt(position.unapplied_credit),
        "flags": list(position.flags),
        "waived": fmt(position.waived),
        "installments": [line_dict(line) for line in position.lines],
        "plan": plan_dict(position.plan, fmt(position.plan_arrears)) if position.plan is not None else None,
    }
