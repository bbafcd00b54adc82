"""Cases waiting in a callback state: parking the task token, waking the case, answering its token.

A case never sleeps in a ``Wait`` state: ``case_wait`` stores the token and the wake-up date on the case
(``park``); the daily scan wakes it when the date comes (``wake``), a payment or an API call answers it
(``resume``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt
from dueflow.domain.plan_progress import PlanTiming, plan_reference, plan_status
from dueflow.domain.position import assess
from dueflow.domain.wake import Thresholds, legal_review_due, threshold_date, wake_kind
from dueflow.ports import TokenNotWaiting
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.continuation import continue_case
from dueflow.services.events import parse_event
from dueflow.services.notices import require_loan
from dueflow.services.promises import settle_promise
from dueflow.settings import Settings

Text = Field(min_length=1, max_length=4096)


class WaitEvent(BaseModel):
    """What a callback state hands ``case_wait`` (the definition's ``Payload``)."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)  # built by the handler using it

    case_id: str = Text
    loan_id: str = Text
    token: str = Text
    state: str = Text
    wait: str = Text  # response | agreement | plan
    days: int = Field(ge=0, le=3650)
    entered: str = Text


def thresholds(settings: Settings, loan: Loan) -> Thresholds:
    """The escalation thresholds of the loan's product."""
    escalation = settings.escalation_for(loan.product)
    return Thresholds(
        escalation.negotiation_dpd, escalation.legal_review_dpd, settings.promise_grace_days, settings.grace_days
    )


def plan_timing(settings: Settings) -> PlanTiming:
    return PlanTiming(
        reminder_days_before=settings.plan_reminder_days_before,
        broken_grace_days=settings.broken_promise_grace_days,
        progress_every_days=settings.plan_progress_every_days,
    )


def park(services: Services, raw: Any) -> dict[str, Any]:
    """The callback task: store the token and the wake-up date; answer at once if nothing is left to
    wait for (the loan was cured, or the plan completed, while the case was between states)."""
    event = parse_event(WaitEvent, raw, "wait event")
    today = clock.today(services.settings.time_zone)
    timing = plan_timing(services.settings)
    loan = require_loan(services, event.loan_id)
    case = settle_promise(services, services.cases.require(event.case_id), loan, today)
    wake_on: date | None = today + timedelta(days=event.days)
    if event.wait == "plan" and case.plan_accepted:
        wake_on = plan_status(case, loan, today, timing).next_event_on
    reached = threshold_date(case, event.state, loan, today, thresholds(services.settings, loan))
    if reached is not None and wake_on is not None and reached < wake_on:
        wake_on = reached  # the threshold comes before the timer: escalate on the day it is reached
    grace = services.settings.promise_grace_days
    if event.wait != "plan" and case.promise is not None and case.promise.pending(today, grace):
        wake_on = case.promise.promised_date + timedelta(days=grace + 1)  # decide the promise then
    # on the record first, then parked: a failure in between is retried and the record is written once
    audit_log.append(
        services,
        event.case_id,
        "stage_entered",
        clock.now(),  # the time of record, like every stage task's (the state's entry time stays in dedupe)
        {"stage": event.state, "wake_on": str(wake_on)},
        dedupe=f"{event.state}:{event.entered}:entered",
    )
    services.cases.park(event.case_id, event.token, event.state, wake_on)
    case = services.cases.require(event.case_id)
    kind = wake_kind(case, loan, today, timing, thresholds(services.settings, loan))
    if kind in ("cured", "plan_completed", "broken_promise", "plan_accepted", "plan_proposed"):
        resume(services, event.case_id, answer(services, case, loan, kind))
    return {"parked": event.case_id, "wake_on": str(wake_on)}


def resume(services: Services, case_id: str, event: dict[str, Any]) -> bool:
    """Answer the case's pending callback with ``event``; False when it is not waiting. Sending first
    and clearing the token second is safe: Step Functions refuses a token twice.

    A token that cannot be answered is never the end of it: ``InvalidToken`` (answered already) leaves
    the execution to the answer it got; ``TaskTimedOut`` means the execution's own safety net took the
    case to a re-evaluation, which reads the same case record this event was written to (and, parked
    again, its new token is answered); ``TaskDoesNotExist`` means the execution ended (its year ran
    out, or it was stopped) while the case is open: a new execution of the case re-enters the state
    it was waiting in, and hears this event there (or, parked later, re-evaluates when it wakes)."""
    for _ in range(3):
        case = services.cases.get(case_id)
        token = case.task_token if case is not None else None
        if case is None or not token:
            return False
        try:
            services.workflow.resume(token, event)
        except TokenNotWaiting as exc:
            services.cases.unpark(case_id, token)
            if exc.code == "TaskDoesNotExist" and case.is_open and case.waiting_state:
                continue_case(services, case, case.waiting_state)
                continue  # the new execution, parked at that state, hears this event
            if exc.code == "TaskTimedOut":
                continue  # the re-evaluation may have parked the case again: answer that token
            return True
        services.cases.unpark(case_id, token)
        return True
    return False


def answer(services: Services, case: Case, loan: Loan, kind: str) -> dict[str, Any]:
    """The event a waiting case is answered with, always with ``renegotiations_left`` and
    ``legal_review_due`` (the "Renegotiation allowed?" choice reads them, whichever path leads there). A
    broken plan counts against the renegotiations once a day, however often it is answered (a retried
    task, a wake and a re-evaluation)."""
    today = clock.today(services.settings.time_zone)
    allowed = services.settings.renegotiations_allowed
    used = case.renegotiations_used
    due = legal_review_due(loan, today, thresholds(services.settings, loan), case)
    if kind != "broken_promise":
        return {"kind": kind, "renegotiations_left": max(allowed - used, 0), "legal_review_due": due}
    if case.plan_broken_on != today:
        used += 1
        services.cases.update(case.case_id, {"renegotiations_used": used, "plan_broken_on": today})
        _record_reinstated_waiver(services, case, loan, today)
    if case.limitation_flagged_on is not None:  # the claim's period nears its end: legal review, not a new plan
        return {"kind": kind, "renegotiations_left": 0, "legal_review_due": True, "limitation_nearing": True}
    return {"kind": kind, "renegotiations_left": max(allowed - used + 1, 0), "legal_review_due": due}


def _record_reinstated_waiver(services: Services, case: Case, loan: Loan, today: date) -> None:
    """A broken plan's conditional waiver is owed again (the ledger reinstates it): on the case's record,
    once per plan."""
    plan = case.plan
    if plan is None or not plan.waiver_conditional:
        return
    booked = assess(loan, today).plan_for(plan_reference(case))
    if booked is None or booked.broken_on is None or not booked.waiver_reinstated:
        return
    services.cases.update(case.case_id, {"waiver_reinstated": booked.waiver_reinstated})
    audit_log.append(
        services,
        case.case_id,
        "waiver_reinstated",
        clock.now(),
        {
            "plan_version": plan.version,
            "broken_on": booked.broken_on.isoformat(),
            "reinstated": fmt(booked.waiver_reinstated),
            "penalty": fmt(plan.waived_penalty),
            "interest": fmt(plan.waived_interest),
        },
        dedupe=f"reinstated:{plan.version}",
    )


def wake(services: Services, case: Case, today: date) -> str | None:
    """The daily scan's wake-up of one case whose date has come; returns the event kind sent."""
    case_id = case.case_id
    if not case.is_open or not case.task_token:
        return None
    if case.complaint_open:
        return None  # contact paused: the case waits where it is until the complaint is resolved
    loan = require_loan(services, case.loan_id)
    case = settle_promise(services, case, loan, today)
    kind = wake_kind(case, loan, today, plan_timing(services.settings), thresholds(services.settings, loan))
    resume(services, case_id, answer(services, case, loan, kind))
    return kind
