"""What every store of a port does the same way, whichever world it keeps its items in: the outbox's
message lifecycle on top of one conditional transition, a case's parking on top of ``update``, and what
a posting under a reference already on the loan means.

The AWS adapters (``dueflow.adapters``) and the in-memory ones (``dueflow_local.memory``) inherit these,
so the rules are written once and the contract suite checks both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from dueflow.domain.book import assign_pack
from dueflow.domain.loan import EMERGENCY_PII, GUARANTOR_PII, Loan
from dueflow.domain.outbox import LEASE
from dueflow.domain.rules import PackSelection
from dueflow.ports import PostingConflict
from dueflow.sharding import shard_of


class MessageLifecycle:
    """PENDING -> SENDING -> SENT (or UNCONFIRMED), PENDING -> DROPPED, each step conditional on the
    status it leaves (``_transition``, which each store implements)."""

    def _transition(
        self,
        message_id: str,
        from_status: str,
        to_status: str,
        extra: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
    ) -> bool:
        raise NotImplementedError

    def claim(self, message_id: str, now: datetime) -> bool:
        """PENDING -> SENDING, leased until ``now + LEASE``; True for exactly one dispatcher."""
        lease = (now + LEASE).isoformat()
        return self._transition(message_id, "PENDING", "SENDING", {"not_before": lease, "claimed_at": now.isoformat()})

    def release(self, message_id: str, now: datetime) -> bool:
        """SENDING -> PENDING: the provider refused the call (nothing went out), so it may be retried."""
        return self._transition(message_id, "SENDING", "PENDING", {"not_before": now.isoformat()})

    def sent(self, message_id: str, at: datetime, provider_id: str) -> bool:
        """SENDING -> SENT. It stays on the pending-index (due at once) until its record is complete
        (``recorded``): a dispatcher that stops in between leaves it for the next tick to finish."""
        fields = {"sent_at": at.isoformat(), "provider_id": provider_id, "not_before": at.isoformat()}
        return self._transition(message_id, "SENDING", "SENT", fields)

    def unconfirmed(self, message_id: str, at: datetime) -> bool:
        """SENDING -> UNCONFIRMED: the lease ended with no record of the send; never sent again (on the
        pending-index until its record is complete, as ``sent``)."""
        return self._transition(
            message_id,
            "SENDING",
            "UNCONFIRMED",
            {
                "reason": "the dispatcher stopped after claiming it; it may have gone out",
                "settled_at": at.isoformat(),
                "sent_at": at.isoformat(),
                "not_before": at.isoformat(),
            },
        )

    def recorded(self, message_id: str, status: str) -> bool:
        """A SENT or UNCONFIRMED message's record is complete: off the pending-index."""
        return self._transition(message_id, status, status, None, ("pending_shard",))

    def defer(self, message_id: str, not_before: datetime) -> bool:
        return self._transition(message_id, "PENDING", "PENDING", {"not_before": not_before.isoformat()})

    def drop(self, message_id: str, reason: str) -> bool:
        return self._transition(message_id, "PENDING", "DROPPED", {"reason": reason}, ("pending_shard",))


CONTACT_LOG_DAYS = 8  # the 7-day cap needs a week of history


def contact_log(item: Mapping[str, Any], at: datetime, ref: str | None) -> dict[str, Any] | None:
    """A customer item's contact log with a contact at ``at`` added (the last week kept): the times the
    caps count and, beside each, what it was (a message id; "" for none). None when ``ref`` is there
    already: a record completed again after a failure part-way counts once."""
    times = list(item.get("contacts", []))
    refs = list(item.get("contact_refs", [])) or [""] * len(times)
    if len(refs) != len(times):
        refs = [""] * len(times)
    if ref and ref in refs:
        return None
    kept = [
        (t, r) for t, r in zip(times, refs, strict=True) if (at - datetime.fromisoformat(t)).days < CONTACT_LOG_DAYS
    ]
    kept.append((at.isoformat(), ref or ""))
    return {"contacts": [t for t, _ in kept], "contact_refs": [r for _, r in kept]}


CONCURRENT_ATTEMPTS = 8  # a posting re-applied to a loan changed meanwhile, before giving up


def posted(loan: Loan, field: str, value: Mapping[str, Any]) -> Loan | None:
    """The loan with ``value`` appended to its ``field`` list (its rules decide: pydantic's
    ValidationError when they refuse it), or None when it holds ``value`` under its reference already
    (``PostingConflict`` for other content there). What both worlds write, conditionally on ``loan``."""
    if already_posted(loan, field, value):
        return None
    record = loan.model_dump(mode="json", exclude_none=True)
    record[field] = [*record.get(field, []), dict(value)]
    return Loan.model_validate(record)


