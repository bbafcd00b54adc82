"""Properties of the engine that must hold for every valid loan and as-of date."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from dueflow.domain.loan import Loan
from dueflow.domain.money import CENT
from dueflow.domain.plan import PlanPolicy, propose_plan
from dueflow.domain.position import assess
from dueflow.domain.schedule import build_schedule
from dueflow.domain.statement import statement_dict
from tests.conftest import day
from tests.property.reference import payable_day, reference_ledger, reference_position
from tests.property.strategies import as_of_for, loans

days_after_start = st.integers(min_value=0, max_value=31 * 70)

# cn loans run past the years the pinned calendar covers: the weekday rule stands in there, in the
# engine and in the naive model alike (the warning itself is tested in tests/unit/domain/test_rules.py)
pytestmark = pytest.mark.filterwarnings("ignore::dueflow.domain.rules.CalendarNotCovered")


@settings(max_examples=300, deadline=None)
@given(loan=loans(), offset=days_after_start)
def test_statement_totals_equal_the_sum_of_their_lines(loan: Loan, offset: int) -> None:
    position = assess(loan, as_of_for(loan, offset))
    lines = position.lines
    assert position.overdue_principal == sum((line.principal_outstanding for line in lines), Decimal(0))
    assert position.overdue_interest == sum((line.interest_outstanding for line in lines), Decimal(0))
    assert position.penalty == sum((line.penalty_outstanding for line in lines), Decimal(0))
    assert position.total_overdue == sum((line.total_outstanding for line in lines), Decimal(0))
    # and the JSON says the same to the cent
    data = statement_dict(position)
    assert Decimal(data["total_overdue"]) == sum(Decimal(i["total_outstanding"]) for i in data["installments"])
    # every reported amount is whole cents and none is negative
    for line in lines:
        for amount in (line.principal_outstanding, line.interest_outstanding, line.penalty_outstanding):
            assert amount >= 0 and amount == amount.quantize(CENT)


@settings(max_examples=300, deadline=None)
@given(loan=loans(), offset=days_after_start)
def test_paying_total_overdue_on_the_as_of_date_brings_dpd_to_zero(loan: Loan, offset: int) -> None:
    as_of = as_of_for(loan, offset)
    position = assess(loan, as_of)
    if position.total_overdue == 0:
        assert position.dpd == 0
        return
    record = loan.model_dump()
    record["payments"] = [*record["payments"], {"date": as_of, "amount": position.total_overdue}]
    cured = Loan.model_validate(record)
    after = assess(cured, as_of)
    assert after.dpd == 0
    assert after.total_overdue == 0


@settings(max_examples=300, deadline=None)
@given(loan=loans(), offset=days_after_start, later=st.integers(min_value=1, max_value=400))
def test_penalty_never_decreases_as_the_as_of_date_advances_without_payments(
    loan: Loan, offset: int, later: int
) -> None:
    as_of = as_of_for(loan, offset)
    quiet = loan.model_copy(update={"payments": tuple(p for p in loan.payments if p.date <= as_of)})
    before = assess(quiet, as_of)
    after = assess(quiet, as_of + timedelta(days=later))
    assert after.penalty >= before.penalty
    assert after.dpd >= before.dpd or before.dpd == 0
    assert after.total_overdue >= before.total_overdue


@settings(max_examples=300, deadline=None)
@given(loan=loans(), offset=days_after_start)
def test_every_payment_is_accounted_for(loan: Loan, offset: int) -> None:
    as_of = as_of_for(loan, offset)
    position = assess(loan, as_of)
    paid = sum((p.amount for p in loan.payments if p.date <= as_of), Decimal(0))
    assert position.paid_total == paid
    schedule = build_schedule(loan)
    assert sum((i.principal for i in schedule), Decimal(0)) == loan.principal
    assert 0 <= position.outstanding_principal <= loan.principal


@settings(max_examples=500, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100),
    income=st.integers(min_value=0, max_value=10**7).map(lambda c: Decimal(c) / 100),
    expenses=st.integers(min_value=0, max_value=10**7).map(lambda c: Decimal(c) / 100),
    months=st.one_of(st.none(), st.integers(min_value=1, max_value=36)),
    min_installment=st.sampled_from([Decimal("0.01"), Decimal("50"), Decimal("100")]),
)
def test_plans_always_sum_exactly_to_the_amount_to_repay(
    amount: Decimal, income: Decimal, expenses: Decimal, months: int | None, min_installment: Decimal
) -> None:
    policy = PlanPolicy(min_installment=min_installment)
    decision = propose_plan(amount, income, expenses, day("2026-07-01"), policy, months=months)
    if not decision.ok:
        assert decision.reason and decision.code
        return
    amounts = [i.amount for i in decision.installments]
    assert sum(amounts, Decimal(0)) == amount
    assert 1 <= len(amounts) <= policy.max_term_months
    assert max(amounts) - min(amounts) <= Decimal("0.01")
    assert max(amounts) <= decision.affordable_monthly
    assert len(amounts) == 1 or min(amounts) >= min_installment
    dates = [i.due_date for i in decision.installments]
    assert dates == sorted(set(dates))


@settings(max_examples=200, deadline=None)
@given(loan=loans(max_term=36, max_payments=10), offset=st.integers(min_value=0, max_value=31 * 40))
def test_engine_agrees_with_a_naive_day_by_day_model(loan: Loan, offset: int) -> None:
    as_of = as_of_for(loan, offset)
    position = assess(loan, as_of)
    reference = reference_position(loan, as_of)
    assert position.dpd == reference.dpd
    assert position.overdue_principal == reference.overdue_principal
    assert position.overdue_interest == reference.overdue_interest
    assert position.penalty == reference.penalty
    assert position.outstanding_principal == reference.outstanding_principal


@settings(max_examples=100, deadline=None)
@given(loan=loans(max_term=24, max_payments=0), offset=st.integers(min_value=0, max_value=31 * 26))
def test_engine_agrees_with_the_model_for_regular_payers(loan: Loan, offset: int) -> None:
    # Given a customer who pays every installment exactly, some on time and some late (the fast path
    # and the full ledger both get exercised)
    record = loan.model_dump()
    record["payments"] = [
        {"date": item.due_date + timedelta(days=(item.seq * 7) % 11 - 3), "amount": item.amount}
        for item in build_schedule(loan)
        if item.due_date + timedelta(days=8) >= loan.start_date
    ]
    record["payments"] = [p for p in record["payments"] if p["date"] >= loan.start_date]
    regular = Loan.model_validate(record)
    as_of = as_of_for(regular, offset)
    position = assess(regular, as_of)
    reference = reference_position(regular, as_of)
    assert (position.dpd, position.penalty, position.outstanding_principal) == (
        reference.dpd,
        reference.penalty,
        reference.outstanding_principal,
    )


def agree_on_the_ledger(position: Any, reference: Any) -> None:
    """The engine's position and the naive model's agree on everything the ledger entries touch."""
    assert position.dpd == reference.dpd
    assert position.overdue_principal == reference.overdue_principal
    assert position.overdue_interest == reference.overdue_interest
    assert position.penalty == reference.penalty
    assert position.outstanding_principal == reference.outstanding_principal
    assert position.waived == reference.waived
    assert position.reinstated == reference.reinstated


def in_units(loan: Loan, cents: int) -> Decimal:
    """``cents`` as an amount of the loan's currency, cut to its smallest amount (yen: whole yen)."""
    step = 100 if loan.currency == "JPY" else 1
    return Decimal(cents - cents % step) / 100


