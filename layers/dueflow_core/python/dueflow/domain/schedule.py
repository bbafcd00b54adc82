"""Repayment schedule generation, exact to the cent (see docs/formulas.md, "Schedule").

Monthly rate ``r = annual_rate / 12``; installment k (1..n) is due k months after ``start_date`` on the
same day of month, clamped to the month's last day. Amounts in the loan's currency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from dueflow.domain.calendar import add_months
from dueflow.domain.money import CENT, round_half_up

if TYPE_CHECKING:
    from dueflow.domain.loan import Loan

_TWELVE = Decimal(12)
_ONE = Decimal(1)


class InstallmentLike(Protocol):
    """What the engine needs of an installment (generated or from an explicit schedule)."""

    @property
    def seq(self) -> int: ...
    @property
    def due_date(self) -> date: ...
    @property
    def principal(self) -> Decimal: ...
    @property
    def interest(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled installment: principal and interest due on ``due_date`` (loan currency)."""

    seq: int
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def monthly_payment(principal: Decimal, annual_rate: Decimal, term_months: int) -> Decimal:
    """Equal-installment (等额本息) payment ``A = P*r/(1-(1+r)^-n)`` rounded to 0.01 HALF_UP;
    ``round(P/n, 2)`` when the rate is 0."""
    r = annual_rate / _TWELVE
    if r == 0:
        return round_half_up(principal / term_months)
    return round_half_up(principal * r / (_ONE - (_ONE + r) ** -term_months))


def iter_schedule(loan: Loan) -> Iterator[InstallmentLike]:
    """Yield the loan's installments in order, lazily: an explicit schedule as is, otherwise generated.

    Lazy so that assessing a 30-year mortgage as of year two generates only what it needs.
    """
    if loan.installments is not None:
        yield from loan.installments
        return
    principal = loan.principal
    n = loan.term_months
    r = loan.annual_rate / _TWELVE
    start = loan.start_date
    balance = principal
    if loan.repayment_method == "equal_principal":
        part = round_half_up(principal / n)
        for k in range(1, n):
            interest = (balance * r).quantize(CENT, rounding="ROUND_HALF_UP")
            balance -= part
            yield Installment(k, add_months(start, k), part, interest)
    else:
        payment = monthly_payment(principal, loan.annual_rate, n)
        for k in range(1, n):
            interest = (balance * r).quantize(CENT, rounding="ROUND_HALF_UP")
            part = payment - interest
            balance -= part
            yield Installment(k, add_months(start, k), part, interest)
    yield Installment(n, add_months(start, n), balance, (balance * r).quantize(CENT, rounding="ROUND_HALF_UP"))


def build_schedule(loan: Loan) -> list[InstallmentLike]:
    """The whole schedule as a list."""
    return list(iter_schedule(loan))


def schedule_problem(loan: Loan) -> str | None:
    """Why the generated schedule would be unusable (a negative installment component), or None.

    Cent rounding of the payment and of each period's interest compounds over the term; for ordinary
    loans the drift is a few cents, but an extreme rate and term (or a principal of a few cents a month)
    can push the last installment negative. A cheap bound decides when the full check is needed.
    """
    n = loan.term_months
    r = loan.annual_rate / _TWELVE
    if loan.repayment_method == "equal_principal" or r == 0:
        drift_bound = Decimal("0.005") * (n - 1)
        margin = loan.principal / n
    else:
        growth = (_ONE + r) ** (n - 1)
        drift_bound = Decimal("0.01") * (growth - _ONE) / r
        margin = loan.principal * r / (_ONE - (_ONE + r) ** -n) / (_ONE + r)
    if drift_bound < margin:
        return None
    for item in iter_schedule(loan):
        if item.principal < 0 or item.interest < 0:
            return (
                f"the generated schedule is not viable: installment {item.seq} would have a negative "
                "amount (principal too small for the term, or rate and term too extreme)"
            )
    return None
