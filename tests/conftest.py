"""Shared test helpers: small loan builders with readable defaults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from dueflow.domain.loan import Loan


def make_loan(**overrides: Any) -> Loan:
    """A 12,000 CNY, 12% a year, 12-month equal-installment loan starting 2026-01-31, no payments."""
    record: dict[str, Any] = {
        "loan_id": "L1",
        "customer_id": "C1",
        "principal": "12000.00",
        "annual_rate": "0.12",
        "term_months": 12,
        "start_date": "2026-01-31",
    }
    record.update(overrides)
    return Loan.model_validate(record)


def pay(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"date": d, "amount": a} for d, a in pairs]


@pytest.fixture
def loan() -> Loan:
    return make_loan()


D = Decimal


def day(text: str) -> date:
    return date.fromisoformat(text)