@st.composite
def loans_with_entries(draw: st.DrawFn) -> Loan:
    """A loan with payments and, on its ledger, waivers and restructurings at random dates: plans of
    random installments (more or less than the arrears they cover), sometimes one replacing another."""
    loan = draw(loans(max_term=12, max_payments=8))
    entries: list[dict[str, Any]] = []
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        on = loan.start_date + timedelta(days=draw(st.integers(min_value=20, max_value=31 * 14)))
        if draw(st.booleans()):
            entries.append(
                {
                    "kind": "waiver",
                    "date": on,
                    "penalty": in_units(loan, draw(st.integers(min_value=0, max_value=5000))),
                    "interest": in_units(loan, draw(st.integers(min_value=0, max_value=50000))),
                    "approved_by": "sup1",
                    "reference": f"w{number}",
                    # granted for a plan (booked the same day, earlier or later): reinstated if it breaks
                    "conditional_on": draw(st.sampled_from([None, "p0", "p1", "p2"])),
                }
            )
        else:
            gaps = draw(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=4))
            lines, due = [], on
            for gap in gaps:
                due += timedelta(days=gap)
                amount = in_units(loan, draw(st.integers(min_value=100, max_value=int(loan.principal * 50) + 100)))
                lines.append({"due_date": due, "amount": amount})
            grace = draw(st.integers(min_value=0, max_value=5))
            entries.append(
                {
                    "kind": "restructuring",
                    "date": on,
                    "installments": lines,
                    "grace_days": grace,
                    "approved_by": "sup1",
                    "reference": f"p{number}",
                }
            )
    return loan.model_copy(
        update={"adjustments": Loan.model_validate({**loan.model_dump(), "adjustments": entries}).adjustments}
    )


