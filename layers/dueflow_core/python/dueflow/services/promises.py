"""Promises to pay: a promise holds escalation until its date and grace have passed, then it is decided
on the record, kept (paid at least the amount since it was made) or broken (a polite message goes to the
customer and the cadence resumes)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt
from dueflow.domain.position import assess
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.notices import channels, queue_message, reminder_values


def settle_promise(services: Services, case: Case, loan: Loan, today: date) -> Case:
    """Decide the case's promise: kept as soon as the amount is paid (by the promised date and its grace),
    broken once they have passed without it. Once: the decision is on the case and in the audit chain.
    Returns the case as it now stands."""
    promise = case.promise
    grace = services.settings.promise_grace_days
    if promise is None or promise.outcome is not None:
        return case
    made = promise.made_on or promise.promised_date
    until = min(promise.promised_date + timedelta(days=grace), today)
    paid = sum((p.amount for p in loan.payments if made <= p.date <= until), Decimal(0))
    if paid < promise.amount and promise.pending(today, grace):
        return case  # not paid yet, and there is still time
    outcome = "kept" if paid >= promise.amount else "broken"
    decided = promise.model_copy(update={"outcome": outcome})
    services.cases.update(case.case_id, {"promise": decided.to_item()}, expect={"promise": promise.to_item()})
    body = {"promised_date": promise.promised_date.isoformat(), "amount": fmt(promise.amount), "paid": fmt(paid)}
    dedupe = f"promise:{made}:{promise.promised_date}:{outcome}"
    audit_log.append(services, case.case_id, f"promise_{outcome}", clock.now(), body, dedupe=dedupe)
    if outcome == "broken":
        values = reminder_values(loan, assess(loan, today), services.settings) | {
            "amount": fmt(promise.amount),
            "due_date": promise.promised_date.isoformat(),
        }
        for channel in channels(services, loan):
            tag = f"promise-{promise.promised_date}"
            queue_message(services, case, loan, channel, "promise_missed", values, tag, clock.now())
    return services.cases.require(case.case_id)
