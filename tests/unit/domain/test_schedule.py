"""Schedule generation, checked against hand-computed figures."""

from decimal import Decimal

import pytest

from dueflow.domain.calendar import add_months
from dueflow.domain.schedule import build_schedule, monthly_payment
from tests.conftest import D, day, make_loan


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),  # clamped to February's last day
        ("2024-01-31", 1, "2024-02-29"),  # leap year
        ("2026-01-31", 2, "2026-03-31"),  # back to the 31st: clamping does not carry over
        ("2026-03-15", 12, "2027-03-15"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-05-20", -5, "2025-12-20"),
    ],
)
def test_add_months_keeps_the_day_and_clamps_to_month_end(start: str, months: int, expected: str) -> None:
    assert add_months(day(start), months) == day(expected)


def test_equal_installment_payment_matches_the_annuity_formula() -> None:
    # 12000 * 0.01 / (1 - 1.01^-12) = 1066.1855 -> 1066.19
    assert monthly_payment(D("12000"), D("0.12"), 12) == D("1066.19")
    # 1,000,000 at 4.9% over 360 months: the textbook figure 5307.27
    assert monthly_payment(D("1000000"), D("0.049"), 360) == D("5307.27")


def test_equal_installment_schedule_by_hand() -> None:
    # Given a 12,000 loan at 12% over 12 months starting on Jan 31
    schedule = build_schedule(make_loan())
    # Then installment 1 is 120.00 interest (12000 * 1%) and 946.19 principal, due Feb 28 (clamped)
    first = schedule[0]
    assert (first.seq, first.due_date, first.interest, first.principal) == (
        1,
        day("2026-02-28"),
        D("120.00"),
        D("946.19"),
    )
    # installment 2: interest on 11053.81 = 110.5381 -> 110.54; principal 1066.19 - 110.54
    assert (schedule[1].due_date, schedule[1].interest, schedule[1].principal) == (
        day("2026-03-31"),
        D("110.54"),
        D("955.65"),
    )
    # the last takes the remaining balance as principal and round(balance * r) as interest
    last = schedule[-1]
    assert (last.seq, last.due_date, last.principal, last.interest) == (12, day("2027-01-31"), D("1055.58"), D("10.56"))
    assert sum(i.principal for i in schedule) == D("12000.00")
    assert all(i.principal + i.interest == D("1066.19") for i in schedule[:-1])


def test_equal_principal_schedule_by_hand() -> None:
    schedule = build_schedule(make_loan(repayment_method="equal_principal"))
    assert [i.principal for i in schedule] == [D("1000.00")] * 12
    # interest on the balance before each installment: 12000 * 1%, 11000 * 1%, ...
    assert [i.interest for i in schedule] == [D(120 - 10 * k) for k in range(12)]


def test_equal_principal_last_installment_takes_the_remainder() -> None:
    schedule = build_schedule(make_loan(principal="1000.00", term_months=3, repayment_method="equal_principal"))
    assert [i.principal for i in schedule] == [D("333.33"), D("333.33"), D("333.34")]


def test_zero_rate_splits_principal_evenly() -> None:
    schedule = build_schedule(make_loan(principal="1000.00", annual_rate="0", term_months=3))
    assert [i.principal for i in schedule] == [D("333.33"), D("333.33"), D("333.34")]
    assert all(i.interest == 0 for i in schedule)


def test_explicit_schedule_is_used_as_is() -> None:
    explicit = [
        {"seq": 1, "due_date": "2026-03-10", "principal": "400.00", "interest": "5.00"},
        {"seq": 2, "due_date": "2026-04-10", "principal": "600.00", "interest": "0.00"},
    ]
    schedule = build_schedule(make_loan(principal="1000.00", term_months=2, installments=explicit))
    assert [(i.due_date, i.principal, i.interest) for i in schedule] == [
        (day("2026-03-10"), D("400.00"), D("5.00")),
        (day("2026-04-10"), D("600.00"), D("0.00")),
    ]


def test_long_mortgage_schedule_stays_exact() -> None:
    schedule = build_schedule(make_loan(principal="1000000.00", annual_rate="0.049", term_months=360))
    assert len(schedule) == 360
    assert sum(i.principal for i in schedule) == D("1000000.00")
    # cent rounding compounds: the last installment drifts from the payment by at most
    # 0.01 * ((1 + r)^(n-1) - 1) / r, about 8.1 here (docs/formulas.md)
    r = D("0.049") / 12
    bound = D("0.01") * ((1 + r) ** 359 - 1) / r
    drift = abs(schedule[-1].principal + schedule[-1].interest - D("5307.27"))
    assert drift < bound < Decimal("8.2")
