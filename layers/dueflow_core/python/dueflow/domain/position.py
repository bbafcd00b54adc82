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
days is ``d * unpaid * days``: the engine walks payment dates, not calendar days. It keeps amounts in
integer cents and the accrual as the exact integer sum of ``unpaid_cents * days``, so that the penalty
``d * sum`` is an exact fraction, rounded half up only when allocated or reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dueflow.domain.classification import Classification, bucket, classify
from dueflow.domain.loan import Loan
from dueflow.domain.schedule import CentsRow, from_cents, iter_cents, to_cents

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
    """Repayment state of one installment while payments are applied, in integer cents (internal)."""

    __slots__ = (
        "accrual",
        "accrued_through",
        "cleared",
        "due",
        "due_date",
        "interest",
        "interest_left",
        "penalty_paid",
        "principal",
        "principal_left",
        "seq",
    )

    def __init__(self, row: CentsRow) -> None:
        self.seq, self.due_date, self.due, self.principal, self.interest = row
        self.principal_left = self.principal
        self.interest_left = self.interest
        self.accrual = 0  # sum of unpaid_cents * days over the days accrued so far; penalty = d * accrual
        self.penalty_paid = 0
        self.accrued_through = self.due  # last day whose accrual is included
        # ordinal of the day principal + interest were fully paid (an installment of nothing is paid on
        # its due date)
        self.cleared: int | None = None if (self.principal or self.interest) else self.due


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
    flags: tuple[str, ...]
    # amounts in integer cents; the Decimal properties below are what callers read
    overdue_principal_cents: int
    overdue_interest_cents: int
    penalty_cents: int
    outstanding_principal_cents: int
    next_due_date: date | None
    next_due_cents: int
    paid_cents: int
    credit_cents: int
    # the statement lines as integer cents, turned into StatementLines only when asked for (a portfolio
    # assessment never needs them): (seq, due_date, days_overdue, principal, interest, principal_left,
    # interest_left, penalty_accrued, penalty_paid)
    line_cents: tuple[tuple[int, date, int, int, int, int, int, int, int], ...]

    @property
    def bucket(self) -> str:
        return bucket(self.dpd)

    @property
    def classification(self) -> Classification:
        return classify(self.dpd)

    @property
    def overdue_principal(self) -> Decimal:
        return from_cents(self.overdue_principal_cents)

    @property
    def overdue_interest(self) -> Decimal:
        return from_cents(self.overdue_interest_cents)

    @property
    def penalty(self) -> Decimal:
        return from_cents(self.penalty_cents)

    @property
    def outstanding_principal(self) -> Decimal:
        return from_cents(self.outstanding_principal_cents)

    @property
    def next_due_amount(self) -> Decimal:
        return from_cents(self.next_due_cents)

    @property
    def paid_total(self) -> Decimal:
        return from_cents(self.paid_cents)

    @property
    def unapplied_credit(self) -> Decimal:
        return from_cents(self.credit_cents)

    @property
    def total_overdue_cents(self) -> int:
        return self.overdue_principal_cents + self.overdue_interest_cents + self.penalty_cents

    @property
    def total_overdue(self) -> Decimal:
        return from_cents(self.total_overdue_cents)

    @property
    def is_overdue(self) -> bool:
        return self.dpd > 0

    @property
    def lines(self) -> tuple[StatementLine, ...]:
        """The itemised statement: one line per overdue installment (or one with penalty left)."""
        return tuple(
            StatementLine(
                seq=seq,
                due_date=due_date,
                days_overdue=days,
                principal_due=from_cents(principal),
                interest_due=from_cents(interest),
                principal_paid=from_cents(principal - principal_left),
                interest_paid=from_cents(interest - interest_left),
                principal_outstanding=from_cents(principal_left),
                interest_outstanding=from_cents(interest_left),
                penalty_accrued=from_cents(accrued),
                penalty_paid=from_cents(penalty_paid),
                penalty_outstanding=from_cents(accrued - penalty_paid),
            )
            for seq, due_date, days, principal, interest, principal_left, interest_left, accrued, penalty_paid in (
                self.line_cents
            )
        )


