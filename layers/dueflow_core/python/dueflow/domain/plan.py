"""Repayment plan proposal (协商还款): monthly installments sized to the customer's income.

The plan repays ``amount`` (the total overdue less any approved waiver) in ``months`` installments that
differ by at most one cent (one ``step``: the currency's smallest amount, 1 for a currency with no minor
unit) and sum exactly to ``amount``; the larger ones come first. Amounts in the loan's currency;
``max_income_share`` is a fraction of disposable income (income - expenses), and the plan installment
must fit in it beside the loan's regular installment, which is paid alongside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from dueflow.domain.calendar import add_months
from dueflow.domain.money import CENT, ZERO, round_down

if TYPE_CHECKING:
    from dueflow.domain.loan import Loan


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """Affordability limits: installment <= ``max_income_share`` of disposable monthly income; each
    installment >= ``min_installment`` unless one installment repays everything; at most
    ``max_term_months`` installments."""

    max_income_share: Decimal = Decimal("0.5")
    min_installment: Decimal = Decimal("100.00")
    max_term_months: int = 24


DEFAULT_PLAN_POLICY = PlanPolicy()


@dataclass(frozen=True, slots=True)
class PlanInstallment:
    seq: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlanDecision:
    """Either a plan (``ok``) or the reason no plan fits (``code`` is machine-readable)."""

    ok: bool
    amount: Decimal
    affordable_monthly: Decimal
    installments: tuple[PlanInstallment, ...] = ()
    code: str | None = None
    reason: str | None = None

    @property
    def months(self) -> int:
        return len(self.installments)

    @property
    def monthly_amount(self) -> Decimal:
        return self.installments[0].amount if self.installments else ZERO


def affordable_monthly(
    income: Decimal,
    expenses: Decimal,
    policy: PlanPolicy = DEFAULT_PLAN_POLICY,
    regular_monthly: Decimal = ZERO,
    step: Decimal = CENT,
) -> Decimal:
    """The largest monthly plan installment the customer can bear, rounded down to ``step`` (>= 0): the
    share of disposable income less the loan's regular installment, which is paid alongside the plan."""
    disposable = income - expenses
    if disposable <= 0:
        return ZERO
    share = round_down(disposable * policy.max_income_share)
    if step != CENT:
        share = share.quantize(step, rounding=ROUND_DOWN).quantize(CENT)
    return max(share - regular_monthly, ZERO)


def regular_installment(loan: Loan, today: date) -> Decimal:
    """The largest regular installment of the loan falling due in the next 24 months (what the customer
    pays each month besides a plan); zero once the schedule has ended."""
    from dueflow.domain.schedule import iter_schedule

    horizon = add_months(today, DEFAULT_PLAN_POLICY.max_term_months)
    amounts = [i.amount for i in iter_schedule(loan) if today < i.due_date <= horizon]
    return max(amounts, default=ZERO)


def split_evenly(amount: Decimal, months: int, first_due: date, step: Decimal = CENT) -> tuple[PlanInstallment, ...]:
    """``months`` monthly installments from ``first_due`` summing exactly to ``amount``, each a whole
    number of ``step`` (2 places)."""
    units = int(amount / step)
    base, extra = divmod(units, months)
    return tuple(
        PlanInstallment(
            k + 1, add_months(first_due, k), (Decimal(base + (1 if k < extra else 0)) * step).quantize(CENT)
        )
        for k in range(months)
    )


def propose_plan(
    amount: Decimal,
    monthly_income: Decimal | None,
    monthly_expenses: Decimal | None,
    first_due: date,
    policy: PlanPolicy = DEFAULT_PLAN_POLICY,
    months: int | None = None,
    regular_monthly: Decimal = ZERO,
    step: Decimal = CENT,
) -> PlanDecision:
    """Propose the shortest affordable plan for ``amount`` (or check the ``months`` asked for), the
    customer also paying ``regular_monthly`` (the loan's own installment) each month; every amount a
    whole number of ``step``, the currency's smallest amount."""
    if amount != amount.quantize(step):
        raise ValueError(f"amount to repay must be a whole number of {step}: {amount}")
    if amount <= 0:
        return PlanDecision(False, amount, ZERO, code="nothing_to_repay", reason="there is nothing to repay")
    if monthly_income is None:
        return PlanDecision(
            False, amount, ZERO, code="income_unknown", reason="the customer's monthly income is unknown"
        )
    affordable = affordable_monthly(monthly_income, monthly_expenses or ZERO, policy, regular_monthly, step)
    if affordable <= 0:
        reason = "the customer has no disposable income"
        if regular_monthly and affordable_monthly(monthly_income, monthly_expenses or ZERO, policy) > 0:
            reason += f" left after the regular installment of {regular_monthly}"
        return _refuse(amount, affordable, "no_disposable_income", reason)
    units = int(amount / step)
    afford_units = int(affordable / step)
    if afford_units <= 0:
        return _refuse(amount, affordable, "no_disposable_income", "the customer has no disposable income")
    shortest = -(-units // afford_units)  # ceil
    if months is None:
        if shortest > policy.max_term_months:
            return _refuse(
                amount,
                affordable,
                "term_too_long",
                f"repaying {amount} at the affordable {affordable} a month takes {shortest} months, "
                f"more than the maximum {policy.max_term_months}",
            )
        months = shortest
    elif not 1 <= months <= policy.max_term_months:
        return _refuse(
            amount,
            affordable,
            "term_out_of_range",
            f"the term must be 1 to {policy.max_term_months} months, not {months}",
        )
    elif months < shortest:
        largest = (Decimal(-(-units // months)) * step).quantize(CENT)
        return _refuse(
            amount,
            affordable,
            "unaffordable",
            f"an installment of {largest} over {months} months exceeds the affordable {affordable} a month",
        )
    smallest = (Decimal(units // months) * step).quantize(CENT)
    if months > 1 and smallest < policy.min_installment:
        return _refuse(
            amount,
            affordable,
            "below_minimum_installment",
            f"an installment of {smallest} is below the minimum {policy.min_installment}",
        )
    return PlanDecision(True, amount, affordable, split_evenly(amount, months, first_due, step))


def _refuse(amount: Decimal, affordable: Decimal, code: str, reason: str) -> PlanDecision:
    return PlanDecision(False, amount, affordable, code=code, reason=reason)
