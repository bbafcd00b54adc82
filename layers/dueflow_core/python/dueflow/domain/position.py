"""The overdue position of a loan as of a date: 逾期识别 and 确认逾期 (see docs/formulas.md).

Rules, in short:
- an installment is overdue on day t when t > due_date and its principal + interest is not fully paid;
- penalty interest accrues daily at ``d = annual_rate * penalty_rate_multiplier / 360`` on the unpaid
  principal + interest of each overdue installment at the end of each day, exactly (no per-day
  rounding); it is rounded to 0.01 HALF_UP only when reported or allocated;
- a payment dated t is applied on day t to installments due on or before t, oldest first, and within an
  installment to accrued penalty (rounded), then interest, then principal; what is left prepays the
  next installments in order (interest, then principal); a payment never changes earlier days' accrual.

Because the unpaid amount of an installment only changes on payment days, the accrual over a run of
days is ``d * unpaid * days``: the engine walks payment dates, not calendar days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dueflow.domain.classification import Classification, bucket, classify
from dueflow.domain.loan import Loan
from dueflow.domain.money import CENT, ZERO
from dueflow.domain.schedule import InstallmentLike, iter_schedule

_360 = Decimal(360)
_HALF_UP = "ROUND_HALF_UP"

FLAG_DUE_SOON = "due_soon"
FLAG_AT_RISK = "at_risk"


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """Early-warning thresholds. ``due_soon_days``: look-ahead for pre-due reminders (days, inclusive of
    the as-of date); a loan late on ``at_risk_late`` or more of its last ``at_risk_window`` due
    installments is at risk."""

    due_soon_days: int = 3
    at_risk_late: int = 2
    at_risk_window: int = 6


DEFAULT_WARNING_POLICY = WarningPolicy()


class _State:
    """Mutable repayment state of one installment while payments are applied (internal)."""

    __slots__ = (
        "item",
        "due",
        "principal_left",
        "interest_left",
        "accrued",
        "penalty_paid",
        "accrued_through",
        "cleared",
    )

    def __init__(self, item: InstallmentLike) -> None:
        self.item = item
        self.due = item.due_date.toordinal()
        self.principal_left = item.principal
        self.interest_left = item.interest
        self.accrued = ZERO  # exact penalty accrued so far
        self.penalty_paid = ZERO
        self.accrued_through = self.due  # last day whose accrual is included
        # ordinal of the day principal + interest were fully paid (an installment of nothing is paid on
        # its due date)
        self.cleared: int | None = None if (item.principal or item.interest) else self.due

    def accrue_to(self, day: int, rate: Decimal) -> None:
        """Add the penalty for days (accrued_through, day] at the current unpaid amount."""
        days = day - self.accrued_through
        if days > 0:
            self.accrued += rate * (self.principal_left + self.interest_left) * days
            self.accrued_through = day


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One overdue installment of the itemised statement (逾期账单). Amounts in the loan's currency."""

    seq: int
    due_date: date
    days_overdue: int
    principal_due: Decimal
    interest_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    principal_outstanding: Decimal
    interest_outstanding: Decimal
    penalty_accrued: Decimal
    penalty_paid: Decimal
    penalty_outstanding: Decimal

    @property
    def total_outstanding(self) -> Decimal:
        return self.principal_outstanding + self.interest_outstanding + self.penalty_outstanding


@dataclass(frozen=True, slots=True)
class Position:
    """A loan's delinquency picture as of ``as_of`` (a local date). Amounts in ``currency``, 2 places."""

    loan_id: str
    as_of: date
    currency: str
    dpd: int
    bucket: str
    classification: Classification
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty: Decimal
    outstanding_principal: Decimal
    flags: tuple[str, ...]
    lines: tuple[StatementLine, ...]
    next_due_date: date | None
    next_due_amount: Decimal
    paid_total: Decimal
    unapplied_credit: Decimal = field(default=ZERO)

    @property
    def total_overdue(self) -> Decimal:
        return self.overdue_principal + self.overdue_interest + self.penalty

    @property
    def is_overdue(self) -> bool:
        return self.dpd > 0


