"""What people and bank systems do to a case through the API: plans, acceptance, promises, complaints,
opt-outs, assignment. Each action checks who may do it, records it in the audit chain, and answers the
case's pending callback when the workflow is waiting for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dueflow import clock
from dueflow.domain.case import Case, Plan, PlanInstallment, Promise, content_hash
from dueflow.domain.loan import PlanLine, Restructuring, Waiver
from dueflow.domain.money import fmt, unit
from dueflow.domain.plan import PlanDecision, PlanPolicy, propose_plan, regular_installment
from dueflow.domain.plan_progress import plan_reference
from dueflow.domain.position import assess
from dueflow.domain.waiver import WaiverDecision, decide_waiver, pack_authorities
from dueflow.services import audit_log, customers
from dueflow.services.context import Services
from dueflow.services.waiting import resume
from dueflow.workflow.definition import AWAIT_AGREEMENT, AWAIT_PLAN

STAFF_ROLES = ("agent", "supervisor", "collections_manager", "legal", "auditor")


class Unauthenticated(Exception):
    """The request carries no staff identity and no IAM signature (HTTP 401)."""


class Forbidden(Exception):
    """The caller may not do this (HTTP 403)."""


class Refused(Exception):
    """The request is understood but refused by a business rule (HTTP 409), with the reason."""


class NotFound(Exception):
    """No such case or loan (HTTP 404)."""


class InvalidInput(ValueError):
    """A field of the request is out of bounds for this case (HTTP 422 naming ``field``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """Who is calling: a staff member (Cognito groups) or a bank system (IAM: the payment feed, which
    posts payments, records a customer's acceptance of a proposed plan and brings complaints and
    opt-outs from the bank's channels; it has no staff authority: no plans, waivers or assignments)."""

    principal: str
    groups: frozenset[str]
    system: bool = False

    @property
    def role(self) -> str | None:
        """The highest staff role of the caller."""
        for role in ("collections_manager", "supervisor", "agent", "legal", "auditor"):
            if role in self.groups:
                return role
        return None


# imported on first use: the API's cold start pays only for what its route needs
def load_pack(name: str) -> Any:
    from dueflow.domain.rules import load_pack as load

    return load(name)


def _limitation() -> Any:
    from dueflow.services import limitation

    return limitation


def _case(services: Services, case_id: str) -> Case:
    case = services.cases.get(case_id)
    if case is None:
        raise NotFound(f"no case {case_id!r}")
    return case


def _may_act(caller: Caller, case: Case) -> None:
    """Agents act only on cases assigned to them; supervisors and collections managers on any; systems
    on any (within what each action allows them)."""
    if caller.system or caller.groups & {"supervisor", "collections_manager"}:
        return
    if "agent" in caller.groups and case.assigned_to == caller.principal:
        return
    raise Forbidden("only the assigned agent or a supervisor may act on this case")


def _open(case: Case) -> None:
    if not case.is_open:
        raise Refused(f"case {case.case_id} is closed ({case.outcome})")


def read_case(services: Services, caller: Caller, case_id: str) -> dict[str, Any]:
    if caller.system:
        raise Forbidden("a bank system does not read cases")
    case = _case(services, case_id)
    if not caller.groups & {"supervisor", "legal", "auditor"}:
        _may_act(caller, case)
    hidden = {"task_token", "audit_pending_body", "audit_keys"}
    out = {k: (sorted(v) if isinstance(v, set) else v) for k, v in case.to_item().items() if k not in hidden}
    if case.plan is not None:
        out["plan"] = with_hash(case.plan)  # what an acceptance names
    return out


def assign(services: Services, caller: Caller, case_id: str, agent: str) -> dict[str, Any]:
    if "supervisor" not in caller.groups:
        raise Forbidden("only a supervisor assigns cases")
    case = _case(services, case_id)
    _open(case)
    services.cases.update(case_id, {"assigned_to": agent, "queue_of": agent})
    if case.assigned_to != agent:
        audit_log.append(
            services, case_id, "case_assigned", clock.now(),
            {"to": agent, "from": case.assigned_to, "by": caller.principal},
            dedupe=f"assign:{case.assigned_to}:{agent}:{clock.now().isoformat()}",
        )  # fmt: skip
    return {"case_id": case.case_id, "assigned_to": agent}


def propose(
    services: Services,
    caller: Caller,
    case_id: str,
    waive_penalty: Decimal = Decimal("0"),
    waive_interest: Decimal = Decimal("0"),
    months: int | None = None,
    request_approval: bool = False,
) -> dict[str, Any]:
    """An agent or supervisor proposes a repayment plan, with waivers within their authority. Beyond it,
    the request is refused naming who could approve it, or, with ``request_approval``, held in that
    role's approvals inbox until one of them approves or refuses it (above every single authority it is
    always held for the two-person approval)."""
    if caller.system:
        raise Forbidden("a bank system has no plan or waiver authority: staff propose plans")
    case = _case(services, case_id)
    _may_act(caller, case)
    _open(case)
    whole_units("waive_penalty", waive_penalty, case.currency)
    whole_units("waive_interest", waive_interest, case.currency)
    role = caller.role or ""
    if case.plan is not None and case.plan_in_force:
        raise Refused(
            f"plan {case.plan.version} (accepted on {case.plan.accepted_on}) is in force; a new plan is "
            "proposed when it is broken and the case returns to negotiation"
        )
    today = clock.today(services.settings.time_zone)
    earlier = case.plan
    if (
        earlier is not None
        and earlier.accepted_on is None
        and (earlier.proposed_on, earlier.proposed_by) == (today, caller.principal)
        and (earlier.waived_penalty, earlier.waived_interest) == (_cents(waive_penalty), _cents(waive_interest))
        and months in (None, len(earlier.installments))
    ):
        # the same proposal again (the caller's retry after a 5xx): nothing new is recorded, and the
        # workflow hears it if it did not the first time
        if case.waiting_state != AWAIT_AGREEMENT:
            resume(services, case_id, {"kind": "plan_proposed"})
        return with_hash(earlier)
    loan = services.loans.get(case.loan_id)
    if loan is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    position = assess(loan, today)
    waiver = waiver_for(role, loan, position, waive_penalty, waive_interest)
    now = clock.now()
    version = case.plan_version + 1
    held = waiver.two_person is not None and role in waiver.two_person
    escalated = not held and not waiver.approved and request_approval and waiver.required_role is not None
    audit_log.append(
        services,
        case_id,
        "waiver_decision",
        now,
        {
            "role": role,
            "by": caller.principal,
            "penalty_requested": fmt(waive_penalty),
            "interest_requested": fmt(waive_interest),
            "approved": waiver.approved,
            "reason": waiver.reason,
            "required_role": waiver.required_role,
            **({"awaiting_second_approval_by": waiver.required_role} if held else {}),
            **({"awaiting_approval_by": waiver.required_role} if escalated else {}),
        },
        # one record per decision (who asked for what); the same request retried writes it once
        dedupe=f"waiver:{version}:{role}:{caller.principal}:{fmt(waive_penalty)}:{fmt(waive_interest)}",
    )
    if held or escalated:
        # above every single authority: held until the other two-person role approves it; beyond the
        # asker's, at their request: held until a role that may grant it approves (or refuses) it
        request = {
            "version": version,
            "penalty": fmt(waive_penalty),
            "interest": fmt(waive_interest),
            "months": months,
            "requested_by": caller.principal,
            "role": role,
            "requested_on": today.isoformat(),
            "needs": waiver.required_role,
            "single": escalated,
        }
        # the request's content, named by whoever decides it (an approval of anything else is refused);
        # its version is taken, so a plan proposed meanwhile is a later version and outdates it
        request["request_hash"] = content_hash(request)
        services.cases.update(case_id, {"waiver_request": request, "plan_version": version})
        status = "awaiting_second_approval" if held else "awaiting_approval"
        return {"status": status, **request}
    if not waiver.approved:
        raise Refused(waiver.reason or "waiver refused")
    plan = _propose_plan(services, caller.principal, case, loan, position, today, waiver, months, version)
    if case.waiver_request and not case.waiver_request.get("decided"):
        _supersede(services, case, case.waiver_request, caller, version)
    return plan


def _supersede(services: Services, case: Case, request: dict[str, Any], caller: Caller, version: int) -> None:
    """A plan proposed while a waiver request waits replaces it: the request leaves the approvals inbox,
    on the record, and an approval of it is refused from now on."""
    if services.cases.update(case.case_id, remove=("waiver_request",), expect={"waiver_request": request}):
        _record_refusal(services, case.case_id, request, caller, f"superseded by plan v{version}", "superseded")


def approve_waiver(services: Services, caller: Caller, case_id: str, version: int, request_hash: str) -> dict[str, Any]:
    """The second approval of a waiver above every single authority (双人审批): by the other of the pack's
    two-person roles, and another person than the one who asked; then the plan is proposed with it. The
    approver names the request (its version and content hash) as they saw it: anything else is refused."""
    if caller.system:
        raise Forbidden("a bank system has no plan or waiver authority: staff approve waivers")
    case = _case(services, case_id)
    _open(case)
    request = _named_request(case, version, request_hash, caller, "approved")
    loan = services.loans.get(case.loan_id)
    if loan is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    authorities, pair = pack_authorities(loan.rules or "cn")
    today = clock.today(services.settings.time_zone)
    position = assess(loan, today)
    penalty, interest = Decimal(request["penalty"]), Decimal(request["interest"])
    if request.get("single"):
        # one approval, by someone whose own authority covers the waiver
        needed = str(request.get("needs"))
        covers = [
            r
            for r in caller.groups
            if decide_waiver(r, penalty, interest, position.penalty, position.overdue_interest, authorities=authorities,
                             two_person=None).approved
        ]  # fmt: skip
        if not covers:
            raise Forbidden(f"this waiver needs approval by a {needed} (or a role above)")
        needed = covers[0]
    else:
        needed = pair[1] if request["role"] == pair[0] else pair[0]
        if needed not in caller.groups:
            raise Forbidden(f"the second approval of this waiver needs a {needed}")
    if caller.principal == request["requested_by"]:
        raise Forbidden("the approval must come from another person than the one who asked")
    if penalty > position.penalty or interest > position.overdue_interest:
        services.cases.update(case_id, remove=("waiver_request",), expect={"waiver_request": request})
        raise Refused("the case owes less than the waiver asked for since it was requested: ask again")
    request = _decide(services, case, request, caller, "approved")
    audit_log.append(
        services,
        case_id,
        "waiver_decision",
        clock.now(),
        {
            "role": needed,
            "by": caller.principal,
            "penalty_requested": fmt(penalty),
            "interest_requested": fmt(interest),
            "approved": True,
            "approvers": [
                {"by": request["requested_by"], "role": request["role"]},
                {"by": caller.principal, "role": needed},
            ],
            "reason": None,
            "required_role": None,
        },
        dedupe=f"waiver:{request['version']}:second:{caller.principal}",
    )
    decision = WaiverDecision(True, penalty, interest)
    months = request.get("months")
    plan = _propose_plan(
        services, request["requested_by"], case, loan, position, today, decision, months, int(request["version"])
    )
    services.cases.update(case_id, remove=("waiver_request",), expect={"waiver_request": request})
    return plan


def refuse_waiver(
    services: Services, caller: Caller, case_id: str, version: int, request_hash: str, reason: str
) -> dict[str, Any]:
    """An approver refuses a held waiver request (named by its version and content hash), with the reason
    (on the record); nothing is proposed."""
    if caller.system or not caller.groups & {"supervisor", "collections_manager"}:
        raise Forbidden("only supervisors and collections managers decide waiver requests")
    case = _case(services, case_id)
    request = _named_request(case, version, request_hash, caller, "refused")
    if caller.principal == request["requested_by"]:
        raise Forbidden("the one who asked does not decide their own request")
    request = _decide(services, case, request, caller, "refused")
    _record_refusal(services, case_id, request, caller, reason, f"refused:{caller.principal}")
    services.cases.update(case_id, remove=("waiver_request",), expect={"waiver_request": request})
    return {"case_id": case_id, "refused": True, "reason": reason}


def _record_refusal(
    services: Services, case_id: str, request: dict[str, Any], caller: Caller, reason: str, kind: str
) -> None:
    """A held waiver request that is not granted (refused, or superseded by a later plan), on the record."""
    audit_log.append(
        services,
        case_id,
        "waiver_decision",
        clock.now(),
        {
            "role": caller.role,
            "by": caller.principal,
            "penalty_requested": request["penalty"],
            "interest_requested": request["interest"],
            "approved": False,
            "reason": reason,
            "required_role": None,
            "requested_by": request["requested_by"],
        },
        dedupe=f"waiver:{request['version']}:{kind}",
    )


def _named_request(case: Case, version: int, request_hash: str, caller: Caller, verdict: str) -> dict[str, Any]:
    """The held request the caller names, as they saw it; 409 for any other (a newer plan or request, a
    changed one, or one another approver has decided)."""
    request = case.waiver_request
    if not request:
        raise Refused("no waiver on this case awaits approval")
    if (request.get("version"), request.get("request_hash")) != (version, request_hash):
        raise Refused(
            f"waiver request v{version} ({request_hash}) is not the one awaiting a decision: "
            f"v{request.get('version')} ({request.get('request_hash')}) is; reload the case"
        )
    if case.plan_version > version:
        raise Refused(f"plan v{case.plan_version} was proposed after this request: it no longer applies")
    decided = request.get("decided")
    if decided and decided != {"verdict": verdict, "by": caller.principal}:
        raise Refused(f"this waiver request was {decided['verdict']} by {decided['by']}")
    return dict(request)


def _decide(services: Services, case: Case, request: dict[str, Any], caller: Caller, verdict: str) -> dict[str, Any]:
    """Take the decision on the request in one conditional write on the request as read: of two approvers
    deciding at once, one wins and the other is refused (the winner's retry goes on)."""
    decided = {**request, "decided": {"verdict": verdict, "by": caller.principal}}
    if request.get("decided"):
        return decided  # a retry of this caller's own decision
    if not services.cases.update(case.case_id, {"waiver_request": decided}, expect={"waiver_request": request}):
        raise Refused("the waiver request changed or was decided meanwhile: reload the case")
    return decided


def waiver_for(role: str, loan: Any, position: Any, penalty: Decimal, interest: Decimal) -> WaiverDecision:
    """The decision on waiving ``penalty`` and ``interest`` of the case's position, by ``role``, under the
    waiver matrix of the loan's rule pack."""
    authorities, pair = pack_authorities(loan.rules or "cn")
    return decide_waiver(
        role, penalty, interest, position.penalty, position.overdue_interest, authorities=authorities, two_person=pair
    )


def size_plan(services: Services, loan: Any, amount: Decimal, today: date, months: int | None) -> PlanDecision:
    """The plan for ``amount``, sized to the customer's income and expenses (opened just in time) beside
    the loan's own installment, its first installment a week from ``today``."""
    means = services.loans.contact(loan.loan_id)
    return propose_plan(
        amount,
        _money(means.get("monthly_income")),
        _money(means.get("monthly_expenses")),
        today + timedelta(days=7),
        PlanPolicy(),
        months=months,
        regular_monthly=regular_installment(loan, today),
        step=unit(loan.currency),
    )


def _propose_plan(
    services: Services,
    proposer: str,
    case: Case,
    loan: Any,
    position: Any,
    today: date,
    waiver: WaiverDecision,
    months: int | None,
    version: int,
) -> dict[str, Any]:
    """A plan for what the case owes less the approved waiver, sized to the customer's income."""
    amount = position.total_overdue - waiver.total
    decision = size_plan(services, loan, amount, today, months)
    if not decision.ok:
        raise Refused(decision.reason or "no plan fits")
    plan = Plan(
        version=version,
        proposed_on=today,
        proposed_by=proposer,
        amount=_cents(amount),
        waived_penalty=_cents(waiver.penalty_waived),
        waived_interest=_cents(waiver.interest_waived),
        waiver_conditional=bool(waiver.total) and load_pack(loan.rules or "cn").waivers.reinstate_on_broken_plan,
        installments=tuple(
            PlanInstallment(seq=i.seq, due_date=i.due_date, amount=_cents(i.amount)) for i in decision.installments
        ),
    )
    item = plan.to_item()
    services.cases.update(case.case_id, {"plan": item, "plan_version": version})
    audit_log.append(services, case.case_id, "plan_proposed", clock.now(), item, dedupe=f"plan:{version}")
    resume(services, case.case_id, {"kind": "plan_proposed"})
    return with_hash(plan)


def accept(services: Services, caller: Caller, case_id: str, version: int, plan_hash: str) -> dict[str, Any]:
    """The customer accepts the proposed plan (recorded by staff or the bank's channel), named by its
    version and content hash as the customer saw it: any other is refused."""
    case = _case(services, case_id)
    if not caller.system:
        _may_act(caller, case)
    _open(case)
    proposed = case.plan
    if proposed is None:
        raise Refused("there is no proposed plan to accept")
    if (proposed.version, proposed.content_hash) != (version, plan_hash):
        raise Refused(
            f"plan v{version} ({plan_hash}) is not the plan proposed: v{proposed.version} "
            f"({proposed.content_hash}) is; the customer accepts the plan they were shown"
        )
    if proposed.accepted_on is not None:
        # accepted before; if the booking or the workflow's resume failed, they happen now (both are
        # idempotent: the ledger books an entry once per reference, the workflow hears it once)
        _book(services, case, proposed)
        if case.waiting_state != AWAIT_PLAN:
            resume(services, case_id, {"kind": "plan_accepted"})
        return with_hash(proposed)
    today = clock.today(services.settings.time_zone)
    if proposed.installments[0].due_date <= today:
        raise Refused(
            f"plan {proposed.version}'s first installment was due on {proposed.installments[0].due_date}: "
            "propose a new plan"
        )
    accepted = proposed.model_copy(
        update={"accepted_on": today, "waived_total": _cents(proposed.waived_penalty + proposed.waived_interest)}
    )
    plan = accepted.to_item()
    # the ledger first: the case says accepted only once the plan is booked (a booking the ledger
    # refuses leaves the proposal as it was); booking again on a retry is a no-op (one entry a reference)
    _book(services, case, accepted)
    # only over the proposal accepted (a proposal replacing it meanwhile is not overwritten)
    if not services.cases.update(
        case_id, {"plan": plan, "waived": plan["waived_total"]}, expect={"plan": proposed.to_item()}
    ):
        raise Refused("the proposed plan changed while it was accepted: reload the case")
    loan = services.loans.get(case.loan_id)
    if loan is not None:  # agreeing to a plan acknowledges the debt
        _limitation().interrupt(services, case, loan, today, "acknowledgement")
    audit_log.append(
        services,
        case_id,
        "plan_accepted",
        clock.now(),
        {"version": accepted.version},
        dedupe=f"accept:{accepted.version}",
    )
    resume(services, case_id, {"kind": "plan_accepted"})
    return with_hash(accepted)


def with_hash(plan: Plan) -> dict[str, Any]:
    """A plan as the API gives it: its stored form and ``plan_hash``, what an acceptance names."""
    return {**plan.to_item(), "plan_hash": plan.content_hash}


def _book(services: Services, case: Case, plan: Plan) -> None:
    """Book an accepted plan on the loan's ledger: its waiver (approved by who proposed it, within their
    authority) and the restructuring of the arrears into the plan's installments."""
    assert plan.accepted_on is not None
    reference = plan_reference(case.model_copy(update={"plan": plan}))
    if plan.waived_penalty or plan.waived_interest:
        waiver = Waiver(
            date=plan.accepted_on,
            penalty=plan.waived_penalty,
            interest=plan.waived_interest,
            approved_by=plan.proposed_by,
            reference=f"{reference}:waiver",
            conditional_on=reference if plan.waiver_conditional else None,
        )
        services.loans.post_entry(case.loan_id, waiver.model_dump(mode="json"), plan.accepted_on)
    restructuring = Restructuring(
        date=plan.accepted_on,
        installments=tuple(PlanLine(due_date=i.due_date, amount=i.amount) for i in plan.installments),
        grace_days=services.settings.broken_promise_grace_days,
        approved_by=plan.proposed_by,
        reference=reference,
    )
    services.loans.post_entry(case.loan_id, restructuring.model_dump(mode="json"), plan.accepted_on)


def check_promise(
    services: Services,
    case: Case,
    promised_date: date,
    amount: Decimal,
    date_field: str = "promised_date",
    amount_field: str = "amount",
) -> None:
    """Refuse a promise the case may not take (InvalidInput naming the caller's field): a date not after
    today or past the horizon, an amount finer than the currency's unit."""
    whole_units(amount_field, amount, case.currency)
    today = clock.today(services.settings.time_zone)
    horizon = today + timedelta(days=services.settings.promise_max_days)
    if not today < promised_date <= horizon:
        raise InvalidInput(date_field, f"{promised_date} must be after today ({today}) and no later than {horizon}")


def promise(services: Services, caller: Caller, case_id: str, promised_date: date, amount: Decimal) -> dict[str, Any]:
    case = _case(services, case_id)
    _may_act(caller, case)
    _open(case)
    check_promise(services, case, promised_date, amount)
    today = clock.today(services.settings.time_zone)
    record = Promise(promised_date=promised_date, amount=_cents(amount), by=caller.principal, made_on=today).to_item()
    services.cases.update(case_id, {"promise": record})
    audit_log.append(
        services, case_id, "promise_to_pay", clock.now(), record, dedupe=f"promise:{promised_date}:{amount}"
    )
    loan = services.loans.get(case.loan_id)
    if loan is not None:  # the debtor's acknowledgement (民法典 第一百九十五条)
        _limitation().interrupt(services, case, loan, today, "acknowledgement")
    resume(services, case_id, {"kind": "promise_to_pay"})
    return record


def open_complaint(services: Services, caller: Caller, case_id: str) -> dict[str, Any]:
    """A complaint pauses all contact on the case and starts the resolution clock; supervisors hear of it.
    It comes through the bank's complaint channel (a system), a supervisor or the case's agent."""
    case = _case(services, case_id)
    _may_act(caller, case)
    _open(case)
    today = clock.today(services.settings.time_zone)
    deadline = today + timedelta(days=services.settings.complaint_resolution_days)
    services.cases.watch_complaint(case_id, today, deadline)
    customers.pause(services, case.customer_id, case_id)  # all the customer's contact, every loan
    count = case.complaints + 1
    services.cases.update(case_id, {"complaints": count})
    audit_log.append(
        services,
        case_id,
        "complaint_opened",
        clock.now(),
        {"by": caller.principal, "deadline": deadline.isoformat()},
        dedupe=f"complaint:{count}:open",
    )
    services.notifier.notify_staff(
        "DueFlow: complaint opened", {"type": "complaint_opened", "case_id": case_id, "deadline": deadline.isoformat()}
    )
    return {"case_id": case_id, "complaint_open": True, "deadline": deadline.isoformat()}


def resolve_complaint(services: Services, caller: Caller, case_id: str) -> dict[str, Any]:
    """Resolving the complaint resumes the case where it was (its wake-up date still stands)."""
    if "supervisor" not in caller.groups:
        raise Forbidden("only a supervisor resolves complaints")
    case = _case(services, case_id)
    if not case.complaint_open:
        raise Refused("no complaint is open on this case")
    services.cases.close_complaint(case_id, clock.today(services.settings.time_zone))
    customers.unpause(services, case.customer_id, case_id)
    audit_log.append(
        services,
        case_id,
        "complaint_resolved",
        clock.now(),
        {"by": caller.principal},
        dedupe=f"complaint:{case.complaints or 1}:resolved",
    )
    return {"case_id": case_id, "complaint_open": False}


def opt_out(services: Services, caller: Caller, case_id: str, channel: str) -> dict[str, Any]:
    if channel not in ("sms", "email", "call"):
        raise Refused(f"unknown channel {channel!r}")
    case = _case(services, case_id)
    _may_act(caller, case)
    channels = set(case.opt_out) | {channel}
    services.cases.update(case_id, {"opt_out": channels})
    customers.opt_out(services, case.customer_id, channel)  # the customer's choice: all their loans
    audit_log.append(services, case_id, "customer_reply", clock.now(), {"opt_out": channel}, dedupe=f"optout:{channel}")
    return {"case_id": case_id, "opt_out": sorted(channels)}


def acceleration_notice(
    services: Services, caller: Caller, case_id: str, sent_on: date, reference: str
) -> dict[str, Any]:
    """Record the acceleration notice (加速到期通知) the bank gave the borrower under the loan contract: from
    then on the legal review claims the principal not yet due as well. Legal records it, with the notice's
    own reference (its letter or courier number)."""
    if "legal" not in caller.groups:
        raise Forbidden("only legal records an acceleration notice")
    case = _case(services, case_id)
    _open(case)
    today = clock.today(services.settings.time_zone)
    if sent_on > today:
        raise InvalidInput("sent_on", f"{sent_on} is after today ({today})")
    if case.opened_on is not None and sent_on < case.opened_on:
        raise InvalidInput("sent_on", f"{sent_on} is before the case opened ({case.opened_on})")
    services.cases.update(
        case_id, {"acceleration_noticed_on": sent_on.isoformat(), "acceleration_reference": reference}
    )
    loan = services.loans.get(case.loan_id)
    if loan is not None:  # everything fell due on the notice: the period may start earlier
        oldest = today - timedelta(days=assess(loan, today).dpd)
        _limitation().start(services, case_id, loan, oldest, accelerated_on=sent_on)
    body = {"sent_on": sent_on.isoformat(), "reference": reference, "by": caller.principal}
    audit_log.append(services, case_id, "acceleration_notice", clock.now(), body, dedupe=f"acceleration:{reference}")
    return {"case_id": case_id, "acceleration_noticed_on": sent_on.isoformat(), "reference": reference}


def conversation(services: Services, caller: Caller, case_id: str, outcome: str) -> dict[str, Any]:
    """An agent spoke with the customer on the telephone: on the record, and the start of the pack's quiet
    period for calls (us: no call for 7 days after a conversation, 12 CFR 1006.14(b)(2)(ii))."""
    case = _case(services, case_id)
    _may_act(caller, case)
    if caller.system:
        raise Forbidden("staff record the conversations they had")
    now = clock.now()
    _conversation(services, case, caller, now, outcome)
    return {"case_id": case_id, "conversation_at": now.isoformat()}


def _conversation(services: Services, case: Case, caller: Caller, at: datetime, outcome: str) -> None:
    services.cases.update_customer(case.customer_id, {"last_conversation_at": at.isoformat()})
    audit_log.append(
        services, case.case_id, "customer_reply", at, {"conversation": outcome, "by": caller.principal},
        dedupe=f"conversation:{at.isoformat()}",
    )  # fmt: skip


CALL_OUTCOMES = ("no_answer", "busy", "voicemail", "wrong_number", "conversation")


def call_attempt(services: Services, caller: Caller, case_id: str, outcome: str, at: datetime) -> dict[str, Any]:
    """An agent's dial attempt on the case's debt, recorded as the dialer places it (``at``: when). The
    contact gate decides first, as for any message: outside the customer's contact window, within the
    quiet after a conversation, over the pack's caps (us: 7 attempts in 7 days per debt, 12 CFR
    1006.14(b)(2)(i)), or to a customer who may not be called, the attempt is refused (409) with the
    reason and when a call may next be placed, and nothing is recorded. Recorded, it counts against the
    caps as the pack says (``counts``: every attempt, or only conversations); a conversation also starts
    the quiet period. The same attempt sent again (same ``at``) is recorded once."""
    from dueflow.domain.contact_policy import Verdict
    from dueflow.services.dispatch import call_gate

    if outcome not in CALL_OUTCOMES:
        raise InvalidInput("outcome", f"{outcome!r} is not one of {', '.join(CALL_OUTCOMES)}")
    if caller.system:
        raise Forbidden("staff record the calls they place")
    case = _case(services, case_id)
    _may_act(caller, case)
    _open(case)
    now = clock.now()
    if at.tzinfo is None:
        raise InvalidInput("at", "must carry its UTC offset")
    if not now - timedelta(minutes=15) <= at <= now + timedelta(minutes=1):
        raise InvalidInput("at", f"{at.isoformat()} is not within the last 15 minutes (now {now.isoformat()})")
    if at.isoformat() in case.call_attempts:
        return {"case_id": case_id, "attempt_at": at.isoformat(), "recorded": "before"}
    stored = services.loans.get_stored(case.loan_id)
    if stored is None:
        raise NotFound(f"no loan {case.loan_id!r}")
    loan = stored.loan
    decision, _ = call_gate(services, case, stored, at)
    if decision.verdict != Verdict.SEND:
        after = f"; the next call may be placed from {decision.not_before.isoformat()}" if decision.not_before else ""
        raise Refused(f"no call now: {decision.reason}{after}")
    counted = record_attempt(services, caller, case, loan, outcome, at)
    return {"case_id": case_id, "attempt_at": at.isoformat(), "recorded": "now", "counted": counted}


def record_attempt(services: Services, caller: Caller, case: Case, loan: Any, outcome: str, at: datetime) -> bool:
    """Record a dial attempt placed at ``at``: counted against the caps as the pack says (every attempt, or
    only conversations; on the debt's log or the customer's), on the record, and a conversation starts
    the quiet period and is a demand (the limitation period). True when it counted."""
    from dueflow.services.dispatch import counts_on_customer_log

    pack_counts = load_pack(loan.rules).contact.counts if loan.rules else "attempts"
    counted = pack_counts == "attempts" or outcome == "conversation"
    if counted:
        if counts_on_customer_log(loan, "call"):
            services.cases.add_contact(case.customer_id, at)
        else:
            horizon = at - timedelta(days=7)
            recent = [t for t in case.call_attempts if datetime.fromisoformat(t) > horizon]
            services.cases.update(case.case_id, {"call_attempts": [*recent, at.isoformat()]})
    body = {"outcome": outcome, "by": caller.principal, "at": at.isoformat(), "counted": counted}
    audit_log.append(services, case.case_id, "call_attempt", clock.now(), body, dedupe=f"call:{at.isoformat()}")
    if outcome == "conversation":
        _conversation(services, case, caller, at, outcome)
        # a demand made to the debtor in person: on the record, it interrupts the period
        _limitation().interrupt(
            services, case, loan, at.astimezone(ZoneInfo(services.settings.time_zone)).date(), "demand"
        )
    return counted


def do_not_contact(services: Services, caller: Caller, case_id: str, reason: str) -> dict[str, Any]:
    """Stop all contact with the case's customer, every loan, pre-due reminders included, with a reason
    (a legal instruction, a bereavement, a cease-and-desist letter); supervisors set it, the bank's
    channels may too."""
    if not (caller.system or caller.groups & {"supervisor", "collections_manager"}):
        raise Forbidden("only a supervisor sets do-not-contact")
    case = _case(services, case_id)
    today = clock.today(services.settings.time_zone)
    customers.set_do_not_contact(services, case.customer_id, reason, caller.principal, today)
    audit_log.append(
        services, case_id, "customer_reply", clock.now(), {"do_not_contact": reason, "by": caller.principal},
        dedupe=f"dnc:{today}:{reason}",
    )  # fmt: skip
    return {"case_id": case_id, "do_not_contact": reason}


def clear_do_not_contact(services: Services, caller: Caller, case_id: str, reason: str) -> dict[str, Any]:
    """Contact may resume (a supervisor, with the reason on the record)."""
    if not caller.groups & {"supervisor", "collections_manager"}:
        raise Forbidden("only a supervisor clears do-not-contact")
    case = _case(services, case_id)
    customers.clear_do_not_contact(services, case.customer_id)
    audit_log.append(
        services, case_id, "customer_reply", clock.now(), {"do_not_contact_cleared": reason, "by": caller.principal},
        dedupe=f"dnc-clear:{clock.now().isoformat()}",
    )  # fmt: skip
    return {"case_id": case_id, "do_not_contact": None}


def audit_records(
    services: Services, caller: Caller, case_id: str, litigation_only: bool = False
) -> list[dict[str, Any]]:
    """Audit records of a case: auditors and legal read them; legal alone reads litigation packages."""
    import json

    if litigation_only and not ({"legal"} & caller.groups):
        raise Forbidden("only legal may read litigation packages")
    if not litigation_only and not (caller.groups & {"auditor", "legal"}):
        raise Forbidden("only auditors and legal read audit records")
    case = _case(services, case_id)
    records = {key: json.loads(data) for key, data in services.audit_store.read_case(case.loan_id, case_id)}
    out = []
    for key, record in records.items():
        if not litigation_only:
            out.append({"key": key, "record": record})
        elif key.endswith("-litigation_package.json"):
            # legal alone: the defendant's identity opened, each notice's evidence shown
            from dueflow.services.litigation import expand_evidence, open_parties

            body = expand_evidence(open_parties(services, case.loan_id, record["body"]), records)
            out.append({"key": key, "record": {**record, "body": body}})
    return out


def whole_units(field: str, amount: Decimal, currency: str) -> None:
    """Refuse an amount finer than the currency's minor unit (ISO 4217: yen has none), naming the field."""
    if amount != amount.quantize(unit(currency), rounding=ROUND_DOWN):
        raise InvalidInput(field, f"{currency} has no amounts finer than {unit(currency)}: {amount}")


def _cents(amount: Decimal) -> Decimal:
    """An amount as stored and recorded: two decimal places."""
    return Decimal(fmt(amount))


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None
