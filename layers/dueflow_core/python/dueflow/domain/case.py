"""A collection case as the cases table keeps it: one typed model, read by attribute, money in Decimal.

The case store hands out ``Case`` objects; writes name attributes of this model (a store refuses any
other name, so a misspelt attribute fails at once instead of writing a field nobody reads). Stored
values stay plain (decimal strings, ISO dates), so items and audit bodies are unchanged: ``item_value``
turns a model or a value into its stored form.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dueflow.domain.position import Position

CaseStatus = Literal["OPEN", "CLOSED"]


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_item(self) -> dict[str, Any]:
        """The stored form: JSON types (decimal strings, ISO dates), empty values left out."""
        return item_value(self)  # type: ignore[no-any-return]


class PlanInstallment(_Stored):
    seq: int
    due_date: date
    amount: Decimal


class Plan(_Stored):
    """A repayment plan as proposed (and, once ``accepted_on`` is set, accepted). Amounts in the loan's
    currency."""

    version: int
    proposed_on: date
    proposed_by: str
    amount: Decimal
    waived_penalty: Decimal = Decimal("0")
    waived_interest: Decimal = Decimal("0")
    installments: tuple[PlanInstallment, ...]
    accepted_on: date | None = None
    waived_total: Decimal | None = None
    # the waiver is owed again if the plan breaks (the rule pack's term when it was proposed)
    waiver_conditional: bool = False

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.installments), Decimal(0))

    @property
    def content_hash(self) -> str:
        """What was proposed, as a short digest: an acceptance names it with the version, so that it
        accepts exactly the plan the customer saw (acceptance and its totals left out)."""
        proposal = self.model_copy(update={"accepted_on": None, "waived_total": None})
        return content_hash(proposal.to_item())


def content_hash(value: Any) -> str:
    """16 hex digits of the SHA-256 of ``value``'s canonical JSON (sorted keys, no spaces)."""
    import json

    text = json.dumps(item_value(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Promise(_Stored):
    """A promise to pay ``amount`` by ``promised_date``, taken by ``by`` on ``made_on``; ``outcome`` is
    decided on the record once the promised date and its grace have passed."""

    promised_date: date
    amount: Decimal
    by: str
    made_on: date | None = None
    outcome: Literal["kept", "broken"] | None = None

    def pending(self, today: date, grace_days: int) -> bool:
        """Still holding escalation: undecided and not past the promised date and its grace."""
        return self.outcome is None and today <= self.promised_date + timedelta(days=grace_days)


class Case(_Stored):
    """One case: who and what it is about, where its workflow stands, and its audit chain's head."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    loan_id: str
    episode: int = 1  # the loan's n-th case: each delinquency after a closed case is a new episode
    customer_id: str = ""
    opened_on: date | None = None
    status: CaseStatus = "OPEN"
    open_shard: str | None = None  # on the open-index while open (the workbench's queues)
    stage: str = "Opening"
    outcome: str | None = None
    closed_on: date | None = None
    closed_outcome: str | None = None  # the outcome again, as the closed-index's key
    dpd_at_open: int = 0
    total_overdue_at_open: Decimal = Decimal("0")
    currency: str = "CNY"
    execution_arn: str | None = None
    continuations: int = 0  # executions after the first (a long plan, or an execution that ended)
    # the visit (``execution|entered``) of the working stage the case is in; after an execution failed
    # in it, the visit its replacement replays (dueflow.services.recovery), so nothing is done twice
    stage_visit: str | None = None
    resume_visit: str | None = None
    # executions that ended FAILED, TIMED_OUT or ABORTED while the case was open, each replaced
    restarts: int = 0
    restarted_on: date | None = None
    restarts_that_day: int = 0
    statement: dict[str, Any] | None = None
    reminders_sent: int = 0
    # why the customer is overdue (了解逾期原因): a code of the workbench's list and the agent's words
    delinquency_reason: dict[str, str] | None = None
    # the plan, waivers and promises
    plan: Plan | None = None
    plan_version: int = 0
    waived: Decimal = Decimal("0")  # granted with the accepted plan
    waiver_reinstated: Decimal = Decimal("0")  # owed again since the plan it was granted for broke
    promise: Promise | None = None
    renegotiations_used: int = 0
    # the acceleration notice (加速到期通知) the bank gave: only then is principal not yet due claimable
    acceleration_noticed_on: date | None = None
    acceleration_reference: str | None = None  # its letter or courier number
    # the credit-report pre-notice went out: adverse information may be reported from this day on
    credit_report_allowed_from: date | None = None
    # the limitation period (诉讼时效, dueflow.services.limitation): its start, last interruption and end;
    # on the limitation-index (by the day its warning begins) while open; flagged when nearing its end
    limitation_started_on: date | None = None
    limitation_last_interruption: date | None = None
    limitation_expires_on: date | None = None
    limitation_warn_on: date | None = None
    limitation_shard: str | None = None
    limitation_flagged_on: date | None = None
    # a waiver above every single authority, held for its second approval (双人审批)
    waiver_request: dict[str, Any] | None = None
    plan_broken_on: date | None = None
    progress_notices: int = 0
    litigation_package_seq: int | None = None
    # contact
    assigned_to: str | None = None
    queue_of: str | None = None  # the assigned agent while the case is open (the queue-index)
    # the dial attempts agents recorded on this debt in the last 7 days (ISO times): a pack's per-debt caps
    call_attempts: tuple[str, ...] = ()
    opt_out: frozenset[str] = frozenset()
    complaint_open: bool = False
    complaint_opened_on: date | None = None
    complaint_deadline: date | None = None
    complaint_resolved_on: date | None = None
    complaint_escalated_on: date | None = None  # past its deadline unresolved: escalated to a supervisor
    complaint_shard: str | None = None  # on the complaint-index while open
    complaints: int = 0
    # waiting in a callback state
    task_token: str | None = None
    waiting_state: str | None = None
    wake_on: date | None = None
    wake_shard: str | None = None
    # the audit chain's head and its claim (dueflow.services.audit_log)
    audit_seq: int = 0
    audit_head: str | None = None
    audit_pending: str | None = None
    audit_pending_body: str | None = None
    audit_keys: frozenset[str] = Field(default_factory=frozenset)

    @property
    def is_open(self) -> bool:
        return self.status == "OPEN"

    @property
    def plan_accepted(self) -> bool:
        return self.plan is not None and self.plan.accepted_on is not None

    @property
    def plan_in_force(self) -> bool:
        """Accepted and not broken since (a broken plan sends the case back to negotiation)."""
        if self.plan is None or self.plan.accepted_on is None:
            return False
        return self.plan_broken_on is None or self.plan_broken_on < self.plan.accepted_on


CASE_ATTRIBUTES = frozenset(Case.model_fields)


def check_attributes(names: Any, case_id: str) -> None:
    """Refuse a write naming an attribute a case does not have (ValueError naming it)."""
    unknown = sorted(set(names) - CASE_ATTRIBUTES)
    if unknown:
        raise ValueError(f"case {case_id}: no attribute {unknown[0]!r} on a case")


def item_value(value: Any) -> Any:
    """A model, a date or a Decimal as the cases table stores it (JSON types; sets stay sets)."""
    if isinstance(value, BaseModel):
        return {
            k: item_value(v)
            for k, v in value.model_dump(mode="python", exclude_none=True).items()
            if v not in (None, frozenset(), set())
        }
    if isinstance(value, dict):
        return {k: item_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [item_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return set(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def execution_name(case_id: str) -> str:
    """The Step Functions execution name of a case: the case id when Step Functions accepts it (letters,
    digits, ``-`` and ``_``, at most 80), else the id with every other character made ``_``, cut to 63,
    and 16 hex digits of its SHA-256 (deterministic, and unique: two ids never share the suffix)."""
    if _EXECUTION_NAME.match(case_id):
        return case_id
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", case_id)[:63]
    return f"{readable}-{hashlib.sha256(case_id.encode()).hexdigest()[:16]}"


def continuation_name(case_id: str, number: int) -> str:
    """The execution name of a case's ``number``-th continuation (0: its first execution)."""
    return execution_name(case_id if number == 0 else f"{case_id}-x{number}")


def case_id_for(loan_id: str, position: Position, episode: int = 1) -> str:
    """Deterministic: the loan and the due date of its oldest overdue installment, and from the loan's
    second case on its episode number (``-e2``), so that a later delinquency starting from the same
    unpaid installment never meets an earlier, closed case's id."""
    first_overdue = position.as_of - timedelta(days=position.dpd)
    base = f"{loan_id}-{first_overdue.isoformat()}"
    return base if episode == 1 else f"{base}-e{episode}"


def latest_case(cases: Iterable[Case | None]) -> Case | None:
    """A loan's latest case among ``cases``: the highest episode."""
    return max((c for c in cases if c is not None), key=lambda c: (c.episode, c.opened_on or date.min), default=None)


_CASE_ID = re.compile(r"^(?P<loan>.+)-\d{4}-\d{2}-\d{2}(?:-e(?P<episode>[0-9]+))?$")


def loan_of_case(case_id: str) -> str:
    """The loan id inside a case id (see ``case_id_for``)."""
    match = _CASE_ID.match(case_id)
    if match is None:
        raise ValueError(f"not a case id: {case_id!r}")
    return match.group("loan")