class _Ledger:
    """Applies a loan's payments to its (lazily generated) schedule, in integer cents."""

    __slots__ = (
        "credit",
        "exhausted",
        "head",
        "paid",
        "penalty_den",
        "penalty_num",
        "principal_skipped",
        "rows",
        "states",
    )

    def __init__(self, loan: Loan) -> None:
        self.states: list[_State] = []
        self.head = 0  # states[:head] are fully settled (principal, interest and penalty)
        # d = annual_rate * multiplier / 360 as an exact fraction num / den
        num, den = (loan.annual_rate * loan.penalty_rate_multiplier).as_integer_ratio()
        self.penalty_num = num
        self.penalty_den = den * 360
        self.rows: Iterator[CentsRow] = iter_cents(loan)
        self.exhausted = False
        self.credit = 0
        self.paid = 0
        self.principal_skipped = 0  # principal of the on-time prefix settled without tracking

    def penalty_cents(self, state: _State) -> int:
        """The installment's accrued penalty, rounded half up to the cent."""
        if not state.accrual:
            return 0
        den = self.penalty_den
        return (2 * state.accrual * self.penalty_num + den) // (2 * den)

    def materialise_through(self, day: int) -> None:
        """Make sure every installment due on or before ``day`` is in ``states``."""
        states = self.states
        while not self.exhausted and (not states or states[-1].due <= day):
            row = next(self.rows, None)
            if row is None:
                self.exhausted = True
            else:
                states.append(_State(row))

    def accrue_through(self, day: int) -> None:
        """Accrue through ``day`` on every installment overdue then (due before ``day``) and unpaid."""
        if not self.penalty_num:
            return
        states = self.states
        for index in range(self.head, len(states)):
            state = states[index]
            if state.due >= day:
                break
            if state.cleared is None:
                days = day - state.accrued_through
                if days > 0:
                    state.accrual += (state.principal_left + state.interest_left) * days
                    state.accrued_through = day

    def pay(self, day: int, amount: int) -> None:
        """Apply a payment of ``amount`` cents received on ``day`` (ordinal): due installments oldest
        first (penalty, interest, principal), then the next installments in order (interest, principal)."""
        states = self.states
        self.materialise_through(day)
        head = self.head
        if self.penalty_num and head < len(states) and states[head].due < day - 1:
            self.accrue_through(day - 1)
        self.paid += amount
        left = amount
        index = head
        count = len(states)
        while left and index < count and states[index].due <= day:
            state = states[index]
            if state.accrual:
                owed = self.penalty_cents(state) - state.penalty_paid
                if owed > 0:
                    part = owed if owed < left else left
                    state.penalty_paid += part
                    left -= part
            left = _settle(state, day, left)
            index += 1
        while left:
            if index >= len(states):
                self.materialise_through(states[-1].due if states else day)
                if index >= len(states):
                    self.credit += left
                    break
            left = _settle(states[index], day, left)
            index += 1
        count = len(states)
        while head < count:
            state = states[head]
            if state.cleared is None or (state.accrual and state.penalty_paid < self.penalty_cents(state)):
                break
            head += 1
        self.head = head

    def unpaid_due_by(self, day: int) -> bool:
        """Whether any installment due on or before ``day`` still has principal or interest unpaid."""
        states = self.states
        for index in range(self.head, len(states)):
            state = states[index]
            if state.due > day:
                return False
            if state.cleared is None:
                return True
        return False


def _settle(state: _State, day: int, left: int) -> int:
    """Pay interest, then principal, of one installment from ``left`` cents; return what is left."""
    interest = state.interest_left
    if interest:
        if interest > left:
            state.interest_left = interest - left
            return 0
        state.interest_left = 0
        left -= interest
    principal = state.principal_left
    if principal:
        if principal > left:
            state.principal_left = principal - left
            return 0
        state.principal_left = 0
        left -= principal
    if state.cleared is None:
        state.cleared = day
    return left