def already_posted(loan: Loan, field: str, value: Mapping[str, Any]) -> bool:
    """Whether ``value`` (a payment or a ledger entry, as JSON) is on the loan under its reference: True
    for the same content again (a retried posting), ``PostingConflict`` for other content under it."""
    reference = value.get("reference")
    if reference is None:
        return False
    for held in getattr(loan, field):
        if held.reference == reference:
            stored = held.model_dump(mode="json", exclude_none=True)
            given = type(held).model_validate(dict(value)).model_dump(mode="json", exclude_none=True)
            if stored != given:
                raise PostingConflict(loan.loan_id, str(reference), _posting(stored), _posting(given))
            return True
    return False


def _posting(value: Mapping[str, Any]) -> str:
    if "amount" in value and "date" in value:
        return f"{value['amount']} on {value['date']}"
    return json.dumps(dict(value), sort_keys=True)


class CaseParking:
    """A case waiting in a callback state carries its task token, the state's name and its wake-up date
    (in the sparse sharded wake-index); resuming takes them off in one conditional write."""

    _shards: int

    def update(
        self,
        case_id: str,
        set_values: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        raise NotImplementedError

    def park(self, case_id: str, token: str, state: str, wake_on: date | None) -> None:
        """Remember the task token of the callback state ``state`` and when to wake the case."""
        fields: dict[str, Any] = {"task_token": token, "waiting_state": state, "stage": state}
        remove: tuple[str, ...] = ()
        if wake_on is not None:
            fields |= {"wake_on": wake_on.isoformat(), "wake_shard": shard_of(case_id, self._shards)}
        else:
            remove = ("wake_on", "wake_shard")
        self.update(case_id, fields, remove, expect={"status": "OPEN"})

    def watch_complaint(self, case_id: str, opened_on: date, deadline: date) -> None:
        """Open a complaint: contact pauses, and the case goes on the complaint-index until resolved."""
        self.update(
            case_id,
            {
                "complaint_open": True,
                "complaint_opened_on": opened_on.isoformat(),
                "complaint_deadline": deadline.isoformat(),
                "complaint_shard": shard_of(case_id, self._shards),
            },
            remove=("complaint_escalated_on",),
        )

    def close_complaint(self, case_id: str, resolved_on: date) -> None:
        """Resolve the open complaint: off the complaint-index."""
        self.update(
            case_id,
            {"complaint_open": False, "complaint_resolved_on": resolved_on.isoformat()},
            remove=("complaint_shard",),
        )

    def unpark(self, case_id: str, token: str) -> bool:
        """Take the token off the case; True for exactly one caller per token."""
        return self.update(
            case_id,
            remove=("task_token", "wake_on", "wake_shard"),
            expect={"task_token": token},
        )


def with_default_pack(loan: Loan, packs: PackSelection | str | None) -> Loan:
    """A loan as a store keeps it: under the rule pack the deployment chooses for it unless it names its
    own (``Settings.pack_selection``: a fixed ``rule_pack``, else the jurisdiction table); a pack's bounds
    apply, so a loan outside them is refused naming the field, as is one mapping to no pack where the
    deployment requires one."""
    if packs is None:
        return loan
    if isinstance(packs, str):
        packs = PackSelection(fixed=packs)
    return assign_pack(loan, packs)


CUSTOMER_PII = ("name", "phone", "email", "monthly_income", "monthly_expenses")
GUARANTOR_PREFIX = "guarantor_"  # the guarantor's sealed fields sit beside the borrower's, prefixed
EMERGENCY_PREFIX = "emergency_"  # and the emergency contact's (sealed, never used to send anything)


def pii_fields(loan: Loan) -> dict[str, str | None]:
    """Every PII field of a loan to seal (owner: the loan): the borrower's, the guarantor's, the emergency
    contact's."""
    fields: dict[str, str | None] = {}
    if loan.customer is not None:
        fields |= {name: _text(getattr(loan.customer, name)) for name in CUSTOMER_PII}
    if loan.guarantor is not None:
        fields |= {GUARANTOR_PREFIX + name: _text(getattr(loan.guarantor, name)) for name in GUARANTOR_PII}
    if loan.emergency_contact is not None:
        fields |= {EMERGENCY_PREFIX + name: _text(getattr(loan.emergency_contact, name)) for name in EMERGENCY_PII}
    return fields


def without_pii(loan: Loan) -> Loan:
    """The loan as a store keeps it in clear: contact preferences and the guarantor's liability, no PII."""
    update: dict[str, Any] = {}
    if loan.customer is not None:
        update["customer"] = loan.customer.model_copy(update={name: None for name in CUSTOMER_PII})
    if loan.guarantor is not None:
        update["guarantor"] = loan.guarantor.model_copy(update={name: None for name in GUARANTOR_PII})
    if loan.emergency_contact is not None:
        update["emergency_contact"] = loan.emergency_contact.model_copy(update={name: None for name in EMERGENCY_PII})
    return loan.model_copy(update=update) if update else loan


def _text(value: object) -> str | None:
    return None if value is None else str(value)
