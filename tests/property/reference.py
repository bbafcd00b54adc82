"""An independent, deliberately naive model of the spec: walks every calendar day with exact fractions.

It shares no code with the engine except the date helper, so that the property tests compare two
implementations of docs/formulas.md: the engine (event-driven, integer cents, fast paths) and this one
(day by day, ``Fraction``). Under the ``cn`` pack's holiday grace it reads the PRC calendar itself
(chinesecalendar: statutory holidays and make-up working days; weekdays for a year it has no data for,
as docs/rules.md says): an installment is overdue from the day after its payable day, but it has fallen
due (a payment meets it) from its contractual due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from dueflow.domain.calendar import add_months
from dueflow.domain.loan import Loan

# currencies with no minor unit (ISO 4217 exponent 0), written out here rather than read from the engine
WHOLE_UNITS = {"JPY", "KRW", "VND", "CLP", "ISK"}


def round_cents(value: Fraction, per_unit: int = 100) -> Fraction:
    """ROUND_HALF_UP to 1/``per_unit`` (0.01, or 1 for a currency with no minor unit), value >= 0."""
    return Fraction(int(value * per_unit + Fraction(1, 2)), per_unit)


_round = round_cents


def payable_day(loan: Loan, due: date) -> date:
    """The day an installment due on ``due`` may be paid without penalty: the next PRC working day under
    the cn pack's holiday grace, else the due date."""
    if loan.rules != "cn":
        return due
    import chinese_calendar

    def working(day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    while not working(due):
        due += timedelta(days=1)
    return due


def per_unit(loan: Loan) -> int:
    return 1 if loan.currency in WHOLE_UNITS else 100


def schedule(loan: Loan) -> list[tuple[date, Fraction, Fraction]]:
    if loan.installments is not None:
        return [(i.due_date, Fraction(i.principal), Fraction(i.interest)) for i in loan.installments]
    units = per_unit(loan)

    def round_cents(value: Fraction) -> Fraction:  # to the loan's currency's smallest amount
        return _round(value, units)

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
    """The position as of the end of ``as_of``: the ledger walk below, for a loan with no entries."""
    ledger = reference_ledger(loan, as_of)
    return RefPosition(
        dpd=ledger.dpd,
        overdue_principal=ledger.overdue_principal,
        overdue_interest=ledger.overdue_interest,
        penalty=ledger.penalty,
        outstanding_principal=ledger.outstanding_principal,
    )


@dataclass
class RefLedger:
    dpd: int
    overdue_principal: Fraction
    overdue_interest: Fraction
    penalty: Fraction
    outstanding_principal: Fraction
    waived: Fraction
    reinstated: Fraction
    plan_arrears: Fraction
    plans: list[tuple[str, Fraction, Fraction, date | None, date | None]]  # (ref, covered, paid, broken, completed)


def reference_ledger(loan: Loan, as_of: date) -> RefLedger:
    """The position with the loan's ledger entries, walking every day (docs/formulas.md, "Plans and
    waivers on the ledger"): at the start of a day a plan in force breaks if an obligation has been unmet
    past its grace; then the day's payments; then the end-of-day accrual; then waivers; then a new plan."""
    contractual = schedule(loan)
    # (payable day, principal, interest): every "due" below is the payable day, except that a payment
    # meets an installment from its contractual due date (``fallen_due``)
    rows = [(payable_day(loan, due), p, i) for due, p, i in contractual]
    fallen_due = [due for due, _, _ in contractual]
    n = len(rows)
    p_left = [p for _, p, _ in rows]
    i_left = [i for _, _, i in rows]
    accrued = [Fraction(0)] * n
    pen_paid = [Fraction(0)] * n
    pen_off = [Fraction(0)] * n
    frozen = [False] * n
    d = Fraction(loan.annual_rate) * Fraction(loan.penalty_rate_multiplier) / 360
    waived = reinstated = Fraction(0)
    conditional: dict[str, list[tuple[int, Fraction, Fraction]]] = {}  # by plan reference
    plans: list[dict] = []  # type: ignore[type-arg]
    plan: dict | None = None  # type: ignore[type-arg]

    def penalty_owed(k: int) -> Fraction:
        return round_cents(accrued[k], per_unit(loan)) - pen_paid[k] - pen_off[k]

    def take(k: int, left: Fraction) -> Fraction:
        part = min(penalty_owed(k), left) if penalty_owed(k) > 0 else Fraction(0)
        pen_paid[k] += part
        left -= part
        part = min(i_left[k], left)
        i_left[k] -= part
        left -= part
        part = min(p_left[k], left)
        p_left[k] -= part
        return left - part

    def level(pl: dict, index: int) -> Fraction:  # type: ignore[type-arg]
        return pl["total"] if index == len(pl["levels"]) - 1 else min(pl["levels"][index][1], pl["total"])

    def level_due(pl: dict, day: date) -> Fraction:  # type: ignore[type-arg]
        due = Fraction(0)
        for index, (on, _) in enumerate(pl["levels"]):
            if on <= day:
                due = level(pl, index)
        return due

    def first_unmet(pl: dict) -> date | None:  # type: ignore[type-arg]
        for index, (on, _) in enumerate(pl["levels"]):
            if pl["paid"] < level(pl, index):
                return on
        return None

    def pay_covered(pl: dict, amount: Fraction) -> Fraction:  # type: ignore[type-arg]
        left = amount
        for k in pl["covered"]:
            left = take(k, left) if left else left
        pl["paid"] += amount - left
        return amount - left

    def end(pl: dict) -> None:  # type: ignore[type-arg]
        nonlocal plan
        for k in pl["covered"]:
            frozen[k] = False
        plan = None

    def oldest_unmet(day: date) -> date | None:
        dates = []
        if plan is not None and (due := first_unmet(plan)) is not None and due < day:
            dates.append(due)
        dates += [due for k, (due, _, _) in enumerate(rows) if due < day and not frozen[k] and p_left[k] + i_left[k]]
        return min(dates) if dates else None

    payments: dict[date, list[Fraction]] = {}
    for payment in loan.payments:
        payments.setdefault(payment.date, []).append(Fraction(payment.amount))
    entries: dict[date, list] = {}  # type: ignore[type-arg]
    for entry in loan.adjustments:
        entries.setdefault(entry.date, []).append(entry)
    day = loan.start_date
    while day <= as_of:
        if (
            plan is not None
            and (oldest := oldest_unmet(day)) is not None
            and oldest + timedelta(days=plan["grace"] + 1) <= day
        ):
            plan["broken"] = day
            broken = plan["ref"]
            end(plan)
            # its conditional waivers are owed again (and accrue from this day on, with the rest)
            for k, part, taken in conditional.pop(broken, []):
                pen_off[k] -= part
                i_left[k] += taken
                waived -= part + taken
                reinstated += part + taken
        for amount in payments.get(day, []):
            left = amount
            if plan is not None:
                left -= pay_covered(plan, min(max(level_due(plan, day) - plan["paid"], Fraction(0)), left))
            for k in range(n):
                if fallen_due[k] <= day and not frozen[k] and left:
                    left = take(k, left)
            if plan is not None and left:
                left -= pay_covered(plan, left)
            if plan is not None and plan["paid"] >= plan["total"]:
                plan["completed"] = day
                end(plan)
            for k in range(n):
                if fallen_due[k] > day and left:
                    part = min(i_left[k], left)
                    i_left[k] -= part
                    left -= part
                    part = min(p_left[k], left)
                    p_left[k] -= part
                    left -= part
        for k, (due, _, _) in enumerate(rows):
            if due < day and p_left[k] + i_left[k] > 0 and not frozen[k]:
                accrued[k] += d * (p_left[k] + i_left[k])
        for entry in sorted(entries.get(day, []), key=lambda e: e.kind != "waiver"):
            if entry.kind == "waiver":
                penalty, interest = Fraction(entry.penalty), Fraction(entry.interest)
                for k, (due, _, _) in enumerate(rows):
                    if due >= day:
                        break
                    part = min(max(penalty_owed(k), Fraction(0)), penalty)
                    pen_off[k] += part
                    penalty -= part
                    taken = min(i_left[k], interest)
                    i_left[k] -= taken
                    interest -= taken
                    waived += part + taken
                    if entry.conditional_on is not None:
                        conditional.setdefault(entry.conditional_on, []).append((k, part, taken))
                    if plan is not None and frozen[k]:
                        plan["total"] -= part + taken
                if plan is not None and plan["paid"] >= plan["total"]:
                    plan["completed"] = day
                    end(plan)
            else:
                if plan is not None:
                    plan["superseded"] = day
                    end(plan)
                covered = [
                    k for k, (due, _, _) in enumerate(rows) if due < day and p_left[k] + i_left[k] + penalty_owed(k) > 0
                ]
                for k in covered:
                    frozen[k] = True
                cumulative = Fraction(0)
                levels = []
                for line in entry.installments:
                    cumulative += Fraction(line.amount)
                    levels.append((line.due_date, cumulative))
                plan = {
                    "ref": entry.reference,
                    "covered": covered,
                    "total": sum((p_left[k] + i_left[k] + penalty_owed(k) for k in covered), Fraction(0)),
                    "paid": Fraction(0),
                    "levels": levels,
                    "grace": entry.grace_days,
                    "broken": None,
                    "completed": None,
                }
                plans.append(plan)
                if plan["paid"] >= plan["total"]:
                    plan["completed"] = day
                    end(plan)
        day += timedelta(days=1)
    overdue = [k for k, (due, _, _) in enumerate(rows) if due < as_of and not frozen[k]]
    oldest = oldest_unmet(as_of)
    return RefLedger(
        dpd=(as_of - oldest).days if oldest is not None else 0,
        overdue_principal=sum((p_left[k] for k in overdue), Fraction(0)),
        overdue_interest=sum((i_left[k] for k in overdue), Fraction(0)),
        penalty=sum((penalty_owed(k) for k in overdue), Fraction(0)),
        outstanding_principal=sum(p_left, Fraction(0)),
        waived=waived,
        reinstated=reinstated,
        plan_arrears=max(level_due(plan, as_of - timedelta(days=1)) - plan["paid"], Fraction(0))
        if plan
        else Fraction(0),
        plans=[(p["ref"], p["total"], min(p["paid"], p["total"]), p["broken"], p["completed"]) for p in plans],
    )