@settings(max_examples=300, deadline=None)
@given(loan=loans_with_entries(), offset=st.integers(min_value=0, max_value=31 * 18))
def test_engine_with_ledger_entries_agrees_with_the_naive_day_by_day_model(loan: Loan, offset: int) -> None:
    """Waivers (conditional ones reinstated when their plan breaks) and plans booked on the ledger: the
    engine (event-driven, integer cents) and the naive model (every day, exact fractions) agree on the
    position and on each plan's fate."""
    as_of = as_of_for(loan, offset)
    position = assess(loan, as_of)
    reference = reference_ledger(loan, as_of)
    for plan in position.plans:  # what the examples cover (--hypothesis-show-statistics)
        event("plan broken" if plan.broken_on else "plan completed" if plan.completed_on else "plan in force")
    if position.waived:
        event("waived")
    if position.reinstated:
        event("waiver reinstated")
    agree_on_the_ledger(position, reference)
    assert position.plan_arrears == reference.plan_arrears
    assert [(p.reference, p.covered, p.paid, p.broken_on, p.completed_on) for p in position.plans] == reference.plans


@st.composite
def loans_with_a_conditional_waiver(draw: st.DrawFn) -> Loan:
    """A loan whose arrears were waived in part and restructured on one day, the waiver conditional on
    the plan (as an accepted plan is booked under a pack that reinstates waivers), then random payments."""
    loan = draw(loans(max_term=12, max_payments=8))
    on = loan.start_date + timedelta(days=draw(st.integers(min_value=40, max_value=31 * 10)))
    lines, due = [], on
    for gap in draw(st.lists(st.integers(min_value=5, max_value=40), min_size=1, max_size=4)):
        due += timedelta(days=gap)
        lines.append(
            {
                "due_date": due,
                "amount": in_units(loan, draw(st.integers(min_value=100, max_value=int(loan.principal * 50) + 100))),
            }
        )
    entries = [
        {
            "kind": "waiver",
            "date": on,
            "penalty": in_units(loan, draw(st.integers(min_value=0, max_value=5000))),
            "interest": in_units(loan, draw(st.integers(min_value=0, max_value=50000))),
            "approved_by": "sup1",
            "reference": "p0:waiver",
            "conditional_on": "p0",
        },
        {
            "kind": "restructuring",
            "date": on,
            "installments": lines,
            "grace_days": draw(st.integers(min_value=0, max_value=5)),
            "approved_by": "sup1",
            "reference": "p0",
        },
    ]
    return loan.model_copy(
        update={"adjustments": Loan.model_validate({**loan.model_dump(), "adjustments": entries}).adjustments}
    )


@settings(max_examples=200, deadline=None)
@given(loan=loans_with_a_conditional_waiver(), offset=st.integers(min_value=0, max_value=31 * 18))
def test_a_conditional_waiver_is_reinstated_exactly_when_its_plan_breaks(loan: Loan, offset: int) -> None:
    """Clawback (the pack's ``reinstate_on_broken_plan``): while the plan is in force or once it is
    completed the waiver stands; from the day it breaks, what the waiver took off is owed again, as the
    naive day-by-day model has it, and nothing else changes."""
    as_of = as_of_for(loan, offset)
    position = assess(loan, as_of)
    reference = reference_ledger(loan, as_of)
    plan = position.plan
    assert plan is not None or as_of < loan.adjustments[0].date
    if plan is not None:
        event("plan broken" if plan.broken_on else "plan completed" if plan.completed_on else "plan in force")
        assert (plan.waiver_reinstated > 0) == (plan.broken_on is not None and position.reinstated > 0)
        if plan.broken_on is None:
            assert position.reinstated == 0
    if position.reinstated:
        event("waiver reinstated")
    agree_on_the_ledger(position, reference)


def _rest_days() -> list[Any]:
    """PRC statutory holidays and rest days of 2016-2026 that are not working days (chinesecalendar,
    read here directly, not through the engine), on a day of the month every month has."""
    import chinese_calendar

    days = [d for d in chinese_calendar.holidays if 2016 <= d.year <= 2026 and d.day <= 28]
    return sorted(d for d in days if not chinese_calendar.is_workday(d))


