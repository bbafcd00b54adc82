"""Repayment schedule generation, exact to the cent (see docs/formulas.md, "Schedule").

Monthly rate ``r = annual_rate / 12``; installment k (1..n) is due k months after ``start_date`` on the
same day of month, clamped to the month's last day. Amounts in the loan's currency.

Every ``round(x, 2)`` is ROUND_HALF_UP of the exact value: ``balance * annual_rate / 12`` is evaluated
as a fraction, not with a truncated ``r``, so that a tie such as 10.005 always rounds up. Internally the
schedule is computed in integer cents (the engine's hot path); ``iter_schedule`` gives Decimals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import TYPE_CHECKING

from dueflow.domain.calendar import add_months
from dueflow.domain.money import CENT, unit_cents

if TYPE_CHECKING:
    from dueflow.domain.loan import Loan

_TWELVE = Decimal(12)
_ONE = Decimal(1)
_ZERO_CENTS = Decimal("0.00")

# (seq, due_date, due date's ordinal, principal in cents, interest in cents)
CentsRow = tuple[int, date, int, int, int]


def to_cents(amount: Decimal) -> int:
    """Whole cents of an amount that has at most 2 decimal places."""
    return int(amount.scaleb(2))


def from_cents(cents: int) -> Decimal:
    """An amount with exactly 2 decimal places from whole cents."""
    return Decimal(cents).scaleb(-2) if cents else _ZERO_CENTS


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up to an integer (numerator >= 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


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


def monthly_payment(principal: Decimal, annual_rate: Decimal, term_months: int, unit: int = 1) -> Decimal:
    """Equal-installment (等额本息) payment ``A = P*r/(1-(1+r)^-n)`` rounded HALF_UP to the currency's
    smallest amount (``unit`` cents: 0.01, or 1 for a currency with no minor unit); ``P/n`` so rounded
    when the rate is 0."""
    if annual_rate == 0:
        return from_cents(unit * div_half_up(to_cents(principal), term_months * unit))
    with localcontext() as ctx:
        ctx.prec = 50  # far beyond the cent for any principal and term the book accepts
        step = CENT if unit == 1 else Decimal(1).scaleb(len(str(unit)) - 3)  # 100 cents: whole units
        return (principal * _annuity_factor(annual_rate, term_months)).quantize(step, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=4096)  # a bank's products share rates and terms
def _annuity_factor(annual_rate: Decimal, term_months: int) -> Decimal:
    """``r / (1 - (1+r)^-n)`` to 50 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        r = annual_rate / _TWELVE
        return r / (_ONE - (_ONE + r) ** -term_months)


_DUES: dict[date, list[tuple[date, int]]] = {}
_DUES_MAX_STARTS = 1 << 16


def due_dates(start: date, upto: int) -> list[tuple[date, int]]:
    """At least ``upto`` due dates (``start`` + k months, clamped, k = 1, 2, ...) with their ordinals.

    Cached per start date and extended on demand: the loans of a book share start dates, and a long loan
    assessed early in its life needs only its first few due dates. Each extension publishes a new list,
    so readers on other threads never see one half-built.
    """
    dues = _DUES.get(start)
    if dues is None or len(dues) < upto:
        have = len(dues) if dues else 0
        grow = min(max(upto, 2 * have, 12), 480)
        fresh = [add_months(start, k) for k in range(have + 1, grow + 1)]
        dues = (dues or []) + [(due, due.toordinal()) for due in fresh]
        if len(_DUES) >= _DUES_MAX_STARTS:
            _DUES.clear()
        _DUES[start] = dues
    return dues


