"""The itemised overdue statement (逾期账单) as a JSON-ready dict: amounts as 2-place decimal strings."""

from __future__ import annotations

from typing import Any

from dueflow.domain.money import fmt
from dueflow.domain.position import Position, StatementLine


def line_dict(line: StatementLine) -> dict[str, Any]:
    return {
        "seq": line.seq,
        "due_date": line.due_date.isoformat(),
        "days_overdue": line.days_overdue,
        "principal_due": fmt(line.principal_due),
        "interest_due": fmt(line.interest_due),
        "principal_paid": fmt(line.principal_paid),
        "interest_paid": fmt(line.interest_paid),
        "principal_outstanding": fmt(line.principal_outstanding),
        "interest_outstanding": fmt(line.interest_outstanding),
        "penalty_accrued": fmt(line.penalty_accrued),
        "penalty_paid": fmt(line.penalty_paid),
        "penalty_outstanding": fmt(line.penalty_outstanding),
        "total_outstanding": fmt(line.total_outstanding),
    }


def statement_dict(position: Position) -> dict[str, Any]:
    """The statement of ``position``: totals equal the sums of the lines' outstanding amounts."""
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
        "installments": [line_dict(line) for line in position.lines],
    }