REST_DAYS = _rest_days()


@st.composite
def plans_met_on_rest_days(draw: st.DrawFn) -> tuple[Loan, Any]:
    """A cn loan whose k-th installment falls due on a statutory holiday or rest day: two installments
    missed, a plan (with a conditional waiver of the penalty) booked before the holiday one, then every
    regular installment paid in full on its contractual due date (a rest day included) and every plan
    installment on its due date. Returns the loan and the last payment's date."""
    from dueflow.domain.calendar import add_months

    holiday = draw(st.sampled_from(REST_DAYS))
    k = draw(st.integers(min_value=3, max_value=6))
    year, month = divmod(holiday.year * 12 + holiday.month - 1 - k, 12)
    start = holiday.replace(year=year, month=month + 1)
    term = k + draw(st.integers(min_value=1, max_value=4))
    base = Loan.model_validate(
        {
            "loan_id": "H1",
            "customer_id": "C1",
            "principal": Decimal(draw(st.integers(min_value=2000, max_value=200000)) * term),
            "annual_rate": str(Decimal(draw(st.integers(min_value=0, max_value=2400))) / 10000),
            "term_months": term,
            "start_date": start,
            "repayment_method": draw(st.sampled_from(["equal_installment", "equal_principal"])),
            "penalty_rate_multiplier": draw(st.sampled_from(["1.3", "1.5"])),
            "rules": "cn",
        }
    )
    schedule = build_schedule(base)
    assert schedule[k - 1].due_date == holiday
    # installments 1 and 2 missed; the plan is booked between the 2nd due date and the 3rd
    # (after the 2nd is payable: an installment due on a holiday is not yet overdue before then)
    plan_day = payable_day(base, schedule[1].due_date) + timedelta(days=draw(st.integers(min_value=5, max_value=20)))
    assume(plan_day < schedule[2].due_date)
    position = assess(base, plan_day)
    covered = position.total_overdue
    assume(covered > 0)
    count = draw(st.integers(min_value=1, max_value=4))
    part = (covered / count).quantize(CENT, rounding="ROUND_DOWN")
    lines = [
        {"due_date": add_months(plan_day, n + 1), "amount": part if n < count - 1 else covered - part * (count - 1)}
        for n in range(count)
    ]
    waive = draw(st.booleans()) and position.penalty > 0
    entries: list[dict[str, Any]] = [
        {
            "kind": "restructuring",
            "date": plan_day,
            "installments": lines,
            "grace_days": draw(st.integers(min_value=0, max_value=3)),
            "approved_by": "sup1",
            "reference": "p0",
        }
    ]
    if waive:  # the penalty waived on the plan's condition: the plan then covers the rest
        entries.insert(
            0,
            {
                "kind": "waiver",
                "date": plan_day,
                "penalty": position.penalty,
                "approved_by": "sup1",
                "reference": "p0:waiver",
                "conditional_on": "p0",
            },
        )
        lines[-1]["amount"] -= position.penalty
        assume(lines[-1]["amount"] > 0)
    payments = [{"date": item.due_date, "amount": item.amount} for item in schedule[2:] if item.due_date > plan_day]
    payments += [{"date": line["due_date"], "amount": line["amount"]} for line in lines]
    payments.sort(key=lambda p: p["date"])
    loan = Loan.model_validate({**base.model_dump(), "payments": payments, "adjustments": entries})
    return loan, payments[-1]["date"]


@settings(max_examples=150, deadline=None)
@given(case=plans_met_on_rest_days(), after=st.integers(min_value=0, max_value=40))
def test_a_plan_kept_with_installments_paid_on_holiday_due_dates_never_breaks(
    case: tuple[Loan, Any], after: int
) -> None:
    """cn holiday grace against a plan: a regular installment paid on its contractual due date, a rest
    day, settles that installment (it is not taken by the plan in advance), so a customer who pays
    everything on its date keeps the plan and its waiver; and the engine agrees with the naive model."""
    loan, last = case
    as_of = last + timedelta(days=after)
    position = assess(loan, as_of)
    plan = position.plan
    assert plan is not None
    assert plan.broken_on is None
    assert position.reinstated == 0
    assert position.dpd == 0
    agree_on_the_ledger(position, reference_ledger(loan, as_of))
