"""Repayment plan proposals sized to income."""

import pytest

from dueflow.domain.plan import PlanPolicy, affordable_monthly, propose_plan
from tests.conftest import D, day

FIRST = day("2026-07-15")


def test_affordable_is_half_of_disposable_income_rounded_down() -> None:
    assert affordable_monthly(D("8000.00"), D("5000.01")) == D("1499.99")
    assert affordable_monthly(D("3000"), D("3500")) == 0


def test_shortest_affordable_plan_by_hand() -> None:
    # Given 10,000.00 to repay and 8,000 income, 5,000 expenses: affordable 1,500 a month
    decision = propose_plan(D("10000.00"), D("8000"), D("5000"), FIRST)
    # Then ceil(10000 / 1500) = 7 months; 1,000,000 cents / 7 = 142857 rest 1: one 1428.58, six 1428.57
    assert decision.ok and decision.months == 7
    assert [i.amount for i in decision.installments] == [D("1428.58")] + [D("1428.57")] * 6
    assert sum(i.amount for i in decision.installments) == D("10000.00")
    assert [i.due_date for i in decision.installments][:3] == [day("2026-07-15"), day("2026-08-15"), day("2026-09-15")]


def test_requested_longer_term_is_accepted() -> None:
    decision = propose_plan(D("10000.00"), D("8000"), D("5000"), FIRST, months=10)
    assert decision.ok and [i.amount for i in decision.installments] == [D("1000.00")] * 10


def test_requested_shorter_term_that_is_unaffordable_is_refused() -> None:
    decision = propose_plan(D("10000.00"), D("8000"), D("5000"), FIRST, months=2)
    assert not decision.ok and decision.code == "unaffordable"
    assert "5000.00" in (decision.reason or "") and "1500.00" in (decision.reason or "")


def test_no_plan_when_it_would_take_longer_than_the_maximum_term() -> None:
    # affordable 100 a month, 5,000 needs 50 months > 24
    decision = propose_plan(D("5000.00"), D("1200"), D("1000"), FIRST)
    assert not decision.ok and decision.code == "term_too_long"
    assert "50 months" in (decision.reason or "")


@pytest.mark.parametrize(
    ("income", "expenses", "code"),
    [(None, None, "income_unknown"), (D("3000"), D("3000"), "no_disposable_income")],
)
def test_no_plan_without_means(income: object, expenses: object, code: str) -> None:
    decision = propose_plan(D("1000.00"), income, expenses, FIRST)  # type: ignore[arg-type]
    assert not decision.ok and decision.code == code


def test_installments_below_the_minimum_are_refused_unless_single() -> None:
    policy = PlanPolicy(min_installment=D("200.00"))
    # 150 a month affordable, 1,000 -> 7 installments of ~142.86 < 200
    refused = propose_plan(D("1000.00"), D("1300"), D("1000"), FIRST, policy)
    assert not refused.ok and refused.code == "below_minimum_installment"
    # a small balance repaid at once is fine even below the minimum
    single = propose_plan(D("120.00"), D("1300"), D("1000"), FIRST, policy)
    assert single.ok and [i.amount for i in single.installments] == [D("120.00")]


def test_nothing_to_repay() -> None:
    assert propose_plan(D("0.00"), D("5000"), D("0"), FIRST).code == "nothing_to_repay"


def test_amount_with_sub_cent_precision_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"whole number of 0\.01"):
        propose_plan(D("10.001"), D("5000"), D("0"), FIRST)


def test_a_plan_in_a_currency_with_no_minor_unit_has_whole_installments() -> None:
    """Yen (ISO 4217 exponent 0): the affordable amount and every installment are whole yen."""
    with pytest.raises(ValueError, match="whole number of 1"):
        propose_plan(D("100000.50"), D("500000"), D("0"), FIRST, step=D("1"))
    decision = propose_plan(D("100001"), D("500000"), D("100001"), FIRST, months=3, step=D("1"))
    assert decision.ok and decision.affordable_monthly == D("199999.00")
    assert [i.amount for i in decision.installments] == [D("33334.00"), D("33334.00"), D("33333.00")]
