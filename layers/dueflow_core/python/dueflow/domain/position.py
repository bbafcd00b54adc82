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
from typing import Any

from dueflow.domain.classification import Classification, bucket, classify
from dueflow.domain.loan import Loan, Waiver
from dueflow.domain.money import unit_cents
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
        "accrual_on_interest",
        "accrued_through",
        "cleared",
        "due",
        "due_date",
        "frozen",
        "interest",
        "interest_left",
        "interest_off",
        "penalty_off",
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
        self.accrual_on_interest = 0  # the part of it on unpaid interest: 复利 (the rest, on principal: 罚息)
        self.penalty_paid = 0
        self.penalty_off = 0  # waived
        self.interest_off = 0  # waived
        self.frozen = False  # covered by a restructuring in force: no accrual, not overdue on its own date
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
    penalty_waived: Decimal = Decimal("0.00")
    interest_waived: Decimal = Decimal("0.00")
    # the day it was payable without penalty when that is not the due date (a rule pack's holiday grace)
    payable_on: date | None = None
    # the accrued penalty in its two parts: 罚息 on overdue principal, 复利 on overdue interest (they add
    # up to penalty_accrued; payments and waivers reduce the whole)
    penalty_on_principal_accrued: Decimal = Decimal("0.00")
    compound_interest_accrued: Decimal = Decimal("0.00")

    @property
    def total_outstanding(self) -> Decimal:
        return self.principal_outstanding + self.interest_outstanding + self.penalty_outstanding


@dataclass(frozen=True, slots=True)
class PlanPosition:
    """A restructuring booked on the loan, as of the position's date (amounts in the loan's currency).
    ``covered``: the arrears it took over; ``paid``: what has gone to them since; ``next_installment``:
    (seq, due date, still owed on it) of the first plan installment not yet met."""

    reference: str
    accepted_on: date
    covered: Decimal
    paid: Decimal
    next_installment: tuple[int, date, Decimal] | None
    broken_on: date | None
    completed_on: date | None
    superseded_on: date | None
    waiver_reinstated: Decimal = Decimal("0.00")  # its conditional waivers, owed again since it broke

    @property
    def remaining(self) -> Decimal:
        return self.covered - self.paid

    @property
    def in_force(self) -> bool:
        return self.broken_on is None and self.completed_on is None and self.superseded_on is None


