"""Payments: posted to a loan (the bank's feed, through the API) and seen on the loans-table stream,
where one that brings DPD to 0 closes the case as CURED at once (or completes its plan)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from dueflow import clock
from dueflow.domain.book import validation_errors
from dueflow.domain.loan import Loan
from dueflow.domain.wake import wake_kind
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.promises import settle_promise
from dueflow.services.waiting import answer, plan_timing, resume, thresholds


class InvalidPayment(ValueError):
    """The payment cannot be posted to this loan as given (HTTP 422 naming ``field``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def post_payment(
    services: Services, loan_id: str, paid_on: date, amount: str, reference: str | None = None
) -> dict[str, Any]:
    """Post a payment; the loan's own rules (dated within its life, not in the future) decide, and a
    refused payment stores nothing."""
    today = clock.today(services.settings.time_zone)
    if paid_on > today:
        raise InvalidPayment("date", f"{paid_on} is in the future (today is {today})")
    try:
        loan = services.loans.add_payment(loan_id, paid_on, amount, today, reference)
    except ValidationError as exc:
        field, reason = validation_errors(exc)[0]
        raise InvalidPayment(field.rsplit(".", 1)[-1] if field.startswith("payments.") else field, reason) from None
    return {"loan_id": loan.loan_id, "payments": len(loan.payments)}


def on_loan_change(services: Services, loan: Loan) -> str | None:
    """A loan as the loans-table stream's new image shows it: resume the loan's open case if the change
    cured it or completed its plan. Returns the event kind sent, if any."""
    case = services.cases.open_case_for_loan(loan.loan_id)
    if case is None or not loan.payments:
        return None
    today = clock.today(services.settings.time_zone)
    last = loan.payments[-1]  # the payment this image brought (each image records its own)
    audit_log.append(
        services,
        case.case_id,
        "payment_received",
        clock.now(),
        {"date": last.date.isoformat(), "amount": str(last.amount), "payments": len(loan.payments)},
        dedupe=f"payment:{len(loan.payments)}:{last.date.isoformat()}:{last.amount}",
    )
    # the image may be older than the loan now (a plan booked since): decide on the loan as it is
    loan = services.loans.get(loan.loan_id) or loan
    case = settle_promise(services, case, loan, today)  # a payment may keep a promise at once
    kind = wake_kind(case, loan, today, plan_timing(services.settings), thresholds(services.settings, loan))
    if kind in ("cured", "plan_completed"):
        resume(services, case.case_id, answer(services, case, loan, kind))
        return kind
    return None
