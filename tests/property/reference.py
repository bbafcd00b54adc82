"""An independent, deliberately naive model of the spec: walks every calendar day with exact fractions.

It shares no code with the engine except the date helper, so that the property tests compare two
implementations of docs/formulas.md: the engine (event-driven, integer cents, fast paths) and this one
(day by day, ``Fraction``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from dueflow.domain.calendar import add_months
from dueflow.domain.loan import Loan


def round_cents(value: Fraction) -> Fraction:
    """ROUND_HALF_UP to 0.01 for a non-negative fraction."""
    return Fraction(int(value * 100 + Fraction(1, 2)), 100)


def schedule(loan: Loan) -> list[tuple[date, Fraction, Fraction]]:
    if loan.installments is not None:
        return [(i.due_date, Fraction(i.principal), Fraction(i.interest)) for i in loan.installments]
    n = loan.term_months
    r = Fraction(loan.annual_rate) / 12
    balance = Fraction(loan.principal)
    rows = []
    if loan.repayment_method == "equal_principal":
        part = round_cents(balance / n)
        for k in range(1, n):
            interest = round_cents(balance * r)
            rows.append((add_months(loan.start_date, k), part, interest))
            balance -= part
    else:
        from decimal import Decimal, localcontext

        with localcontext() as ctx:  # the annuity factor is irrational: 50 digits, as the spec's A
            ctx.prec = 50
            rd = Decimal(loan.annual_rate) / 12
            exact = Decimal(loan.principal) * rd / (1 - (1 + rd) ** -n) if rd else Decimal(loan.principal) / n
        payment = round_cents(Fraction(exact))
        for k in range(1, n):
            interest = round_cents(balance * r)
            rows.append((add_months(loan.start_date, k), payment - interest, interest))
            balance -= payment - interest
    rows.append((add_months(loan.start_date, n), balance, round_cents(balance * r)))
    return rows


@dataclass
class RefPosition:
    dpd: int
    overdue_principal: Fraction
    overdue_interest: Fraction
    penalty: Fraction
    outstanding_principal: Fraction


def reference_position(loan: Loan, as_of: date) -> RefPosition:
    rows = schedule(loan)
    p_left = [p for _, p, _ in rows]
    i_left = [i for _, _, i in rows]
    accrued = [Fraction(0)] * len(rows)
    pen_paid = [Fraction(0)] * len(rows)
    d = Fraction(loan.annual_rate) * Fraction(loan.penalty_rate_multiplier) / 360
    by_day: dict[date, list[Fraction]] = {}
    for payment in loan.payments:
        by_day.setdefault(payment.date, []).append(Fraction(payment.amount))
    day = loan.start_date
    while day <= as_of:
        for amount in by_day.get(day, []):
            left = amount
            for k, (due, _, _) in enumerate(rows):
                if due > day or not left:
                    continue
                owed = round_cents(accrued[k]) - pen_paid[k]
                part = min(owed, left) if owed > 0 else Fraction(0)
                pen_paid[k] += part
                left -= part
                part = min(i_left[k], left)
                i_left[k] -= part
                left -= part
                part = min(p_left[k], left)
                p_left[k] -= part
                left -= part
            for k, (due, _, _) in enumerate(rows):
                if due <= day or not left:
                    continue
                part = min(i_left[k], left)
                i_left[k] -= part
                left -= part
                part = min(p_left[k], left)
                p_left[k] -= part
                left -= part
        for k, (due, _, _) in enumerate(rows):  # end of day: accrue on what is still unpaid
            if due < day and p_left[k] + i_left[k] > 0:
                accrued[k] += d * (p_left[k] + i_left[k])
        day += timedelta(days=1)
    overdue = [k for k, (due, _, _) in enumerate(rows) if due < as_of]
    unpaid = [k for k in overdue if p_left[k] + i_left[k] > 0]
    return RefPosition(
        dpd=(as_of - rows[unpaid[0]][0]).days if unpaid else 0,
        overdue_principal=sum((p_left[k] for k in overdue), Fraction(0)),
        overdue_interest=sum((i_left[k] for k in overdue), Fraction(0)),
        penalty=sum((round_cents(accrued[k]) - pen_paid[k] for k in overdue), Fraction(0)),
        outstanding_principal=sum(p_left, Fraction(0)),
    )
