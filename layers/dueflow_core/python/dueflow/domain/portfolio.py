"""The portfolio picture of a book as of a date: counts and amounts per bucket and classification,
and early-warning counts (逾期识别与预警)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dueflow.domain.classification import BUCKETS, CLASSIFICATIONS
from dueflow.domain.loan import Loan
from dueflow.domain.position import (
    DEFAULT_WARNING_POLICY,
    FLAG_AT_RISK,
    FLAG_DUE_SOON,
    Position,
    WarningPolicy,
    assess,
)
from dueflow.domain.schedule import from_cents


@dataclass(slots=True)
class Tally:
    """Count of loans and sums (integer cents) of their overdue and outstanding amounts. Sums add
    amounts as booked: ``Portfolio.currencies`` says whether the book mixes currencies."""

    loans: int = 0
    total_overdue_cents: int = 0
    outstanding_principal_cents: int = 0

    def add(self, position: Position) -> None:
        self.loans += 1
        self.total_overdue_cents += position.total_overdue_cents
        self.outstanding_principal_cents += position.outstanding_principal_cents

    def as_dict(self) -> dict[str, Any]:
        return {
            "loans": self.loans,
            "total_overdue": str(from_cents(self.total_overdue_cents)),
            "outstanding_principal": str(from_cents(self.outstanding_principal_cents)),
        }


@dataclass(slots=True)
class Portfolio:
    """Aggregates of many positions as of one date."""

    as_of: date
    loans: int = 0
    overdue_loans: int = 0
    # sums in integer cents
    overdue_principal: int = 0
    overdue_interest: int = 0
    penalty: int = 0
    outstanding_principal: int = 0
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
        self.overdue_principal += position.overdue_principal_cents
        self.overdue_interest += position.overdue_interest_cents
        self.penalty += position.penalty_cents
        self.outstanding_principal += position.outstanding_principal_cents
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
            "overdue_principal": str(from_cents(self.overdue_principal)),
            "overdue_interest": str(from_cents(self.overdue_interest)),
            "penalty": str(from_cents(self.penalty)),
            "total_overdue": str(from_cents(self.overdue_principal + self.overdue_interest + self.penalty)),
            "outstanding_principal": str(from_cents(self.outstanding_principal)),
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
