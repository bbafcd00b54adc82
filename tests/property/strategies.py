"""Hypothesis strategies for valid loans with payment histories."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from dueflow.domain.loan import Loan
from dueflow.domain.schedule import schedule_problem

cents = st.integers(min_value=1, max_value=10**10).map(lambda c: Decimal(c) / 100)


@st.composite
def loans(draw: st.DrawFn, max_term: int = 60, max_payments: int = 12) -> Loan:
    term = draw(st.integers(min_value=1, max_value=max_term))
    currency = draw(st.sampled_from(["CNY", "CNY", "CNY", "JPY"]))  # yen: no minor unit (whole amounts)
    step = 100 if currency == "JPY" else 1  # in cents
    # at least one unit of the currency a month (a yen loan: 100 yen a month, so rounding leaves none at 0)
    principal = draw(
        st.integers(min_value=100 * term * step, max_value=10**9).map(lambda c: Decimal(c - c % step) / 100)
    )
    rate = Decimal(draw(st.integers(min_value=0, max_value=3600))) / 10000
    start = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31)))
    method = draw(st.sampled_from(["equal_installment", "equal_principal"]))
    # the cn pack (CNY loans only): its penalty bounds, and its holiday grace on every due date
    rules = draw(st.sampled_from([None, "cn"])) if currency == "CNY" else None
    multiplier = draw(st.sampled_from(["1.3", "1.5"] if rules else ["1", "1.3", "1.5", "2"]))
    payments = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=31 * (term + 6)),
                st.integers(min_value=step, max_value=int(principal * 100)).map(lambda c: Decimal(c - c % step) / 100),
            ),
            max_size=max_payments,
        )
    )
    record: dict[str, Any] = {
        "loan_id": "P1",
        "customer_id": "C1",
        "principal": principal,
        "annual_rate": str(rate),
        "term_months": term,
        "start_date": start,
        "currency": currency,
        "repayment_method": method,
        "penalty_rate_multiplier": multiplier,
        "rules": rules,
        "payments": [{"date": start + timedelta(days=offset), "amount": amount} for offset, amount in payments],
    }
    assume(schedule_problem(Loan.model_construct(**{**record, "annual_rate": Decimal(record["annual_rate"])})) is None)
    return Loan.model_validate(record)


def as_of_for(loan: Loan, draw_days: int) -> date:
    return loan.start_date + timedelta(days=draw_days)