def iter_cents(loan: Loan) -> Iterator[CentsRow]:
    """Yield the loan's installments in order as ``(seq, due_date, ordinal, principal_cents,
    interest_cents)``,
    lazily: an explicit schedule as is, otherwise generated. Lazy so that assessing a 30-year mortgage in
    year two generates only what it needs."""
    if loan.installments is not None:
        for item in loan.installments:
            yield item.seq, item.due_date, item.due_date.toordinal(), to_cents(item.principal), to_cents(item.interest)
        return
    n = loan.term_months
    start = loan.start_date
    dues = due_dates(start, min(n, 12))
    balance = to_cents(loan.principal)
    rate_num, rate_den = loan.annual_rate.as_integer_ratio()
    # each period's interest rounded half up to the currency's smallest amount (``unit`` cents)
    unit = unit_cents(loan.currency)
    month_den = rate_den * 12 * unit
    twice_den = 2 * month_den
    if unit != 1:
        yield from _in_units(loan, n, start, dues, balance, rate_num, month_den, twice_den, unit)
        return
    if loan.repayment_method == "equal_principal":
        part = div_half_up(balance, n)
        for k in range(1, n):
            interest = (2 * balance * rate_num + month_den) // twice_den
            balance -= part
            if k > len(dues):
                dues = due_dates(start, k)
            due, ordinal = dues[k - 1]
            yield k, due, ordinal, part, interest
    else:
        payment = to_cents(monthly_payment(loan.principal, loan.annual_rate, n))
        for k in range(1, n):
            interest = (2 * balance * rate_num + month_den) // twice_den
            part = payment - interest
            balance -= part
            if k > len(dues):
                dues = due_dates(start, k)
            due, ordinal = dues[k - 1]
            yield k, due, ordinal, part, interest
    due, ordinal = due_dates(start, n)[n - 1]
    yield n, due, ordinal, balance, (2 * balance * rate_num + month_den) // twice_den


def _in_units(
    loan: Loan,
    n: int,
    start: date,
    dues: list[tuple[date, int]],
    balance: int,
    rate_num: int,
    month_den: int,
    twice_den: int,
    unit: int,
) -> Iterator[CentsRow]:
    """``iter_cents`` for a currency whose smallest amount is ``unit`` cents (no minor unit: 100): every
    principal part and interest is a whole number of units (the two-decimal path above is the hot one)."""
    if loan.repayment_method == "equal_principal":
        payment = None
        part = unit * div_half_up(balance, n * unit)
    else:
        payment = to_cents(monthly_payment(loan.principal, loan.annual_rate, n, unit))
    for k in range(1, n):
        interest = unit * ((2 * balance * rate_num + month_den) // twice_den)
        if payment is not None:
            part = payment - interest
        balance -= part
        if k > len(dues):
            dues = due_dates(start, k)
        due, ordinal = dues[k - 1]
        yield k, due, ordinal, part, interest
    due, ordinal = due_dates(start, n)[n - 1]
    yield n, due, ordinal, balance, unit * ((2 * balance * rate_num + month_den) // twice_den)


def iter_schedule(loan: Loan) -> Iterator[Installment]:
    """Yield the loan's installments in order (amounts as Decimals with 2 places)."""
    for seq, due_date, _, principal, interest in iter_cents(loan):
        yield Installment(seq, due_date, from_cents(principal), from_cents(interest))


def build_schedule(loan: Loan) -> list[Installment]:
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
    unit = unit_cents(loan.currency)  # rounding drifts by up to half the currency's smallest amount a period
    if loan.repayment_method == "equal_principal" or r == 0:
        drift_bound = Decimal("0.005") * unit * (n - 1)
        margin = loan.principal / n
    else:
        growth = (_ONE + r) ** (n - 1)
        drift_bound = Decimal("0.01") * unit * (growth - _ONE) / r
        margin = loan.principal * r / (_ONE - (_ONE + r) ** -n) / (_ONE + r)
    if drift_bound < margin:
        return None
    for seq, _, _, principal, interest in iter_cents(loan):
        if principal < 0 or interest < 0:
            return (
                f"the generated schedule is not viable: installment {seq} would have a negative "
                "amount (principal too small for the term, or rate and term too extreme)"
            )
    return None