class _Ledger:
    """Applies a loan's payments to its (lazily generated) schedule."""

    __slots__ = ("states", "head", "rate", "_schedule", "_exhausted", "credit", "last_partial", "paid")

    def __init__(self, loan: Loan) -> None:
        self.states: list[_State] = []
        self.head = 0  # states[:head] are fully settled (principal, interest and penalty)
        self.rate = loan.annual_rate * loan.penalty_rate_multiplier / _360
        self._schedule: Iterator[InstallmentLike] = iter_schedule(loan)
        self._exhausted = False
        self.credit = ZERO
        self.last_partial = False
        self.paid = ZERO

    def _pull(self) -> bool:
        """Materialise the next installment; False when the schedule is exhausted."""
        if self._exhausted:
            return False
        nxt = next(self._schedule, None)
        if nxt is None:
            self._exhausted = True
            return False
        self.states.append(_State(nxt))
        return True

    def materialise_through(self, day: int) -> None:
        """Make sure every installment due on or before ``day`` is in ``states``."""
        states = self.states
        while (not states or states[-1].due <= day) and self._pull():
            pass

    def accrue_through(self, day: int) -> None:
        """Accrue penalty on every overdue unsettled installment through ``day``."""
        rate = self.rate
        if not rate:
            return
        states = self.states
        for index in range(self.head, len(states)):
            state = states[index]
            if state.due >= day:
                break
            if state.cleared is None:
                state.accrue_to(day, rate)

    def pay(self, day: int, amount: Decimal) -> None:
        """Apply a payment received on ``day`` (ordinal)."""
        self.materialise_through(day)
        self.accrue_through(day - 1)
        self.paid += amount
        left = amount
        states = self.states
        index = self.head
        # Installments due on or before the payment day, oldest first: penalty, interest, principal.
        while left and index < len(states) and states[index].due <= day:
            left = self._settle(states[index], day, left, with_penalty=True)
            index += 1
        self.last_partial = any(
            states[i].cleared is None for i in range(self.head, len(states)) if states[i].due <= day
        )
        # Prepayment: the next installments in order.
        while left:
            if index >= len(states) and not self._pull():
                self.credit += left
                break
            left = self._settle(states[index], day, left, with_penalty=False)
            index += 1
        while self.head < len(states) and self._settled(states[self.head]):
            self.head += 1

    @staticmethod
    def _settled(state: _State) -> bool:
        return state.cleared is not None and state.penalty_paid >= state.accrued.quantize(CENT, rounding=_HALF_UP)

    @staticmethod
    def _settle(state: _State, day: int, left: Decimal, *, with_penalty: bool) -> Decimal:
        if with_penalty and state.accrued:
            owed = state.accrued.quantize(CENT, rounding=_HALF_UP) - state.penalty_paid
            if owed > 0:
                part = owed if owed < left else left
                state.penalty_paid += part
                left -= part
        if left and state.interest_left:
            part = state.interest_left if state.interest_left < left else left
            state.interest_left -= part
            left -= part
        if left and state.principal_left:
            part = state.principal_left if state.principal_left < left else left
            state.principal_left -= part
            left -= part
        if state.cleared is None and not state.interest_left and not state.principal_left:
            state.cleared = day
        return left


def assess(loan: Loan, as_of: date, policy: WarningPolicy = DEFAULT_WARNING_POLICY) -> Position:
    """The loan's position at the end of ``as_of`` (payments dated after it are ignored)."""
    as_of_day = as_of.toordinal()
    ledger = _Ledger(loan)
    last_payment_day = None
    for payment in sorted(loan.payments, key=_payment_date) if len(loan.payments) > 1 else loan.payments:
        day = payment.date.toordinal()
        if day > as_of_day:
            break
        ledger.pay(day, payment.amount)
        last_payment_day = day
    horizon = as_of_day + policy.due_soon_days
    ledger.materialise_through(horizon)
    ledger.accrue_through(as_of_day)
    return _position(loan, as_of, as_of_day, ledger, policy, last_payment_day)


