"""The case workflow's use cases: open a case, run a stage, park a case in a callback state, resume it.

Stage tasks get ``{stage, case_id, loan_id, execution, entered}`` from the state machine; ``entered``
(the state's entry time) names the visit to the state, so every audit record and message of a retried
task has the same dedupe key or id and is written once. Times recorded are the clock's (``clock.now``);
business dates are local dates in the bank's time zone (``Settings.time_zone``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dueflow import clock
from dueflow.domain.legal import LITIGATE, assess_litigation
from dueflow.domain.loan import Loan
from dueflow.domain.messages import loan_reference
from dueflow.domain.money import fmt
from dueflow.domain.outbox import Message
from dueflow.domain.position import Position, assess
from dueflow.domain.statement import statement_dict
from dueflow.ports import ExecutionAlreadyExists, TokenNotWaiting
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.dispatch import first_send_time
from dueflow.workflow.definition import AWAIT_PLAN, STAGE_LABELS

BANK_PHONE = "95588"
CALL_TASK_MIN_OVERDUE = Decimal("5000")
CALL_TASK_MIN_DPD = 31


# -- opening ------------------------------------------------------------------------------------------
def case_id_for(loan_id: str, position: Position) -> str:
    """Deterministic: the loan and the due date of its oldest overdue installment (one case per episode)."""
    first_overdue = position.as_of - timedelta(days=position.dpd)
    return f"{loan_id}-{first_overdue.isoformat()}"


def open_case(services: Services, loan: Loan, position: Position) -> bool:
    """Open a case for a newly overdue loan and start its execution; False if it was open already."""
    case_id = case_id_for(loan.loan_id, position)
    created = services.cases.create(
        {
            "case_id": case_id,
            "loan_id": loan.loan_id,
            "customer_id": loan.customer_id,
            "opened_on": position.as_of.isoformat(),
            "status": "OPEN",
            "stage": "Opening",
            "dpd_at_open": position.dpd,
            "total_overdue_at_open": fmt(position.total_overdue),
            "currency": loan.currency,
        }
    )
    try:
        execution = services.workflow.start(case_id, {"case_id": case_id, "loan_id": loan.loan_id})
        services.cases.update(case_id, {"execution_arn": execution})
    except ExecutionAlreadyExists:
        pass
    audit_log.append(
        services,
        case_id,
        "case_opened",
        _at(f"{position.as_of.isoformat()}T00:00:00+00:00"),
        {"dpd": position.dpd, "bucket": position.bucket, "total_overdue": fmt(position.total_overdue)},
        dedupe="opened",
    )
    return created


# -- stages -------------------------------------------------------------------------------------------
@dataclass
class StageEvent:
    stage: str
    case_id: str
    loan_id: str
    execution: str
    entered: str  # the state's entry time as Step Functions gives it: identifies this visit
    at: datetime  # when the work happens (the clock)
    outcome: str | None = None
    waiting: str | None = None

    @classmethod
    def parse(cls, event: dict[str, Any]) -> StageEvent:
        if not isinstance(event, dict):
            raise ValueError(f"a stage event must be an object, got {type(event).__name__}")
        missing = [k for k in ("stage", "case_id", "loan_id", "execution", "entered") if not event.get(k)]
        if missing:
            raise ValueError(f"stage event is missing {', '.join(missing)}")
        for key in ("stage", "case_id", "loan_id", "execution", "outcome", "waiting"):
            value = event.get(key)
            if value is not None and not (isinstance(value, str) and len(value) <= 256):
                raise ValueError(f"stage event field {key}: expected a string of at most 256 characters")
        return cls(
            stage=event["stage"],
            case_id=event["case_id"],
            loan_id=event["loan_id"],
            execution=event["execution"],
            entered=str(event["entered"]),
            at=clock.now(),
            outcome=event.get("outcome"),
            waiting=event.get("waiting"),
        )

    def dedupe(self, what: str) -> str:
        return f"{self.execution}:{self.stage}:{self.entered}:{what}"


def run_stage(services: Services, event: StageEvent) -> dict[str, Any]:
    """Do one stage's work; return ``{"outcome": ...}`` (and ``kind`` for a re-evaluation)."""
    handler = _STAGES.get(event.stage)
    if handler is None:
        raise ValueError(f"unknown stage {event.stage!r}")
    case = services.cases.require(event.case_id)
    loan = _loan(services, event.loan_id)
    position = assess(loan, clock.today(services.settings.time_zone))
    if event.stage != "reevaluate":
        services.cases.update(event.case_id, {"stage": STAGE_LABELS.get(event.stage, event.stage)})
        audit_log.append(
            services, event.case_id, "stage_entered", event.at, {"stage": event.stage}, event.dedupe("entered")
        )
    return handler(services, event, case, loan, position)