def assess(loan: Loan, as_of: date, policy: WarningPolicy = DEFAULT_WARNING_POLICY) -> Position:
    """The loan's position at the end of ``as_of`` (payments dated after it are ignored)."""
    as_of_day = as_of.toordinal()
    ledger = _Ledger(loan)
    payments = loan.payments  # in date order: the Loan validator sorts them
    count = len(payments)
    index = 0
    last_payment_day = None
    # Fast-forward: the leading run of payments that each pay exactly the next installment, on or before
    # its due date, settles those installments without tracking them. Most loans are paid like that, and
    # such installments can never accrue penalty nor count as late.
    rows = ledger.rows
    skipped = paid = 0
    for payment in payments:
        day = payment.date.toordinal()
        if day > as_of_day:
            count = index  # nothing after as-of counts
            break
        row = next(rows, None)
        if row is None:
            ledger.exhausted = True
            break
        amount = int(payment.amount.scaleb(2))
        if amount != row[3] + row[4] or day > row[2]:
            ledger.states.append(_State(row))
            break
        skipped += row[3]
        paid += amount
        last_payment_day = day
        index += 1
    ledger.principal_skipped = skipped
    ledger.paid = paid
    # Everything else goes through the full ledger.
    while index < count:
        payment = payments[index]
        day = payment.date.toordinal()
        if day > as_of_day:
            break
        ledger.pay(day, int(payment.amount.scaleb(2)))
        last_payment_day = day
        index += 1
    ledger.materialise_through(as_of_day + policy.due_soon_days)
    ledger.accrue_through(as_of_day)
    return _position(loan, as_of, as_of_day, ledger, policy, last_payment_day)


def _position(
    loan: Loan,
    as_of: date,
    as_of_day: int,
    ledger: _Ledger,
    policy: WarningPolicy,
    last_payment_day: int | None,
) -> Position:
    states = ledger.states
    lines: list[tuple[int, date, int, int, int, int, int, int, int]] = []
    overdue_principal = overdue_interest = penalty = 0
    oldest_unpaid: int | None = None
    next_due: _State | None = None
    for index in range(ledger.head, len(states)):
        state = states[index]
        if state.due >= as_of_day:
            break
        accrued = ledger.penalty_cents(state)
        penalty_left = accrued - state.penalty_paid
        if state.cleared is None and oldest_unpaid is None:
            oldest_unpaid = state.due
        if state.cleared is None or penalty_left > 0:
            overdue_principal += state.principal_left
            overdue_interest += state.interest_left
            penalty += penalty_left
            lines.append(
                (
                    state.seq,
                    state.due_date,
                    as_of_day - state.due if state.cleared is None else state.cleared - state.due,
                    state.principal,
                    state.interest,
                    state.principal_left,
                    state.interest_left,
                    accrued,
                    state.penalty_paid,
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
    if _at_risk(states, as_of_day, policy) or (last_payment_day is not None and ledger.unpaid_due_by(last_payment_day)):
        flags.append(FLAG_AT_RISK)
    principal_paid = ledger.principal_skipped + sum([s.principal - s.principal_left for s in states])
    return Position(
        loan_id=loan.loan_id,
        as_of=as_of,
        currency=loan.currency,
        dpd=dpd,
        flags=tuple(flags),
        overdue_principal_cents=overdue_principal,
        overdue_interest_cents=overdue_interest,
        penalty_cents=penalty,
        outstanding_principal_cents=to_cents(loan.principal) - principal_paid,
        next_due_date=next_due.due_date if next_due is not None else None,
        next_due_cents=next_due.principal_left + next_due.interest_left if next_due else 0,
        paid_cents=ledger.paid,
        credit_cents=ledger.credit,
        line_cents=tuple(lines),
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
