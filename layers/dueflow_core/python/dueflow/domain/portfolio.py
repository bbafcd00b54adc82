"""The portfolio picture of a book as of a date: counts and amounts per bucket and classification,
and early-warning counts (逾期识别与预警)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dueflow.domain.classification import BUCKETS, CLASSIFICATIONS
from dueflow.domain.loan import Loan
from dueflow.domain.money import ZERO, fmt
from dueflow.domain.position import (
    DEFAULT_WARNING_POLICY,
    FLAG_AT_RISK,
    FLAG_DUE_SOON,
    Position,
    WarningPolicy,
    assess,
)


@dataclass(slots=True)
class Tally:
    """Count of loans and sums of their overdue and outstanding amounts (one currency unit: the sums
    add amounts as booked; books mixing currencies are reported per currency by the caller)."""

    loans: int = 0
    total_overdue: Decimal = ZERO
    outstanding_principal: Decimal = ZERO

    def add(self, position: Position) -> None:
        self.loans += 1
        self.total_overdue += position.total_overdue
        self.outstanding_principal += position.outstanding_principal

    def as_dict(self) -> dict[str, Any]:
        return {
            "loans": self.loans,
            "total_overdue": fmt(self.total_overdue),
            "outstanding_principal": fmt(self.outstanding_principal),
        }


@dataclass(slots=True)
class Portfolio:
    """Aggregates of many positions as of one date."""

    as_of: date
    loans: int = 0
    overdue_loans: int = 0
    total_overdue: Decimal = ZERO
    overdue_principal: Decimal = ZERO
    overdue_interest: Decimal = ZERO
    penalty: Decimal = ZERO
    outstanding_principal: Decimal = ZERO
    due_soon: int = 0
    at_risk: int = 0
    by_bucket: dict[str, Tally] = field(default_factory=lambda: {b: Tally() for b in BUCKETS})
    by_classification: dict[str, Tally] = field(default_factory=lambda: {str(c): Tally() for c in CLASSIFICATIONS})
    currencies: set[str] = field(default_factory=set)

    def add(self, position: Position) -> None:
        self.loans += 1
        self.currencies.add(position.currency)
        if position.dpd:
            self.overdue_loans += 1
        self.overdue_principal += position.overdue_principal
        self.overdue_interest += position.overdue_interest
        self.penalty += position.penalty
        self.total_overdue += position.total_overdue
        self.outstanding_principal += position.outstanding_principal
        if FLAG_DUE_SOON in position.flags:
            self.due_soon += 1
        if FLAG_AT_RISK in position.flags:
            self.at_risk += 1
        self.by_bucket[position.bucket].add(position)
        self.by_classification[str(position.classification)].add(position)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "loans": self.loans,
            "overdue_loans": self.overdue_loans,
            "currencies": sorted(self.currencies),
            "overdue_principal": fmt(self.overdue_principal),
            "overdue_interest": fmt(self.overdue_interest),
            "penalty": fmt(self.penalty),
            "total_overdue": fmt(self.total_overdue),
            "outstanding_principal": fmt(self.outstanding_principal),
            "early_warning": {"due_soon": self.due_soon, "at_risk": self.at_risk},
            "by_bucket": {name: tally.as_dict() for name, tally in self.by_bucket.items()},
            "by_classification": {name: tally.as_dict() for name, tally in self.by_classification.items()},
        }


def assess_portfolio(loans: Iterable[Loan], as_of: date, policy: WarningPolicy = DEFAULT_WARNING_POLICY) -> Portfolio:
    """Assess every loan as of ``as_of`` and aggregate."""
    portfolio = Portfolio(as_of=as_of)
    for loan in loans:
        portfolio.add(assess(loan, as_of, policy))
    return portfolio