def _confirm(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    statement = statement_dict(position)
    services.cases.update(event.case_id, {"statement": statement})
    audit_log.append(services, event.case_id, "statement", event.at, statement, event.dedupe("statement"))
    return {"outcome": "overdue" if position.dpd else "cured"}


def _remind(template: str) -> StageFn:
    def stage(
        services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
    ) -> dict[str, Any]:
        if not position.dpd:
            return {"outcome": "cured"}
        queued = queue_reminder(services, case, loan, position, template, event.at)
        large = position.total_overdue >= CALL_TASK_MIN_OVERDUE or position.dpd >= CALL_TASK_MIN_DPD
        if large:
            queued += _queue(services, case, loan, position, "call", template, event.at)
        services.cases.update(event.case_id, {"reminders_sent": int(case.get("reminders_sent", 0)) + 1})
        return {"outcome": "contacted" if queued else "no_channel"}

    return stage


def _negotiate(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    if not position.dpd:
        return {"outcome": "cured"}
    queued = _queue(services, case, loan, position, "call", "second_reminder", event.at, tag="negotiate")
    return {"outcome": "agent_call" if queued else "agent_call_queued_before"}


def _follow_up(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    plan = case.get("plan") or {}
    if not plan.get("accepted_on"):
        return {"outcome": "no_plan"}
    today = position.as_of
    status = plan_status(services, case, loan, today)
    if status.next_installment is not None:
        seq, due_on, amount = status.next_installment
        remind_on = due_on - timedelta(days=services.settings.plan_reminder_days_before)
        if remind_on <= today <= due_on:
            values = _values(loan, position) | {"seq": str(seq), "amount": fmt(amount), "due_date": due_on.isoformat()}
            for channel in _channels(services, loan):
                _enqueue(
                    services,
                    case,
                    loan,
                    channel,
                    "plan_installment_reminder",
                    values,
                    f"plan{plan.get('version', 1)}-{seq}",
                    event.at,
                )
    if status.progress_due:
        values = _values(loan, position) | {"paid": fmt(status.paid), "amount": fmt(status.remaining)}
        for channel in _channels(services, loan):
            _enqueue(
                services,
                case,
                loan,
                channel,
                "plan_progress",
                values,
                f"progress-{status.progress_period}",
                event.at,
            )
    return {"outcome": "following_up"}


def _legal_review(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    claim = position.outstanding_principal + position.overdue_interest + position.penalty
    collateral = loan.collateral.type if loan.collateral else None
    result = assess_litigation(claim, collateral)
    assessment = {
        "claim": fmt(result.claim),
        "collateral_type": result.collateral_type,
        "recovery_rate": str(result.recovery_rate),
        "expected_gross": fmt(result.expected_gross),
        "court_fee": fmt(result.court_fee),
        "lawyer_fee": fmt(result.lawyer_fee),
        "expected_net": fmt(result.expected_net),
        "recommendation": result.recommendation,
    }
    audit_log.append(services, event.case_id, "legal_assessment", event.at, assessment, event.dedupe("legal"))
    if result.recommendation == LITIGATE:
        history = [key for key, _ in services.audit_store.read_case(loan.loan_id, event.case_id)]
        package = {
            "statement": statement_dict(position),
            "contract": loan.model_dump(mode="json", exclude={"customer", "payments"}, exclude_none=True),
            "payments": [p.model_dump(mode="json") for p in loan.payments],
            "history": history,
            "breach": {
                "dpd": position.dpd,
                "reminders_sent": int(case.get("reminders_sent", 0)),
                "plans_broken": int(case.get("renegotiations_used", 0)) + (1 if case.get("plan") else 0),
            },
            "assessment": assessment,
            "asset_preservation_requested": bool(loan.collateral and loan.collateral.value > 0),
        }
        seq = audit_log.append(
            services, event.case_id, "litigation_package", event.at, package, event.dedupe("package")
        )
        services.cases.update(event.case_id, {"litigation_package_seq": seq})
        services.notifier.notify_staff(
            "DueFlow: litigation package ready",
            {"type": "litigation_package", "case_id": event.case_id, "record_seq": seq},
        )
    return {"outcome": result.recommendation}


def _reevaluate(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    return {"outcome": "reevaluated", "kind": wake_kind(services, case, loan, position.as_of)}


def _close(
    services: Services, event: StageEvent, case: dict[str, Any], loan: Loan, position: Position
) -> dict[str, Any]:
    outcome = event.outcome or "UNKNOWN"
    services.cases.update(
        event.case_id,
        {
            "status": "CLOSED",
            "outcome": outcome,
            "closed_on": position.as_of.isoformat(),
            "stage": f"Closed: {outcome}",
        },
        remove=("task_token", "wake_on", "wake_shard", "waiting_state"),
    )
    audit_log.append(
        services,
        event.case_id,
        "case_closed",
        event.at,
        {"outcome": outcome, "dpd": position.dpd, "total_overdue": fmt(position.total_overdue)},
        event.dedupe("closed"),
    )
    return {"outcome": outcome}


StageFn = Callable[[Services, StageEvent, dict[str, Any], Loan, Position], dict[str, Any]]

_STAGES: dict[str, StageFn] = {
    "confirm_overdue": _confirm,
    "first_contact": _remind("first_reminder"),
    "second_reminder": _remind("second_reminder"),
    "negotiate": _negotiate,
    "follow_up": _follow_up,
    "legal_review": _legal_review,
    "reevaluate": _reevaluate,
    "close": _close,
}


# -- plans --------------------------------------------------------------------------------------------
@dataclass
class PlanStatus:
    paid: Decimal
    remaining: Decimal
    next_installment: tuple[int, date, Decimal] | None
    broken: bool
    completed: bool
    progress_due: bool
    progress_period: int
    next_event_on: date | None


def plan_status(services: Services, case: dict[str, Any], loan: Loan, today: date) -> PlanStatus:
    """Where an accepted plan stands: paid so far (payments since acceptance), the next installment,
    whether one is missed past the grace period, and when the case should next wake."""
    plan = case["plan"]
    accepted = date.fromisoformat(plan["accepted_on"])
    installments = [
        (int(i["seq"]), date.fromisoformat(i["due_date"]), Decimal(str(i["amount"]))) for i in plan["installments"]
    ]
    total = sum((amount for _, _, amount in installments), Decimal(0))
    paid = sum((p.amount for p in loan.payments if accepted <= p.date <= today), Decimal(0))
    settings = services.settings
    cumulative = Decimal(0)
    next_installment = None
    broken = False
    for seq, due_on, amount in installments:
        cumulative += amount
        if paid < cumulative:
            next_installment = (seq, due_on, cumulative - paid if cumulative - paid < amount else amount)
            broken = today > due_on + timedelta(days=settings.broken_promise_grace_days)
            break
    period = (today - accepted).days // settings.plan_progress_every_days
    last_notice = int(case.get("progress_notices", 0))
    candidates = []
    if next_installment is not None:
        _, due_on, _ = next_installment
        remind_on = due_on - timedelta(days=settings.plan_reminder_days_before)
        candidates += [
            d for d in (remind_on, due_on + timedelta(days=settings.broken_promise_grace_days + 1)) if d > today
        ]
    candidates.append(accepted + timedelta(days=settings.plan_progress_every_days * (period + 1)))
    return PlanStatus(
        paid=paid,
        remaining=max(total - paid, Decimal(0)),
        next_installment=next_installment,
        broken=broken,
        completed=paid >= total,
        progress_due=period >= 1 and period > last_notice,
        progress_period=period,
        next_event_on=min(candidates) if candidates else None,
    )


def wake_kind(services: Services, case: dict[str, Any], loan: Loan, today: date) -> str:
    """What the case should hear when it wakes (or is re-evaluated) on ``today``."""
    if case.get("complaint_open"):
        return "paused"
    position = assess(loan, today)
    if case.get("waiting_state") == AWAIT_PLAN and case.get("plan", {}).get("accepted_on"):
        status = plan_status(services, case, loan, today)
        if status.completed:
            return "plan_completed"
        if status.broken:
            return "broken_promise"
        return "tick"
    if not position.dpd:
        return "cured"
    return "no_response"


# -- waiting and resuming -----------------------------------------------------------------------------
def park(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    """The callback task: store the token and the wake-up date; answer at once if nothing is left to
    wait for (the loan was cured, or the plan completed, while the case was between states)."""
    if not isinstance(event, dict):
        raise ValueError(f"a wait event must be an object, got {type(event).__name__}")
    for key in ("case_id", "loan_id", "token", "state", "wait", "days", "entered"):
        if key not in event:
            raise ValueError(f"wait event is missing {key}")
    for key in ("case_id", "loan_id", "token", "state", "wait"):
        if not (isinstance(event[key], str) and 0 < len(event[key]) <= 4096):
            raise ValueError(f"wait event field {key}: expected a non-empty string")
    if isinstance(event["days"], bool) or not isinstance(event["days"], int) or not 0 <= event["days"] <= 3650:
        raise ValueError("wait event field days: expected a whole number of days from 0 to 3650")
    case_id, state = event["case_id"], event["state"]
    today = clock.today(services.settings.time_zone)
    case = services.cases.require(case_id)
    loan = _loan(services, event["loan_id"])
    wake_on: date | None = today + timedelta(days=int(event["days"]))
    if event["wait"] == "plan" and case.get("plan", {}).get("accepted_on"):
        wake_on = plan_status(services, case, loan, today).next_event_on
    services.cases.park(case_id, event["token"], state, wake_on)
    audit_log.append(
        services,
        case_id,
        "stage_entered",
        clock.now(),  # the time of record, like every stage task's (the state's entry time stays in dedupe)
        {"stage": state, "wake_on": str(wake_on)},
        dedupe=f"{state}:{event['entered']}:entered",
    )
    case = services.cases.require(case_id)
    kind = wake_kind(services, case, loan, today)
    if kind in ("cured", "plan_completed", "broken_promise"):
        resume(services, case_id, _event(services, case, kind))
    return {"parked": case_id, "wake_on": str(wake_on)}


def resume(services: Services, case_id: str, event: dict[str, Any]) -> bool:
    """Answer the case's pending callback with ``event``; False when it is not waiting. Sending first
    and clearing the token second is safe: Step Functions refuses a token twice."""
    case = services.cases.get(case_id)
    token = (case or {}).get("task_token")
    if not token:
        return False
    with contextlib.suppress(TokenNotWaiting):
        services.workflow.resume(token, event)
    services.cases.unpark(case_id, token)
    return True


def _event(services: Services, case: dict[str, Any], kind: str) -> dict[str, Any]:
    event: dict[str, Any] = {"kind": kind}
    if kind == "broken_promise":
        used = int(case.get("renegotiations_used", 0))
        event["renegotiations_left"] = max(services.settings.renegotiations_allowed - used, 0)
        services.cases.update(
            case["case_id"],
            {"renegotiations_used": used + 1, "plan_broken_on": str(clock.today(services.settings.time_zone))},
        )
    return event


def wake(services: Services, case_id: str, today: date) -> str | None:
    """The daily scan's wake-up of one case whose date has come; returns the event kind sent."""
    case = services.cases.get(case_id)
    if case is None or case.get("status") != "OPEN" or not case.get("task_token"):
        return None
    if case.get("complaint_open"):
        return None  # contact paused: the case waits where it is until the complaint is resolved
    loan = _loan(services, case["loan_id"])
    kind = wake_kind(services, case, loan, today)
    if kind == "tick" and case.get("waiting_state") == AWAIT_PLAN:
        status = plan_status(services, case, loan, today)
        if status.progress_due:
            services.cases.update(case_id, {"progress_notices": status.progress_period})
    resume(services, case_id, _event(services, case, kind))
    return kind


# -- messages -----------------------------------------------------------------------------------------
def queue_reminder(
    services: Services, case: dict[str, Any], loan: Loan, position: Position, template: str, at: datetime
) -> int:
    queued = 0
    for channel in _channels(services, loan):
        queued += _queue(services, case, loan, position, channel, template, at)
    return queued


def _queue(
    services: Services,
    case: dict[str, Any],
    loan: Loan,
    position: Position,
    channel: str,
    template: str,
    at: datetime,
    tag: str | None = None,
) -> int:
    return int(_enqueue(services, case, loan, channel, template, _values(loan, position), tag or template, at))


def _enqueue(
    services: Services,
    case: dict[str, Any],
    loan: Loan,
    channel: str,
    template: str,
    values: dict[str, str],
    tag: str,
    at: datetime,
) -> bool:
    language = loan.customer.language if loan.customer else "zh-CN"
    message = Message(
        message_id=f"{case['case_id']}:{tag}:{channel}",
        case_id=case["case_id"],
        loan_id=loan.loan_id,
        customer_id=loan.customer_id,
        channel=channel,
        template=template,
        language=language,
        not_before=first_send_time(services, loan, max(clock.now(), at)),
        values=values,
        created_at=clock.now(),
    )
    return services.outbox.enqueue(message)


def _values(loan: Loan, position: Position) -> dict[str, str]:
    return {
        "ref": loan_reference(loan.loan_id),
        "amount": fmt(position.total_overdue),
        "currency": loan.currency,
        "due_date": (position.next_due_date or position.as_of).isoformat(),
        "bank_phone": BANK_PHONE,
    }


def _channels(services: Services, loan: Loan) -> list[str]:
    """The channels the borrower has contact details for (known without decrypting them)."""
    stored = services.loans.get_stored(loan.loan_id)
    return stored.channels if stored is not None else []


def _loan(services: Services, loan_id: str) -> Loan:
    loan = services.loans.get(loan_id)
    if loan is None:
        raise KeyError(f"no loan {loan_id!r}")
    return loan


def _at(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
