"""Waivers and restructurings booked on a loan's ledger: what the position engine makes of them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from dueflow.domain.loan import Loan
from dueflow.domain.position import assess
from dueflow.domain.schedule import iter_schedule

BASE: dict[str, Any] = {
    "loan_id": "L1",
    "customer_id": "C1",
    "principal": "12000.00",
    "annual_rate": "0.12",
    "term_months": 12,
    "start_date": "2026-05-15",
}  # installments of 1066.19 due on the 15th from 2026-06-15
INSTALLMENT = "1066.19"
PLAN = {
    "kind": "restructuring",
    "date": "2026-08-01",
    "installments": [
        {"due_date": "2026-09-01", "amount": "711.00"},
        {"due_date": "2026-10-01", "amount": "711.00"},
        {"due_date": "2026-11-01", "amount": "710.38"},
    ],
    "approved_by": "agent-1",
    "reference": "L1-2026-06-15:plan:1",
}
WAIVER = {
    "kind": "waiver",
    "date": "2026-08-01",
    "penalty": "34.12",
    "interest": "0",
    "approved_by": "agent-1",
    "reference": "L1-2026-06-15:plan:1:waiver",
}
ALONGSIDE = [  # the plan's installments and the regular ones, each paid on its due date
    ("2026-08-15", INSTALLMENT),
    ("2026-09-01", "711.00"),
    ("2026-09-15", INSTALLMENT),
    ("2026-10-01", "711.00"),
    ("2026-10-15", INSTALLMENT),
    ("2026-11-01", "710.38"),
]


def loan(payments: list[tuple[str, str]] = (), entries: list[dict[str, Any]] = ()) -> Loan:  # type: ignore[assignment]
    return Loan.model_validate(
        BASE | {"payments": [{"date": d, "amount": a} for d, a in payments], "adjustments": list(entries)}
    )


def test_a_waiver_takes_penalty_off_the_overdue_installments_and_is_on_the_statement() -> None:
    before = assess(loan(), date(2026, 8, 1))
    assert before.dpd == 47 and before.penalty == Decimal("34.12")
    after = assess(loan(entries=[WAIVER]), date(2026, 8, 1))
    assert after.penalty == 0 and after.waived == Decimal("34.12")
    assert sum(line.penalty_waived for line in after.lines) == Decimal("34.12")
    assert after.dpd == 47  # a penalty waiver does not cure: principal and interest are still unpaid
    assert after.total_overdue == before.total_overdue - Decimal("34.12")


def test_a_waiver_never_takes_more_than_is_owed_and_an_interest_waiver_can_clear_an_installment() -> None:
    position = assess(loan(entries=[WAIVER | {"penalty": "500.00"}]), date(2026, 8, 1))
    assert position.waived == Decimal("34.12") and position.penalty == 0
    first = next(iter_schedule(loan()))
    # no penalty on this loan: the June interest is waived, then its principal is paid: June is cleared
    no_penalty = Loan.model_validate(
        BASE
        | {
            "penalty_rate_multiplier": "0",
            "payments": [{"date": "2026-06-20", "amount": str(first.principal)}],
            "adjustments": [WAIVER | {"date": "2026-06-16", "penalty": "0", "interest": "500.00"}],
        }
    )
    assert assess(no_penalty, date(2026, 6, 19)).dpd == 4  # the interest is off, the principal still due
    position = assess(no_penalty, date(2026, 6, 21))
    assert position.dpd == 0 and position.waived == first.interest


def test_a_kept_plan_with_installments_paid_alongside_keeps_the_loan_current_and_completes() -> None:
    kept = loan(ALONGSIDE, [WAIVER, PLAN])
    for day in ("2026-08-01", "2026-08-20", "2026-09-02", "2026-10-10", "2026-11-02"):
        position = assess(kept, date.fromisoformat(day))
        assert position.dpd == 0, day
        assert position.total_overdue == 0, day
    end = assess(kept, date(2026, 11, 2))
    plan = end.plan
    assert plan is not None and plan.completed_on == date(2026, 11, 1) and plan.broken_on is None
    assert plan.covered == Decimal("2132.38") and plan.paid == plan.covered  # the arrears less the waiver
    assert end.penalty == 0 and not end.lines  # no penalty accrued on the arrears while the plan was kept
    # the loan is exactly where an on-time borrower would be: the next regular installment on 11-15
    assert end.next_due_date == date(2026, 11, 15) and end.next_due_amount == Decimal(INSTALLMENT)


def test_the_plan_counts_by_its_own_dates_while_in_force() -> None:
    waiting = loan([("2026-08-15", INSTALLMENT)], [WAIVER, PLAN])
    position = assess(waiting, date(2026, 9, 3))  # the first plan installment (09-01) is unpaid
    assert position.dpd == 2 and position.plan_arrears == Decimal("711.00")
    assert position.total_overdue == Decimal("711.00")
    assert position.plan is not None and position.plan.next_installment == (1, date(2026, 9, 1), Decimal("711.00"))


def test_a_regular_installment_unpaid_past_the_grace_breaks_the_plan() -> None:
    # the plan installments are paid, the regular ones are not: the plan breaks 3 days after 08-15
    plan_only = loan([("2026-09-01", "711.00"), ("2026-10-01", "711.00"), ("2026-11-01", "710.38")], [WAIVER, PLAN])
    assert assess(plan_only, date(2026, 8, 18)).dpd == 3
    position = assess(plan_only, date(2026, 8, 19))
    assert position.plan is not None and position.plan.broken_on == date(2026, 8, 19)
    # broken: the original due dates are back (the June installment is 65 days past due)
    assert position.dpd == (date(2026, 8, 19) - date(2026, 6, 15)).days
    # and it never completes as "settled": the loan is still overdue after every plan payment
    late = assess(plan_only, date(2026, 11, 2))
    assert late.dpd > 90 and late.plan is not None and late.plan.completed_on is None


def test_a_broken_plan_accrues_penalty_again_from_the_day_it_breaks() -> None:
    broken = loan([("2026-08-15", INSTALLMENT), ("2026-09-01", "711.00"), ("2026-09-15", INSTALLMENT)], [WAIVER, PLAN])
    assert assess(broken, date(2026, 10, 4)).penalty == 0  # within the grace of the 10-01 installment
    position = assess(broken, date(2026, 10, 5))
    assert position.plan is not None and position.plan.broken_on == date(2026, 10, 5)
    # one day of penalty on what is unpaid of the covered installments: (2132.38 - 711.00) at 0.12*1.5/360
    assert position.penalty == (Decimal("1421.38") * Decimal("0.18") / 360).quantize(Decimal("0.01"))


def test_money_is_conserved_through_entries() -> None:
    """What was charged (installments due, penalty accrued) is paid, waived or still owed, to the cent."""
    payments = ALONGSIDE
    position = assess(loan(payments, [WAIVER, PLAN]), date(2026, 11, 20))
    due = [i for i in iter_schedule(loan()) if i.due_date < date(2026, 11, 20)]
    assert len(due) == 6  # June to November; November's (11-15) is unpaid, 5 days overdue
    penalty_since = (Decimal(INSTALLMENT) * Decimal("0.18") / 360 * 5).quantize(Decimal("0.01"))
    charged = sum(i.amount for i in due) + Decimal("34.12") + penalty_since
    paid = sum(Decimal(a) for _, a in payments)
    assert paid + position.waived + position.total_overdue == charged
    assert position.dpd == 5 and position.penalty == penalty_since


def test_entries_are_validated_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"reference.*booked twice"):
        loan(entries=[WAIVER, WAIVER])
    with pytest.raises(ValidationError, match=r"before start_date"):
        loan(entries=[WAIVER | {"date": "2026-01-01"}])
    with pytest.raises(ValidationError, match=r"increasing"):
        loan(entries=[PLAN | {"installments": [{"due_date": "2026-07-01", "amount": "1.00"}]}])


def test_the_statement_shows_the_waiver_and_the_plan() -> None:
    from dueflow.domain.statement import statement_dict

    waiting = statement_dict(assess(loan([("2026-08-15", INSTALLMENT)], [WAIVER, PLAN]), date(2026, 9, 3)))
    assert waiting["waived"] == "34.12" and waiting["total_overdue"] == "711.00" and waiting["installments"] == []
    assert waiting["plan"] == {
        "reference": "L1-2026-06-15:plan:1",
        "accepted_on": "2026-08-01",
        "covered": "2132.38",
        "paid": "0.00",
        "remaining": "2132.38",
        "overdue": "711.00",
        "next_installment": {"seq": 1, "due_date": "2026-09-01", "amount": "711.00"},
        "status": "in force",
        "ended_on": None,
    }
    before = statement_dict(assess(loan(entries=[WAIVER]), date(2026, 8, 1)))
    # June's penalty for 47 days and July's for 17, at 0.12 x 1.5 / 360 a day on 1,066.19: all waived
    daily = Decimal(INSTALLMENT) * Decimal("0.18") / 360
    expected = [str((daily * days).quantize(Decimal("0.01"))) for days in (47, 17)]
    assert [line["penalty_waived"] for line in before["installments"]] == expected == ["25.06", "9.06"]
    assert before["penalty"] == "0.00" and before["plan"] is None


CONDITIONAL = WAIVER | {"conditional_on": PLAN["reference"]}


def test_a_conditional_waiver_is_owed_again_from_the_day_its_plan_breaks() -> None:
    """Clawback (the cn pack's ``waivers.reinstate_on_broken_plan``, docs/rules.md): the 34.12 of penalty
    waived for the plan is owed again when the plan breaks, and it accrues nothing for the days it was off."""
    payments = [("2026-08-15", INSTALLMENT), ("2026-09-01", "711.00"), ("2026-09-15", INSTALLMENT)]
    kept_so_far = assess(loan(payments, [CONDITIONAL, PLAN]), date(2026, 10, 4))
    assert kept_so_far.penalty == 0 and kept_so_far.waived == Decimal("34.12") and kept_so_far.reinstated == 0
    position = assess(loan(payments, [CONDITIONAL, PLAN]), date(2026, 10, 5))
    plan = position.plan
    assert plan is not None and plan.broken_on == date(2026, 10, 5) and plan.waiver_reinstated == Decimal("34.12")
    one_day = (Decimal("1421.38") * Decimal("0.18") / 360).quantize(Decimal("0.01"))
    assert position.penalty == Decimal("34.12") + one_day
    assert position.waived == 0 and position.reinstated == Decimal("34.12")
    assert [line.penalty_waived for line in position.lines] == [0, 0]
    # the same waiver granted unconditionally stays off
    unconditional = assess(loan(payments, [WAIVER, PLAN]), date(2026, 10, 5))
    assert unconditional.penalty == one_day and unconditional.waived == Decimal("34.12")


def test_a_conditional_waiver_stands_once_its_plan_is_kept() -> None:
    end = assess(loan(ALONGSIDE, [CONDITIONAL, PLAN]), date(2026, 11, 20))
    assert end.plan is not None and end.plan.completed_on == date(2026, 11, 1)
    assert end.waived == Decimal("34.12") and end.reinstated == 0 and end.plan.waiver_reinstated == 0


def test_reinstated_interest_reopens_the_installment_it_had_cleared_and_money_is_conserved() -> None:
    """An interest waiver that left June with only its principal, then paid: June was settled. When the
    plan the waiver was granted for breaks, June's interest is overdue again and June is open again."""
    first = next(iter_schedule(loan()))
    reference = "L1-2026-07-15:plan:1"
    no_penalty = Loan.model_validate(
        BASE
        | {
            "penalty_rate_multiplier": "0",
            "payments": [{"date": "2026-06-20", "amount": str(first.principal)}],
            "adjustments": [
                WAIVER | {"date": "2026-06-16", "penalty": "0", "interest": "120.00", "conditional_on": reference},
                PLAN
                | {
                    "date": "2026-07-20",
                    "reference": reference,
                    "installments": [{"due_date": "2026-08-01", "amount": INSTALLMENT}],
                },
            ],
        }
    )
    assert first.interest == Decimal("120.00")
    kept = assess(no_penalty, date(2026, 7, 25))
    assert kept.dpd == 0 and kept.waived == first.interest and not kept.lines
    after = assess(no_penalty, date(2026, 8, 10))  # the plan's 08-01 installment unpaid past the grace
    assert after.plan is not None and after.plan.broken_on == date(2026, 8, 5)
    june = after.lines[0]
    assert june.seq == 1 and june.interest_outstanding == first.interest and june.interest_waived == 0
    assert after.dpd == (date(2026, 8, 10) - date(2026, 6, 15)).days and after.reinstated == first.interest
    charged = sum(i.amount for i in iter_schedule(loan()) if i.due_date < date(2026, 8, 10))
    assert after.paid_total + after.waived + after.total_overdue == charged
