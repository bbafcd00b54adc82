"""Payments: posted to a loan (the bank's feed, through the API) and seen on the loans-table stream,
where one that brings DPD to 0 closes the case as CURED at once (or completes its plan)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from dueflow import clock
from dueflow.domain.book import validation_errors
from dueflow.domain.case import Case
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


def post_payment(services: Services, loan_id: str, paid_on: date, amount: str, reference: str) -> dict[str, Any]:
    """Post a payment from the bank's payment system, under the bank's own ``reference``: the loan's
    rules (dated within its life, not in the future) decide, and a refused payment stores nothing. The
    same posting again answers as the first did; other content under the same reference is refused
    (``PostingConflict``, naming both). The loan's open case records the payment with its own date,
    amount and reference (once, however often it is posted)."""
    today = clock.today(services.settings.time_zone)
    if paid_on > today:
        raise InvalidPayment("date", f"{paid_on} is in the future (today is {today})")
    try:
        loan = services.loans.add_payment(loan_id, paid_on, amount, today, reference)
    except ValidationError as exc:
        field, reason = validation_errors(exc)[0]
        raise InvalidPayment(field.rsplit(".", 1)[-1] if field.startswith("payments.") else field, reason) from None
    case = services.cases.open_case_for_loan(loan_id)
    if case is not None:
        record_payments(services, case, loan)
    return {"loan_id": loan.loan_id, "reference": reference, "date": paid_on.isoformat(), "amount": amount}


def record_payments(services: Services, case: Case, loan: Loan) -> None:
    """Put on the case's record each payment of the loan since its delinquency began that is not there
    yet, each with its own date, amount and reference (a payment the bank back-dates included), once."""
    since = case.opened_on - timedelta(days=case.dpd_at_open) if case.opened_on else None
    seen: dict[tuple[date, Decimal], int] = {}
    for payment in loan.payments:
        key = (payment.date, payment.amount)
        seen[key] = seen.get(key, 0) + 1
        if since is not None and payment.date < since:
            continue
        name = payment.reference or f"{payment.date.isoformat()}:{payment.amount}:{seen[key]}"
        if f"payment:{name}" in case.audit_keys:
            continue
        body = {"date": payment.date.isoformat(), "amount": str(payment.amount), "reference": payment.reference}
        audit_log.append(services, case.case_id, "payment_received", clock.now(), body, dedupe=f"payment:{name}")
        from dueflow.services import limitation  # on first use: not in every cold start

        limitation.interrupt(services, case, loan, payment.date, "acknowledgement")


def on_loan_change(services: Services, loan: Loan) -> str | None:
    """A loan as the loans-table stream's new image shows it: resume the loan's open case if the change
    cured it or completed its plan (the payment itself is on the case's record from its posting).
    Returns the event kind sent, if any."""
    case = services.cases.open_case_for_loan(loan.loan_id)
    if case is None or not loan.payments:
        return None
    today = clock.today(services.settings.time_zone)
    record_payments(services, case, loan)  # a payment the bank's feed wrote to the table directly
    # the image may be older than the loan now (a plan booked since): decide on the loan as it is
    loan = services.loans.get(loan.loan_id) or loan
    case = settle_promise(services, case, loan, today)  # a payment may keep a promise at once
    kind = wake_kind(case, loan, today, plan_timing(services.settings), thresholds(services.settings, loan))
    if kind in ("cured", "plan_completed"):
        resume(services, case.case_id, answer(services, case, loan, kind))
        return kind
    return None
