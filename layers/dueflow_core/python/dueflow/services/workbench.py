"""The collectors' workbench behind the API: work queues, the phone reveal, call outcomes with
disposition codes, notes, the reason for delinquency, and the approvals inbox.

Same authorisation model as every case action (``case_actions``): agents work the cases assigned to
them, supervisors and collections managers any case, legal and auditors read; a bank system (IAM) has no
part in it. Every change is on the case's audit record. Lists never carry contact details: the
customer's phone is revealed one case at a time, by an explicit action on the record, to the assigned
agent or a supervisor, and only while the contact gate would let a call go out now.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dueflow import clock
from dueflow.domain.audit_chain import RECORD_TYPES, verify_chain
from dueflow.domain.case import Case
from dueflow.domain.contact_policy import Verdict
from dueflow.domain.money import fmt
from dueflow.domain.position import assess
from dueflow.services import audit_log, case_actions
from dueflow.services.case_actions import Caller, Forbidden, InvalidInput, NotFound, Refused
from dueflow.services.context import Services

STAFF_ROLES = frozenset({"agent", "supervisor", "collections_manager", "legal", "auditor"})
MANAGERS = frozenset({"supervisor", "collections_manager"})

# disposition code -> what the dial attempt was (contact_policy counting: a conversation or not)
DISPOSITIONS: dict[str, str] = {
    "right_party_contact": "conversation",
    "promise_to_pay": "conversation",
    "hardship": "conversation",
    "refused": "conversation",
    "dispute": "conversation",
    "left_message": "voicemail",
    "no_answer": "no_answer",
    "wrong_number": "wrong_number",
}
# why the customer is overdue (了解逾期原因), as a code with free text beside it
DELINQUENCY_REASONS = (
    "unemployment",
    "income_reduced",
    "illness_or_injury",
    "business_difficulty",
    "family_emergency",
    "overspending",
    "forgot_or_payment_problem",
    "disputes_the_debt",
    "other",
)


@dataclass(frozen=True)
class QueueFilter:
    assignee: str | None = None
    stage: str | None = None
    bucket: str | None = None
    complaint_open: bool | None = None
    promise_due: bool | None = None  # a promise to pay falls due today or is past due and undecided
    awaiting_approval: bool | None = None
    outcome: str | None = None  # closed cases of this outcome (LITIGATION, WRITE_OFF_REVIEW, ...) instead
    limit: int = 50
    cursor: int = 0


def _staff(caller: Caller) -> None:
    if caller.system:
        raise Forbidden("a bank system does not use the workbench")
    if not caller.groups & STAFF_ROLES:
        raise Forbidden("no staff role")


def queue(services: Services, caller: Caller, wanted: QueueFilter) -> dict[str, Any]:
    """Open cases, filtered and sorted by the settings' priority (``queue_priority``), a page at a time.
    An agent sees only their own queue; the others see every open case (and may ask for an agent's)."""
    _staff(caller)
    assignee = wanted.assignee
    if not caller.groups & (MANAGERS | {"legal", "auditor"}):
        if assignee not in (None, caller.principal):
            raise Forbidden("an agent sees their own queue only")
        assignee = caller.principal
    now = clock.now()
    today = clock.today(services.settings.time_zone)
    rows = []
    if wanted.outcome is not None:
        if not caller.groups & (MANAGERS | {"legal", "auditor"}):
            raise Forbidden("closed cases are for supervisors, legal and auditors")
        cases: Iterable[Case] = services.cases.closed_cases(wanted.outcome)
    elif assignee is not None:
        cases = services.cases.queue_of(assignee)
    else:
        cases = services.cases.open_cases()
    for case in cases:
        if assignee is not None and case.assigned_to != assignee:
            continue
        if wanted.stage is not None and case.stage != wanted.stage:
            continue
        if wanted.complaint_open is not None and case.complaint_open != wanted.complaint_open:
            continue
        if wanted.awaiting_approval is not None and (case.waiver_request is not None) != wanted.awaiting_approval:
            continue
        promise_due = _promise_due(case, today)
        if wanted.promise_due is not None and promise_due != wanted.promise_due:
            continue
        row = summary(services, case, now, today)
        if row is None or (wanted.bucket is not None and row["bucket"] != wanted.bucket):
            continue
        rows.append(row)
    if wanted.outcome is None:  # closed cases stay newest first
        rows.sort(key=lambda r: _priority(r, services.settings.queue_priority), reverse=True)
    page = rows[wanted.cursor : wanted.cursor + wanted.limit]
    following = wanted.cursor + wanted.limit
    return {
        "cases": page,
        "total": len(rows),
        "next_cursor": str(following) if following < len(rows) else None,
        "as_of": now.isoformat(),
    }


def _promise_due(case: Case, today: date) -> bool:
    promise = case.promise
    return promise is not None and promise.outcome is None and promise.promised_date <= today


def _priority(row: dict[str, Any], order: tuple[str, ...]) -> tuple[Any, ...]:
    keys = {
        "promise_due_today": row["promise_due"],
        "contact_open_now": row["contact"]["call_allowed_now"],
        "amount_x_dpd": Decimal(row["total_overdue"]) * row["dpd"],
        "amount": Decimal(row["total_overdue"]),
        "dpd": row["dpd"],
    }
    return (*(keys[name] for name in order), row["case_id"])


def summary(services: Services, case: Case, now: datetime, today: date) -> dict[str, Any] | None:
    """One line of a queue: where the case stands, what it owes now, whether a call may go out now in the
    customer's zone (and why not). No contact details: the customer is their id and the loan's last 4."""
    stored = services.loans.get_stored(case.loan_id)
    if stored is None:
        return None
    loan = stored.loan
    position = assess(loan, today)
    contact = contact_now(services, case, stored, now)
    return {
        "case_id": case.case_id,
        "loan_id": case.loan_id,
        "loan_ref": case.loan_id[-4:],
        "customer_id": case.customer_id,
        "stage": case.stage,
        "assigned_to": case.assigned_to,
        "opened_on": case.opened_on.isoformat() if case.opened_on else None,
        "dpd": position.dpd,
        "bucket": position.bucket,
        "total_overdue": fmt(position.total_overdue),
        "currency": loan.currency,
        "complaint_open": case.complaint_open,
        "complaint_deadline": case.complaint_deadline.isoformat() if case.complaint_deadline else None,
        "promise": case.promise.to_item() if case.promise is not None else None,
        "promise_due": _promise_due(case, today),
        "awaiting_approval": case.waiver_request is not None,
        "contact": contact,
    }


def contact_now(services: Services, case: Case, stored: Any, now: datetime) -> dict[str, Any]:
    """The customer's local time and whether a call may be placed now (the contact gate's answer)."""
    from dueflow.services.dispatch import call_gate

    decision, recipient = call_gate(services, case, stored, now)
    zone = ZoneInfo(recipient.timezone)
    return {
        "timezone": recipient.timezone,
        "local_time": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "call_allowed_now": decision.verdict == Verdict.SEND,
        "reason": decision.reason,
        "next_allowed": decision.not_before.isoformat() if decision.not_before else None,
    }


def reveal_phone(services: Services, caller: Caller, case_id: str) -> dict[str, Any]:
    """The customer's phone number, to place a call now: only for the assigned agent or a supervisor,
    only while the contact gate lets a call go out, and on the case's record (who, when)."""
    _staff(caller)
    case = case_actions._case(services, case_id)
    if not caller.groups & MANAGERS and not ("agent" in caller.groups and case.assigned_to == caller.principal):
        raise Forbidden("only the case's agent or a supervisor may reveal the customer's phone number")
    case_actions._open(case)
    stored = services.loans.get_stored(case.loan_id)
    if stored is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    now = clock.now()
    allowed = contact_now(services, case, stored, now)
    if not allowed["call_allowed_now"]:
        after = f"; a call may be placed from {allowed['next_allowed']}" if allowed["next_allowed"] else ""
        raise Refused(f"no call now: {allowed['reason']}{after}")
    phone = services.loans.contact(case.loan_id, stored).get("phone")
    if not phone:
        raise Refused("no phone number on file for this customer")
    audit_log.append(
        services, case_id, "phone_revealed", now, {"by": caller.principal, "role": caller.role},
        dedupe=f"reveal:{caller.principal}:{now.isoformat()}",
    )  # fmt: skip
    return {"case_id": case_id, "phone": phone, "revealed_at": now.isoformat(), "contact": allowed}


def call_outcome(
    services: Services,
    caller: Caller,
    case_id: str,
    disposition: str,
    at: datetime,
    note: str | None = None,
    promise_date: date | None = None,
    promise_amount: Decimal | None = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> dict[str, Any]:
    """What happened on a call the agent placed at ``at`` (after revealing the number, when the gate let
    it go out): the dial attempt is recorded and counted as the loan's pack counts it (never refused: the
    call happened; a call the gate would not have allowed at ``at`` is marked so on the record), then the
    disposition's consequence: a promise to pay, the reason for delinquency, a dispute opening a complaint
    (collection pauses)."""
    from dueflow.services.dispatch import call_gate

    _staff(caller)
    if disposition not in DISPOSITIONS:
        raise InvalidInput("disposition", f"{disposition!r} is not one of {', '.join(DISPOSITIONS)}")
    if disposition == "promise_to_pay" and (promise_date is None or promise_amount is None):
        raise InvalidInput("promise_date", "a promise to pay needs promise_date and promise_amount")
    if disposition == "hardship" and reason_code is None:
        raise InvalidInput("reason_code", f"a hardship needs a reason_code: one of {', '.join(DELINQUENCY_REASONS)}")
    if reason_code is not None and reason_code not in DELINQUENCY_REASONS:
        raise InvalidInput("reason_code", f"{reason_code!r} is not one of {', '.join(DELINQUENCY_REASONS)}")
    case = case_actions._case(services, case_id)
    case_actions._may_act(caller, case)
    case_actions._open(case)
    now = clock.now()
    if at.tzinfo is None:
        raise InvalidInput("at", "must carry its UTC offset")
    if not now - timedelta(hours=12) <= at <= now + timedelta(minutes=1):
        raise InvalidInput("at", f"{at.isoformat()} is not within the last 12 hours (now {now.isoformat()})")
    if disposition == "promise_to_pay":
        # everything the request asks is checked before anything is written: all of it, or nothing
        assert promise_date is not None and promise_amount is not None
        if not (case.promise and (case.promise.promised_date, case.promise.amount) == (promise_date, promise_amount)):
            case_actions.check_promise(services, case, promise_date, promise_amount, "promise_date", "promise_amount")
    if f"outcome:{at.isoformat()}" in case.audit_keys:
        # recorded before: a retry completes what the first attempt may not have (the promise, the dispute)
        done = {"case_id": case_id, "disposition": disposition, "at": at.isoformat(), "recorded": "before"}
        return done | _consequence(services, caller, case_id, disposition, promise_date, promise_amount)
    stored = services.loans.get_stored(case.loan_id)
    if stored is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    loan = stored.loan
    gate, _ = call_gate(services, case, stored, at)
    counted = case_actions.record_attempt(services, caller, case, loan, DISPOSITIONS[disposition], at)
    body: dict[str, Any] = {
        "disposition": disposition,
        "attempt": DISPOSITIONS[disposition],
        "at": at.isoformat(),
        "by": caller.principal,
        "counted": counted,
        **({"gate_at_call_time": gate.reason} if gate.verdict != Verdict.SEND else {}),
        **({"note": note} if note else {}),
        **({"reason_code": reason_code, "reason_text": reason_text} if reason_code else {}),
    }
    audit_log.append(services, case_id, "call_outcome", now, body, dedupe=f"outcome:{at.isoformat()}")
    result: dict[str, Any] = {"case_id": case_id, "disposition": disposition, "at": at.isoformat(), "recorded": "now"}
    if reason_code is not None:
        services.cases.update(case_id, {"delinquency_reason": {"code": reason_code, "text": reason_text or ""}})
    return result | _consequence(services, caller, case_id, disposition, promise_date, promise_amount)


def _consequence(
    services: Services,
    caller: Caller,
    case_id: str,
    disposition: str,
    promise_date: date | None,
    promise_amount: Decimal | None,
) -> dict[str, Any]:
    """The disposition's consequence, each safe to repeat: the promise taken (the same promise again
    records nothing new), the dispute's complaint opened (once while open)."""
    if disposition == "promise_to_pay":
        assert promise_date is not None and promise_amount is not None
        case = case_actions._case(services, case_id)
        if case.promise and (case.promise.promised_date, case.promise.amount) == (promise_date, promise_amount):
            return {"promise": case.promise.to_item()}
        return {"promise": case_actions.promise(services, caller, case_id, promise_date, promise_amount)}
    if disposition == "dispute":
        case = case_actions._case(services, case_id)
        if case.complaint_open:
            return {"complaint": {"case_id": case_id, "complaint_open": True}}
        return {"complaint": case_actions.open_complaint(services, caller, case_id)}
    return {}


def add_note(services: Services, caller: Caller, case_id: str, text: str) -> dict[str, Any]:
    """A free-text note on the case's record (the agent's or a supervisor's)."""
    _staff(caller)
    case = case_actions._case(services, case_id)
    case_actions._may_act(caller, case)
    now = clock.now()
    audit_log.append(
        services, case_id, "note", now, {"by": caller.principal, "text": text}, dedupe=f"note:{now.isoformat()}"
    )
    return {"case_id": case_id, "noted_at": now.isoformat()}


def approvals(services: Services, caller: Caller) -> dict[str, Any]:
    """The approvals inbox: open cases whose waiver request awaits a role the caller holds."""
    _staff(caller)
    if not caller.groups & MANAGERS:
        raise Forbidden("only supervisors and collections managers approve waivers")
    items = []
    for case in services.cases.open_cases():
        request = case.waiver_request
        if request and request.get("needs") in caller.groups and request.get("requested_by") != caller.principal:
            items.append({"case_id": case.case_id, "assigned_to": case.assigned_to, **request})
    items.sort(key=lambda r: (str(r.get("requested_on")), r["case_id"]))
    return {"requests": items}


# what the case page's timeline shows of the record (the litigation package is legal's, on its own route)
TIMELINE_TYPES = frozenset(RECORD_TYPES) - {"litigation_package", "statement"}


def case_view(services: Services, caller: Caller, case_id: str) -> dict[str, Any]:
    """Everything the case page shows: the case, its itemised statement now (the engine on the book and
    the payments), the customer's local time and whether a call may go out now (and why not), and the
    timeline of its record (stages as the state machine ran them, messages with the provider's id,
    payments, calls, promises, plans, complaints, notes), with the chain's verification for auditors."""
    from dueflow.domain.statement import statement_dict

    case_data = case_actions.read_case(services, caller, case_id)  # the same read rules
    case = case_actions._case(services, case_id)
    stored = services.loans.get_stored(case.loan_id)
    if stored is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    now = clock.now()
    today = clock.today(services.settings.time_zone)
    objects = services.audit_store.read_case(case.loan_id, case_id)
    timeline = []
    for _, data in objects:
        record = json.loads(data)
        if record["type"] in TIMELINE_TYPES:
            timeline.append({"seq": record["seq"], "at": record["at"], "type": record["type"], "body": record["body"]})
    view: dict[str, Any] = {
        "case": case_data,
        "statement": statement_dict(assess(stored.loan, today)),
        "contact": contact_now(services, case, stored, now),
        "timeline": timeline,
        "may_act": _may_act_on(caller, case),
    }
    if "auditor" in caller.groups or "legal" in caller.groups:
        report = verify_chain(case_id, objects, case.audit_head)
        view["chain"] = {"verified": report.ok, "records": len(objects), "problems": list(report.problems)}
    return view


def _may_act_on(caller: Caller, case: Case) -> bool:
    """Whether the caller may change anything on the case (the page shows no controls otherwise)."""
    try:
        case_actions._may_act(caller, case)
    except Forbidden:
        return False
    return not caller.system and bool(caller.groups & {"agent", "supervisor", "collections_manager"})


def plan_preview(
    services: Services,
    caller: Caller,
    case_id: str,
    waive_penalty: Decimal,
    waive_interest: Decimal,
    months: int | None,
) -> dict[str, Any]:
    """The plan calculator: what a proposal would be, without proposing it: the waiver's decision for the
    caller's role (approved, or who must approve), the amount, the installments, and how much of what the
    customer can afford each month they take (the affordable amount itself, not the income behind it)."""
    _staff(caller)
    case = case_actions._case(services, case_id)
    case_actions._may_act(caller, case)
    loan = services.loans.get(case.loan_id)
    if loan is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    today = clock.today(services.settings.time_zone)
    position = assess(loan, today)
    waiver = case_actions.waiver_for(caller.role or "", loan, position, waive_penalty, waive_interest)
    granted = waive_penalty + waive_interest
    decision = case_actions.size_plan(services, loan, position.total_overdue - granted, today, months)
    share = (
        (decision.monthly_amount / decision.affordable_monthly) if decision.ok and decision.affordable_monthly else None
    )
    return {
        "case_id": case_id,
        "total_overdue": fmt(position.total_overdue),
        "waiver": {
            "approved": waiver.approved,
            "reason": waiver.reason,
            "required_role": waiver.required_role,
            "two_person": list(waiver.two_person) if waiver.two_person else None,
        },
        "amount": fmt(position.total_overdue - granted),
        "ok": decision.ok,
        "reason": decision.reason,
        "affordable_monthly": fmt(decision.affordable_monthly),
        "share_of_affordable": f"{share:.0%}" if share is not None else None,
        "installments": [
            {"seq": i.seq, "due_date": i.due_date.isoformat(), "amount": fmt(i.amount)} for i in decision.installments
        ],
    }