def _payment_date(payment: object) -> date:
    return payment.date  # type: ignore[attr-defined,no-any-return]


def _position(
    loan: Loan,
    as_of: date,
    as_of_day: int,
    ledger: _Ledger,
    policy: WarningPolicy,
    last_payment_day: int | None,
) -> Position:
    states = ledger.states
    lines: list[StatementLine] = []
    overdue_principal = overdue_interest = penalty = ZERO
    oldest_unpaid: int | None = None
    next_due: _State | None = None
    for index in range(ledger.head, len(states)):
        state = states[index]
        if state.due >= as_of_day:
            break
        accrued = state.accrued.quantize(CENT, rounding=_HALF_UP)
        penalty_left = accrued - state.penalty_paid
        if state.cleared is None and oldest_unpaid is None:
            oldest_unpaid = state.due
        if state.cleared is None or penalty_left > 0:
            item = state.item
            overdue_principal += state.principal_left
            overdue_interest += state.interest_left
            penalty += penalty_left
            lines.append(
                StatementLine(
                    seq=item.seq,
                    due_date=item.due_date,
                    days_overdue=as_of_day - state.due if state.cleared is None else state.cleared - state.due,
                    principal_due=item.principal,
                    interest_due=item.interest,
                    principal_paid=item.principal - state.principal_left,
                    interest_paid=item.interest - state.interest_left,
                    principal_outstanding=state.principal_left,
                    interest_outstanding=state.interest_left,
                    penalty_accrued=accrued,
                    penalty_paid=state.penalty_paid,
                    penalty_outstanding=penalty_left,
                )
            )
    for index in range(ledger.head, len(states)):
        state = states[index]
        if state.due >= as_of_day and state.cleared is None:
            next_due = state
            break
    dpd = as_of_day - oldest_unpaid if oldest_unpaid is not None else 0
    flags: list[str] = []
    if dpd == 0 and next_due is not None and next_due.due <= as_of_day + policy.due_soon_days:
        flags.append(FLAG_DUE_SOON)
    if _at_risk(states, as_of_day, policy) or (last_payment_day is not None and ledger.last_partial):
        flags.append(FLAG_AT_RISK)
    outstanding_principal = loan.principal - sum((s.item.principal - s.principal_left for s in states), ZERO)
    return Position(
        loan_id=loan.loan_id,
        as_of=as_of,
        currency=loan.currency,
        dpd=dpd,
        bucket=bucket(dpd),
        classification=classify(dpd),
        overdue_principal=overdue_principal,
        overdue_interest=overdue_interest,
        penalty=penalty,
        outstanding_principal=outstanding_principal,
        flags=tuple(flags),
        lines=tuple(lines),
        next_due_date=next_due.item.due_date if next_due is not None else None,
        next_due_amount=(next_due.principal_left + next_due.interest_left) if next_due is not None else ZERO,
        paid_total=ledger.paid,
        unapplied_credit=ledger.credit,
    )


def _at_risk(states: list[_State], as_of_day: int, policy: WarningPolicy) -> bool:
    """Late on ``at_risk_late`` or more of the last ``at_risk_window`` installments due by as-of.

    An installment is late when it was cleared after its due date, or is still unpaid past it.
    """
    end = len(states)
    while end and states[end - 1].due > as_of_day:
        end -= 1
    late = 0
    for state in states[max(0, end - policy.at_risk_window) : end]:
        if (state.cleared is None and as_of_day > state.due) or (
            state.cleared is not None and state.cleared > state.due
        ):
            late += 1
    return late >= policy.at_risk_late
