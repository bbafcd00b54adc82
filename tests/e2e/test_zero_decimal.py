"""A loan in a currency with no minor unit (JPY, ISO 4217 exponent 0) is collected in whole yen from end
to end: its schedule, penalty and statement, the plan sized for it, the waiver and the promise; the plan's
acceptance books on the ledger before the case says accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dueflow.domain.position import assess
from dueflow.settings import Settings
from dueflow_local.runtime import Runtime, open_runtime
from tests.e2e.conftest import accept_shown, borrower

CASE = "Y1-2026-06-15"
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}


def whole(value: object) -> bool:
    amount = Decimal(str(value))
    return amount == amount.to_integral_value()


def yen_loan() -> object:
    customer = borrower().customer
    assert customer is not None
    means = {"timezone": "Asia/Tokyo", "language": "en", "monthly_income": "600000", "monthly_expenses": "150000"}
    record = customer.model_dump(mode="json") | means
    return borrower("Y1", principal="1200000", currency="JPY", customer=record)


def test_a_yen_loan_is_statemented_planned_and_accepted_in_whole_yen(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([yen_loan()], date(2026, 6, 16))  # type: ignore[list-item]
    rt.run_day(date(2026, 6, 17))
    rt.run_day(date(2026, 6, 18))
    case = rt.services.cases.require(CASE)
    statement = case.statement or {}
    amounts = [
        v for k, v in statement.items() if k in ("total_overdue", "penalty", "overdue_interest", "next_due_amount")
    ]
    amounts += [line[k] for line in statement["installments"] for k in line if k.endswith(("_due", "_accrued"))]
    assert amounts and all(whole(a) for a in amounts), statement

    # a plan with a waiver of the penalty, sized in whole yen
    status, plan = rt.api(
        "POST",
        f"/cases/{CASE}/plan-proposals",
        {"months": 7, "waive_penalty": "100"},
        **SUPERVISOR,  # type: ignore[arg-type]
    )
    assert status == 200, plan
    assert all(whole(i["amount"]) for i in plan["installments"]) and whole(plan["amount"])
    assert sum(Decimal(i["amount"]) for i in plan["installments"]) == Decimal(plan["amount"])

    status, accepted = accept_shown(rt, CASE)
    assert status == 200, accepted
    case = rt.services.cases.require(CASE)
    assert case.plan_in_force and case.waiting_state == "Await plan event"
    loan = rt.services.loans.get("Y1")
    assert loan is not None and {e.kind for e in loan.adjustments} == {"waiver", "restructuring"}  # type: ignore[attr-defined]
    position = assess(loan, date(2026, 6, 18))
    assert position.plan is not None and whole(position.total_overdue)


def test_a_fractional_yen_promise_or_waiver_is_refused_naming_the_field(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([yen_loan()], date(2026, 6, 16))  # type: ignore[list-item]
    rt.run_day(date(2026, 6, 17))
    status, body = rt.api(
        "POST",
        f"/cases/{CASE}/promises",
        {"promised_date": "2026-06-25", "amount": "5000.50"},
        **SUPERVISOR,  # type: ignore[arg-type]
    )
    assert status == 422 and "amount" in str(body) and "JPY" in str(body), body
    status, body = rt.api(
        "POST",
        f"/cases/{CASE}/plan-proposals",
        {"months": 7, "waive_penalty": "10.5"},
        **SUPERVISOR,  # type: ignore[arg-type]
    )
    assert status == 422 and "waive_penalty" in str(body), body
    case = rt.services.cases.require(CASE)
    assert case.promise is None and case.plan is None


def test_an_acceptance_the_ledger_refuses_leaves_the_case_as_proposed_and_a_retry_books_it() -> None:
    """(The in-memory world: its handlers share the test's services, so the ledger can be made to refuse.)"""
    with open_runtime("memory", Settings(environment="e2e", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.dispatcher.tolerate = True  # the API answers 502 as API Gateway would
        _refused_then_booked(rt)


def _refused_then_booked(rt: Runtime) -> None:
    rt.load_book([yen_loan()], date(2026, 6, 16))  # type: ignore[list-item]
    rt.run_day(date(2026, 6, 17))
    assert rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 7}, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
    loans = rt.services.loans
    real = loans.post_entry

    def refused(*args: object, **kwargs: object) -> object:
        raise ValueError("the ledger refuses the entry")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loans, "post_entry", refused)
        status, _ = accept_shown(rt, CASE)
    assert status >= 500
    case = rt.services.cases.require(CASE)
    assert case.plan is not None and case.plan.accepted_on is None and not case.plan_in_force
    assert case.waiting_state == "Await agreement"
    assert loans.post_entry == real
    # the retry books it and moves the case on
    assert accept_shown(rt, CASE)[0] == 200
    case = rt.services.cases.require(CASE)
    assert case.plan_in_force and case.waiting_state == "Await plan event"