def _payable(rules: str | None, due: date) -> date | None:
    if rules is None:
        return None
    from dueflow.domain.rules import load_pack

    payable = load_pack(rules).payable_on(due)
    return payable if payable != due else None


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
    line_cents: tuple[tuple[int, date, int, int, int, int, int, int, int, int, int, int], ...]
    # what the ledger entries did: waived in total, the part of a plan in force that is overdue, the plans
    waived_cents: int = 0  # net of reinstated waivers
    reinstated_cents: int = 0  # conditional waivers owed again because their plan broke
    plan_arrears_cents: int = 0
    plans: tuple[PlanPosition, ...] = ()
    penalty_charged_cents: int = 0  # all penalty accrued so far (rounded per installment), paid or not
    rules: str | None = None  # the loan's rule pack (its calendar decides when each line became payable)

    @property
    def owed_cents(self) -> int:
        """Everything owed that has fallen due: overdue principal, interest and penalty, and what is left
        of a plan in force (its installments not yet due included: the arrears it covers are due)."""
        plan = self.plan
        remaining = to_cents(plan.remaining) if plan is not None and plan.in_force else 0
        return self.overdue_principal_cents + self.overdue_interest_cents + self.penalty_cents + remaining

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
    def waived(self) -> Decimal:
        return from_cents(self.waived_cents)

    @property
    def reinstated(self) -> Decimal:
        """Conditional waivers owed again because the plan they were granted for broke."""
        return from_cents(self.reinstated_cents)

    @property
    def plan_arrears(self) -> Decimal:
        """What is overdue on a restructuring in force (its installments past due and not met)."""
        return from_cents(self.plan_arrears_cents)

    @property
    def plan(self) -> PlanPosition | None:
        """The latest restructuring booked on the loan, if any."""
        return self.plans[-1] if self.plans else None

    def plan_for(self, reference: str) -> PlanPosition | None:
        return next((p for p in self.plans if p.reference == reference), None)

    @property
    def total_overdue_cents(self) -> int:
        return self.overdue_principal_cents + self.overdue_interest_cents + self.penalty_cents + self.plan_arrears_cents

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
                interest_paid=from_cents(interest - interest_left - interest_off),
                principal_outstanding=from_cents(principal_left),
                interest_outstanding=from_cents(interest_left),
                penalty_accrued=from_cents(accrued),
                penalty_paid=from_cents(penalty_paid),
                penalty_outstanding=from_cents(accrued - penalty_paid - penalty_off),
                penalty_waived=from_cents(penalty_off),
                interest_waived=from_cents(interest_off),
                payable_on=_payable(self.rules, due_date),
                penalty_on_principal_accrued=from_cents(accrued - compound),
                compound_interest_accrued=from_cents(compound),
            )
            for (
                seq,
                due_date,
                days,
                principal,
                interest,
                principal_left,
                interest_left,
                accrued,
                penalty_paid,
                penalty_off,
                interest_off,
                compound,
            ) in self.line_cents
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
        "unit",
        "plan",
        "plans",
        "conditional",
        "principal_skipped",
        "reinstated",
        "rows",
        "states",
        "waived",
    )

    def __init__(self, loan: Loan) -> None:
        self.states: list[_State] = []
        self.head = 0  # states[:head] are fully settled (principal, interest and penalty)
        # d = annual_rate * multiplier / 360 as an exact fraction num / den
        num, den = (loan.annual_rate * loan.penalty_rate_multiplier).as_integer_ratio()
        self.unit = unit_cents(loan.currency)  # the currency's smallest amount, in cents
        self.penalty_num = num
        self.penalty_den = den * 360 * self.unit
        self.rows: Iterator[CentsRow] = payable_rows(loan)
        self.exhausted = False
        self.credit = 0
        self.paid = 0
        self.principal_skipped = 0  # principal of the on-time prefix settled without tracking
        self.plan: _Plan | None = None  # the restructuring in force
        self.plans: list[_Plan] = []
        self.waived = 0
        self.reinstated = 0  # conditional waivers owed again since their plan broke
        # conditional waivers by the plan they were granted for: (installment, penalty, interest) taken off
        self.conditional: dict[str, list[tuple[_State, int, int]]] = {}

    def penalty_cents(self, state: _State) -> int:
        """The installment's accrued penalty, rounded half up to the cent (to the currency's smallest
        amount: ``penalty_den`` holds the unit, ``unit`` turns units back into cents)."""
        if not state.accrual:
            return 0
        den = self.penalty_den
        return self.unit * ((2 * state.accrual * self.penalty_num + den) // (2 * den))

    def compound_cents(self, state: _State) -> int:
        """The part of the accrued penalty that is 复利 (on overdue interest), rounded half up; the rest of
        ``penalty_cents`` is 罚息 (on overdue principal), so the two always add up to it."""
        if not state.accrual_on_interest:
            return 0
        den = self.penalty_den
        return self.unit * ((2 * state.accrual_on_interest * self.penalty_num + den) // (2 * den))

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
            if state.cleared is None and not state.frozen:
                days = day - state.accrued_through
                if days > 0:
                    state.accrual += (state.principal_left + state.interest_left) * days
                    state.accrual_on_interest += state.interest_left * days
                    state.accrued_through = day

    def _take(self, state: _State, day: int, left: int) -> int:
        """Pay one installment's penalty, interest and principal from ``left``; return what is left."""
        if state.accrual:
            owed = self.penalty_cents(state) - state.penalty_paid - state.penalty_off
            if owed > 0:
                part = owed if owed < left else left
                state.penalty_paid += part
                left -= part
        return _settle(state, day, left) if left else left

    def pay(self, day: int, amount: int) -> None:
        """Apply a payment of ``amount`` cents received on ``day`` (ordinal): due installments oldest
        first (penalty, interest, principal), then the next installments in order (interest, principal)."""
        if self.plan is not None:
            self._pay_in_plan(day, amount)
            return
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
            left = self._take(states[index], day, left)
            index += 1
        self._prepay(day, left, index)

    def _prepay(self, day: int, left: int, index: int) -> None:
        """What is left of a payment prepays the installments from ``index`` on (interest, principal),
        then stays as credit; the settled head moves on."""
        states = self.states
        while left:
            if index >= len(states):
                self.materialise_through(states[-1].due if states else day)
                if index >= len(states):
                    self.credit += left
                    break
            left = _settle(states[index], day, left)
            index += 1
        self._advance_head()

    def _advance_head(self) -> None:
        states = self.states
        head = self.head
        count = len(states)
        while head < count:
            state = states[head]
            if state.cleared is None or (
                state.accrual and state.penalty_paid + state.penalty_off < self.penalty_cents(state)
            ):
                break
            head += 1
        self.head = head

    # -- ledger entries: waivers and restructurings (the slower path; loans without entries never take it)
    def _owed(self, state: _State) -> int:
        """Principal, interest and penalty still owed on an installment."""
        return (
            state.principal_left
            + state.interest_left
            + self.penalty_cents(state)
            - state.penalty_paid
            - state.penalty_off
        )

    def _pay_covered(self, plan: _Plan, day: int, amount: int) -> int:
        """Pay up to ``amount`` to the arrears ``plan`` covers, oldest first; return how much went."""
        left = amount
        for state in plan.covered:
            if not left:
                break
            left = self._take(state, day, left)
        used = amount - left
        plan.paid += used
        return used

    def _pay_in_plan(self, day: int, amount: int) -> None:
        """A payment while a restructuring is in force: the plan installments due by ``day``, then the
        regular installments that have fallen due by then (oldest first), then the rest of the plan (paid
        ahead), then later installments; what is left stays as credit.

        A regular installment has fallen due on its contractual due date even when a rule pack's holiday
        grace makes it payable later: a payment on a due date that is a rest day settles that installment
        (as the contract says), it is not taken by the plan in advance."""
        plan = self.plan
        assert plan is not None
        self.materialise_through(day)
        states = self.states
        while not self.exhausted and states and states[-1].due_date.toordinal() <= day:
            self.materialise_through(states[-1].due)
        self.accrue_through(day - 1)
        self.paid += amount
        left = amount
        left -= self._pay_covered(plan, day, min(max(plan.level_due(day) - plan.paid, 0), left))
        index = self.head
        while index < len(states) and (states[index].due <= day or states[index].due_date.toordinal() <= day):
            state = states[index]
            if left and not state.frozen:
                left = self._take(state, day, left)
            index += 1
        if left:
            left -= self._pay_covered(plan, day, left)
        self._close_plan_if_met(day)
        self._prepay(day, left, index)

    def _close_plan_if_met(self, day: int) -> None:
        plan = self.plan
        if plan is not None and plan.paid >= plan.total:
            plan.completed_on = day
            self._end_plan(day)

    def _end_plan(self, day: int) -> None:
        """The plan stops: covered installments get their own due dates back and accrue from ``day``."""
        plan = self.plan
        assert plan is not None
        for state in plan.covered:
            if state.frozen:
                state.frozen = False
                state.accrued_through = max(state.accrued_through, day - 1)  # accrues from ``day`` on
        self.plan = None

    def waive(self, day: int, penalty: int, interest: int, condition: str | None = None) -> None:
        """Waive, at the end of ``day``, up to ``penalty`` of penalty and ``interest`` of interest on the
        installments then overdue (due before ``day``), oldest first; a waiver on ``condition`` (a plan's
        reference) is reinstated if that plan breaks."""
        taken_off = self.conditional.setdefault(condition, []) if condition is not None else None
        self.materialise_through(day)
        self.accrue_through(day)
        states = self.states
        plan = self.plan
        for index in range(self.head, len(states)):
            state = states[index]
            if state.due >= day or not (penalty or interest):
                break
            owed = self.penalty_cents(state) - state.penalty_paid - state.penalty_off
            part = min(owed, penalty) if owed > 0 else 0
            state.penalty_off += part
            penalty -= part
            taken = min(state.interest_left, interest)
            state.interest_left -= taken
            state.interest_off += taken
            interest -= taken
            if state.cleared is None and not state.interest_left and not state.principal_left:
                state.cleared = day
            self.waived += part + taken
            if taken_off is not None and (part or taken):
                taken_off.append((state, part, taken))
            if plan is not None and state.frozen:
                plan.total -= part + taken
        self._close_plan_if_met(day)
        self._advance_head()

    def _reinstate(self, plan: _Plan, day: int) -> None:
        """The plan broke on ``day``: the waivers granted on its condition are owed again, accruing from
        ``day`` on (not for the days they were waived)."""
        first = None
        for state, penalty, interest in self.conditional.pop(plan.reference, ()):
            state.penalty_off -= penalty
            state.interest_off -= interest
            if interest:
                if state.cleared is not None:
                    state.cleared = None
                state.accrued_through = max(state.accrued_through, day - 1)
                state.interest_left += interest
            self.waived -= penalty + interest
            plan.reinstated += penalty + interest
            index = self.states.index(state)
            first = index if first is None else min(first, index)
        self.reinstated += plan.reinstated
        if first is not None and first < self.head:
            self.head = first

    def restructure(self, day: int, reference: str, lines: list[tuple[int, int]], grace: int) -> None:
        """Book a restructuring at the end of ``day``: the arrears outstanding then (every installment due
        before ``day``) fall due by ``lines`` ((due ordinal, amount in cents)) and accrue no more."""
        if self.plan is not None:  # the plan it replaces was in force all this day: no accrual for it
            self.plan.superseded_on = day
            self._end_plan(day + 1)
        self.materialise_through(day)
        self.accrue_through(day)
        states = self.states
        covered = [s for s in states[self.head :] if s.due < day and self._owed(s) > 0]
        for state in covered:
            state.frozen = True
        plan = _Plan(reference, day, covered, sum(self._owed(s) for s in covered), lines, grace)
        self.plans.append(plan)
        self.plan = plan
        self._close_plan_if_met(day)

    def oldest_unmet(self, day: int) -> int | None:
        """The due date (ordinal) of the oldest obligation unmet at the end of ``day`` (a plan in force
        counts by its own installments; regular installments by theirs)."""
        oldest = None
        plan = self.plan
        if plan is not None:
            due = plan.first_unmet()
            if due is not None and due < day:
                oldest = due
        states = self.states
        for index in range(self.head, len(states)):
            state = states[index]
            if state.due >= day:
                break
            if state.cleared is None and not state.frozen:
                return state.due if oldest is None or state.due < oldest else oldest
        return oldest

    def check_plan(self, day: int) -> None:
        """Break the plan in force if, before ``day``'s payments, an obligation has been unmet for longer
        than its grace: it breaks on the first day past the grace."""
        plan = self.plan
        if plan is None:
            return
        self.materialise_through(day)
        oldest = self.oldest_unmet(day)
        if oldest is not None and oldest + plan.grace + 1 <= day:
            broken = oldest + plan.grace + 1
            self.accrue_through(broken - 1)
            plan.broken_on = broken
            self._end_plan(broken)
            self._reinstate(plan, broken)

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


class _Plan:
    """A restructuring while it is applied (internal; amounts in cents, days as ordinals)."""

    __slots__ = (
        "broken_on",
        "completed_on",
        "covered",
        "grace",
        "levels",
        "paid",
        "reference",
        "reinstated",
        "start",
        "superseded_on",
        "total",
    )

    def __init__(
        self, reference: str, start: int, covered: list[_State], total: int, lines: list[tuple[int, int]], grace: int
    ) -> None:
        self.reference = reference
        self.start = start
        self.covered = covered
        self.total = total
        self.paid = 0
        self.reinstated = 0  # the conditional waivers granted for it, owed again since it broke
        self.grace = grace
        cumulative = 0
        self.levels: list[tuple[int, int]] = []  # (due ordinal, cumulative amount): the last one is total
        for due, amount in lines:
            cumulative += amount
            self.levels.append((due, cumulative))
        self.broken_on: int | None = None
        self.completed_on: int | None = None
        self.superseded_on: int | None = None

    def level(self, index: int) -> int:
        """The covered amount due by the ``index``-th plan installment (the last takes any difference
        between the plan's amounts and the arrears it covers)."""
        return self.total if index == len(self.levels) - 1 else min(self.levels[index][1], self.total)

    def level_due(self, day: int) -> int:
        due = 0
        for index, (on, _) in enumerate(self.levels):
            if on > day:
                break
            due = self.level(index)
        return due

    def first_unmet(self) -> int | None:
        for index, (on, _) in enumerate(self.levels):
            if self.paid < self.level(index):
                return on
        return None

    def next_installment(self) -> tuple[int, date, Decimal] | None:
        previous = 0
        for index, (on, _) in enumerate(self.levels):
            level = self.level(index)
            if self.paid < level:
                owed = level - max(self.paid, previous)
                return index + 1, date.fromordinal(on), from_cents(owed)
            previous = level
        return None

    def public(self) -> PlanPosition:
        def day(value: int | None) -> date | None:
            return date.fromordinal(value) if value is not None else None

        return PlanPosition(
            reference=self.reference,
            accepted_on=date.fromordinal(self.start),
            covered=from_cents(self.total),
            paid=from_cents(min(self.paid, self.total)),
            next_installment=None if self.completed_on is not None else self.next_installment(),
            broken_on=day(self.broken_on),
            completed_on=day(self.completed_on),
            superseded_on=day(self.superseded_on),
            waiver_reinstated=from_cents(self.reinstated),
        )


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


def payable_rows(loan: Loan) -> Iterator[CentsRow]:
    """The installments with the day each is payable without penalty in place of the due date's ordinal:
    under a rule pack with holiday grace, a due date on a non-working day is payable on the next working
    day (docs/rules.md); the due date itself stays in the row (the statement shows both)."""
    rows = iter_cents(loan)
    if loan.rules is None:
        return rows
    from dueflow.domain.rules import load_pack

    pack = load_pack(loan.rules)
    if not pack.calendar.holiday_grace:
        return rows
    return ((seq, due, pack.payable_on(due).toordinal(), p, i) for seq, due, _, p, i in rows)


def assess(loan: Loan, as_of: date, policy: WarningPolicy = DEFAULT_WARNING_POLICY) -> Position:
    """The loan's position at the end of ``as_of`` (payments dated after it are ignored)."""
    if loan.adjustments:
        return _assess_with_entries(loan, as_of, policy)
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


def _assess_with_entries(loan: Loan, as_of: date, policy: WarningPolicy) -> Position:
    """The position of a loan with ledger entries: payments, waivers and restructurings in date order
    (on one day: payments, then waivers, then a restructuring, which take effect at the day's end), a
    plan in force checked for breaking before each day's events."""
    as_of_day = as_of.toordinal()
    ledger = _Ledger(loan)
    events: list[tuple[int, int, int, Any]] = []
    for order, entry in enumerate(loan.adjustments):
        events.append((entry.date.toordinal(), 1 if isinstance(entry, Waiver) else 2, order, entry))
    for order, payment in enumerate(loan.payments):
        events.append((payment.date.toordinal(), 0, order, payment))
    events.sort(key=lambda e: e[:3])
    last_payment_day = None
    for day, kind, _, entry in events:
        if day > as_of_day:
            break
        ledger.check_plan(day)
        if kind == 0:
            ledger.pay(day, to_cents(entry.amount))
            last_payment_day = day
        elif kind == 1:
            ledger.waive(day, to_cents(entry.penalty), to_cents(entry.interest), entry.conditional_on)
        else:
            lines = [(line.due_date.toordinal(), to_cents(line.amount)) for line in entry.installments]
            ledger.restructure(day, entry.reference, lines, entry.grace_days)
    ledger.materialise_through(as_of_day + policy.due_soon_days)
    ledger.check_plan(as_of_day)
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
    lines: list[tuple[int, date, int, int, int, int, int, int, int, int, int, int]] = []
    overdue_principal = overdue_interest = penalty = 0
    oldest_unpaid: int | None = None
    next_due: _State | None = None
    for index in range(ledger.head, len(states)):
        state = states[index]
        if state.due >= as_of_day:
            break
        if state.frozen:
            continue  # restructured: overdue by the plan's dates, not its own
        accrued = ledger.penalty_cents(state)
        penalty_left = accrued - state.penalty_paid - state.penalty_off
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
                    state.penalty_off,
                    state.interest_off,
                    ledger.compound_cents(state),
                )
            )
    for index in range(ledger.head, len(states)):
        state = states[index]
        if state.due >= as_of_day and state.cleared is None:
            next_due = state
            break
    plan_arrears = 0
    plan = ledger.plan
    if plan is not None:
        oldest_unpaid = ledger.oldest_unmet(as_of_day)
        plan_arrears = max(plan.level_due(as_of_day - 1) - plan.paid, 0)
    dpd = as_of_day - oldest_unpaid if oldest_unpaid is not None else 0
    flags: list[str] = []
    # due soon by the contractual due date (a reminder comes before it, even when holiday grace makes the
    # installment payable later)
    if dpd == 0 and next_due is not None and next_due.due_date.toordinal() <= as_of_day + policy.due_soon_days:
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
        waived_cents=ledger.waived,
        reinstated_cents=ledger.reinstated,
        plan_arrears_cents=plan_arrears,
        penalty_charged_cents=sum([ledger.penalty_cents(s) for s in states]) if ledger.penalty_num else 0,
        plans=tuple(p.public() for p in ledger.plans),
        rules=loan.rules,
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
