"""The stage tasks of the case state machine: confirm, contact, negotiate, follow up, legal review,
re-evaluate, close.

Stage tasks get ``{stage, case_id, loan_id, execution, entered}`` from the state machine; ``entered``
(the state's entry time) names the visit to the state, so every audit record and message of a retried
task has the same dedupe key or id and is written once. Times recorded are the clock's (``clock.now``);
business dates are local dates in the bank's time zone (``Settings.time_zone``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.legal import LITIGATE, WRITE_OFF_REVIEW, LegalFacts, review_litigation
from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt
from dueflow.domain.plan_progress import plan_status
from dueflow.domain.position import Position, assess
from dueflow.domain.rules import load_pack
from dueflow.domain.statement import statement_dict
from dueflow.domain.wake import wake_kind
from dueflow.services import audit_log
from dueflow.services.context import Services, loan_date
from dueflow.services.continuation import continue_case
from dueflow.services.events import parse_event
from dueflow.services.notices import (
    channels,
    queue_credit_report_prenotice,
    queue_guarantor_notice,
    queue_message,
    queue_reminder,
    queue_validation_notice,
    reminder_values,
    require_loan,
)
from dueflow.services.promises import settle_promise
from dueflow.services.waiting import answer, plan_timing, thresholds
from dueflow.workflow.definition import CLOSED, FOLLOW_UP, STAGE_LABELS

CALL_TASK_MIN_OVERDUE = Decimal("5000")
CALL_TASK_MIN_DPD = 31

Short = Field(min_length=1, max_length=256)


class StageEvent(BaseModel):
    """What a stage task hands ``case_stage`` (the definition's ``Payload``); ``at`` is when the work
    happens (the clock), not part of the event."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)  # built by the handler using it

    stage: str = Short
    case_id: str = Short
    loan_id: str = Short
    execution: str = Short
    entered: str = Short  # the state's entry time as Step Functions gives it: identifies this visit
    outcome: str | None = Field(default=None, max_length=256)
    waiting: str | None = Field(default=None, max_length=256)
    started: str | None = Field(default=None, max_length=64)  # the execution's start (follow-up only)
    at: datetime = Field(default_factory=clock.now)

    @classmethod
    def parse(cls, event: Any) -> StageEvent:
        return parse_event(cls, event, "stage event")

    def dedupe(self, what: str) -> str:
        return f"{self.execution}:{self.stage}:{self.entered}:{what}"


def run_stage(services: Services, event: StageEvent) -> dict[str, Any]:
    """Do one stage's work; return ``{"outcome": ...}`` (and ``kind`` for a re-evaluation)."""
    handler = _STAGES.get(event.stage)
    if handler is None:
        raise ValueError(f"unknown stage {event.stage!r}")
    case = services.cases.require(event.case_id)
    loan = require_loan(services, event.loan_id)
    position = assess(loan, loan_date(loan, services.settings))  # on the loan's own calendar
    if event.stage != "reevaluate":
        label = stage_label(event)
        if case.resume_visit and case.stage == label and event.stage != "continue":
            # the first stage of an execution that replaced a failed one, in the stage that failed: the
            # same visit again, so its messages and records keep their ids and none is made twice
            execution, _, entered = case.resume_visit.partition("|")
            event = event.model_copy(update={"execution": execution, "entered": entered})
        services.cases.update(
            event.case_id,
            {"stage": label, "stage_visit": f"{event.execution}|{event.entered}"},
            remove=("resume_visit",),
        )
        audit_log.append(
            services, event.case_id, "stage_entered", event.at, {"stage": event.stage}, event.dedupe("entered")
        )
    return handler(services, event, case, loan, position)


def stage_label(event: StageEvent) -> str:
    """The state name a stage task runs in (the console's): a closing is ``Closed: cured`` and so on."""
    if event.stage == "close" and event.outcome in CLOSED:
        return CLOSED[event.outcome]
    return STAGE_LABELS.get(event.stage, event.stage)


StageFn = Callable[[Services, StageEvent, Case, Loan, Position], dict[str, Any]]


def _confirm(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    statement = statement_dict(position)
    services.cases.update(event.case_id, {"statement": statement})
    audit_log.append(services, event.case_id, "statement", event.at, statement, event.dedupe("statement"))
    return {"outcome": "overdue" if position.dpd else "cured"}


def _remind(template: str) -> StageFn:
    def stage(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
        if not position.dpd:
            return {"outcome": "cured"}
        # a reminder sent again (the cadence before a threshold) is a new message: its id names the visit
        tag = template if template == "first_reminder" else f"{template}@{event.entered}"
        queued = queue_reminder(services, case, loan, position, template, tag, event.at)
        if template == "first_reminder":
            queued += queue_validation_notice(services, case, loan, position, event.at)
            queued += queue_credit_report_prenotice(services, case, loan, position, event.at)
        queued += queue_guarantor_notice(services, case, loan, position, event.at)
        if position.total_overdue >= CALL_TASK_MIN_OVERDUE or position.dpd >= CALL_TASK_MIN_DPD:
            values = reminder_values(loan, position, services.settings)
            queued += queue_message(services, case, loan, "call", template, values, tag, event.at)
        services.cases.update(event.case_id, {"reminders_sent": case.reminders_sent + 1})
        return {"outcome": "contacted" if queued else "no_channel"}

    return stage


def _negotiate(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    if not position.dpd:
        return {"outcome": "cured"}
    queue_guarantor_notice(services, case, loan, position, event.at)  # once a case, when the pack allows
    values = reminder_values(loan, position, services.settings)
    tag = f"negotiate@{event.entered}"  # each negotiation round is its own call task
    queued = queue_message(services, case, loan, "call", "second_reminder", values, tag, event.at)
    return {"outcome": "agent_call" if queued else "agent_call_queued_before"}


def _follow_up(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    plan = case.plan
    if plan is None or plan.accepted_on is None:
        return {"outcome": "no_plan"}
    today = clock.today(services.settings.time_zone)  # the bank's business date (plan dates are on it)
    status = plan_status(case, loan, today, plan_timing(services.settings))
    if status.next_installment is not None:
        seq, due_on, amount = status.next_installment
        remind_on = due_on - timedelta(days=services.settings.plan_reminder_days_before)
        if remind_on <= today <= due_on:
            values = reminder_values(loan, position, services.settings) | {
                "seq": str(seq),
                "amount": fmt(amount),
                "due_date": due_on.isoformat(),
            }
            for channel in channels(services, loan):
                tag = f"plan{plan.version}-{seq}"
                queue_message(services, case, loan, channel, "plan_installment_reminder", values, tag, event.at)
    if status.progress_due:  # every plan_progress_every_days since acceptance, one notice a period
        values = reminder_values(loan, position, services.settings) | {
            "paid": fmt(status.paid),
            "amount": fmt(status.remaining),
        }
        for channel in channels(services, loan):
            tag = f"progress-{status.progress_period}"
            queue_message(services, case, loan, channel, "plan_progress", values, tag, event.at)
        services.cases.update(event.case_id, {"progress_notices": status.progress_period})
    if event.started is not None:
        age = event.at - datetime.fromisoformat(event.started.replace("Z", "+00:00"))
        if age >= timedelta(days=services.settings.continue_after_days):
            return {"outcome": "continue_as_new"}  # well before the execution's one-year limit
    return {"outcome": "following_up"}


def _continue(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    name = continue_case(services, case, FOLLOW_UP, event.execution)
    return {"outcome": "continued", "execution": name}


def _legal_review(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    pack = load_pack(loan.rules or "cn")
    facts = LegalFacts(
        overdue_principal=position.overdue_principal,
        overdue_interest=position.overdue_interest,
        penalty=position.penalty,
        principal_not_due=position.outstanding_principal - position.overdue_principal,
        accelerated=case.acceleration_noticed_on is not None,
        collateral_type=loan.collateral.type if loan.collateral else None,
        collateral_value=loan.collateral.value if loan.collateral else Decimal("0"),
        known_assets=loan.known_assets or Decimal("0"),
    )
    result = review_litigation(facts, pack.legal)
    from dueflow.services.limitation import period_of  # legal review only: not in every cold start

    today = clock.today(services.settings.time_zone)
    oldest_unpaid = min((line.due_date for line in position.lines), default=today)
    period = period_of(case, loan, today, oldest_unpaid)
    assessment = {
        "claim": fmt(result.claim),
        "accelerated": facts.accelerated,
        "collateral_type": facts.collateral_type or "unsecured",
        "secured": result.secured,
        "assets": fmt(result.assets),
        "haircut": str(result.haircut),
        "enforcement_cost": fmt(result.enforcement_cost),
        "recoverable": fmt(result.recoverable),
        "expected_gross": fmt(result.expected_gross),
        "court_fee": fmt(result.acceptance_fee),
        "simple_procedure": result.simple_procedure,
        "preservation_fee": fmt(result.preservation_fee),
        "fees_recovered": fmt(result.fees_recovered),
        "months_to_recovery": result.months_to_recovery,
        "present_value": fmt(result.present_value),
        "lawyer_fee": fmt(result.lawyer_fee),
        "expected_net": fmt(result.expected_net),
        "recommendation": result.recommendation,
        "limitation_started_on": period.started_on.isoformat(),
        "limitation_last_interruption": period.last_interruption.isoformat(),
        "limitation_expires_on": period.expires_on.isoformat(),
        "limitation_nearing": period.nearing,
        "limitation_expired": period.expired,
    }
    if period.expired and result.recommendation == LITIGATE:
        # time-barred (民法典 第一百九十二条: the debtor may refuse to perform): a court will not enforce it
        assessment["recommendation"] = WRITE_OFF_REVIEW
        assessment["reason"] = f"the limitation period ended on {period.expires_on.isoformat()}"
    audit_log.append(services, event.case_id, "legal_assessment", event.at, assessment, event.dedupe("legal"))
    if period.nearing:  # the claim is about to become time-barred: the legal team decides now
        services.notifier.notify_staff(
            "DueFlow: limitation period nearing its end",
            {"type": "limitation_nearing", "case_id": event.case_id, "expires_on": period.expires_on.isoformat()},
        )
    recommendation = assessment["recommendation"]
    if recommendation == LITIGATE:
        from dueflow.services.litigation import build_package

        package = build_package(services, case, loan, position, facts, result, period, assessment)
        seq = audit_log.append(
            services, event.case_id, "litigation_package", event.at, package, event.dedupe("package")
        )
        services.cases.update(event.case_id, {"litigation_package_seq": seq})
        services.notifier.notify_staff(
            "DueFlow: litigation package ready",
            {"type": "litigation_package", "case_id": event.case_id, "record_seq": seq},
        )
    if recommendation != LITIGATE:
        threshold = services.settings.escalation_for(loan.product).write_off_review_dpd
        if position.dpd < threshold:
            return {"outcome": "collect_on"}  # not yet write-off review: back to negotiation
    return {"outcome": recommendation}


def _reevaluate(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    """After a callback timed out: what the case should hear now, as a wake-up would answer it."""
    settings = services.settings
    today = clock.today(settings.time_zone)  # decided on the bank's business date, as a wake-up is
    case = settle_promise(services, case, loan, today)
    kind = wake_kind(case, loan, today, plan_timing(settings), thresholds(settings, loan))
    return {"outcome": "reevaluated", **answer(services, case, loan, kind)}


def _close(services: Services, event: StageEvent, case: Case, loan: Loan, position: Position) -> dict[str, Any]:
    outcome = event.outcome or "UNKNOWN"
    # on the record first, then closed: a failure in between is retried and the record is written once
    audit_log.append(
        services,
        event.case_id,
        "case_closed",
        event.at,
        {"outcome": outcome, "dpd": position.dpd, "total_overdue": fmt(position.total_overdue)},
        event.dedupe("closed"),
    )
    services.cases.update(
        event.case_id,
        {
            "status": "CLOSED",
            "outcome": outcome,
            "closed_outcome": outcome,
            "closed_on": clock.today(services.settings.time_zone).isoformat(),  # the bank's business date
            "stage": f"Closed: {outcome}",
        },
        remove=(
            "task_token",
            "wake_on",
            "wake_shard",
            "waiting_state",
            "limitation_shard",
            "open_shard",
            "queue_of",
            "stage_visit",
            "resume_visit",
        ),
    )
    return {"outcome": outcome}


_STAGES: dict[str, StageFn] = {
    "confirm_overdue": _confirm,
    "first_contact": _remind("first_reminder"),
    "second_reminder": _remind("second_reminder"),
    "negotiate": _negotiate,
    "follow_up": _follow_up,
    "legal_review": _legal_review,
    "reevaluate": _reevaluate,
    "continue": _continue,
    "close": _close,
}
