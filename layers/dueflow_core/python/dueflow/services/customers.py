"""What holds for a customer across all their loans (the rule pack's opt-out scope ``customer``): the
channels they opted out of, the complaints that pause all contact, and do-not-contact. Kept on the
customer's item of the cases table (beside the contact caps' log), read by the dispatcher for every
message, case messages and pre-due reminders alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dueflow.services.context import Services


@dataclass(frozen=True)
class CustomerRules:
    opt_out: frozenset[str]
    paused_by: frozenset[str]  # cases with an open complaint
    do_not_contact: str | None  # the reason, when set
    contacts: tuple[datetime, ...] = ()  # the contact caps' log (SMS and calls of the last week)
    last_conversation_at: datetime | None = None  # the last telephone conversation an agent recorded

    @property
    def paused(self) -> bool:
        return bool(self.paused_by)


def customer_rules(services: Services, customer_id: str) -> CustomerRules:
    """Everything the dispatcher needs about the customer, from one read of their item."""
    item = services.cases.customer(customer_id)
    last = item.get("last_conversation_at")
    return CustomerRules(
        frozenset(item.get("opt_out") or ()),
        frozenset(item.get("paused_by") or ()),
        item.get("dnc_reason") or None,
        tuple(datetime.fromisoformat(t) for t in item.get("contacts", [])),
        datetime.fromisoformat(last) if last else None,
    )


def _set(services: Services, customer_id: str, name: str, values: frozenset[str]) -> None:
    if values:
        services.cases.update_customer(customer_id, {name: set(values)})
    else:  # DynamoDB keeps no empty set
        services.cases.update_customer(customer_id, remove=(name,))


def opt_out(services: Services, customer_id: str, channel: str) -> None:
    _set(services, customer_id, "opt_out", customer_rules(services, customer_id).opt_out | {channel})


def pause(services: Services, customer_id: str, case_id: str) -> None:
    _set(services, customer_id, "paused_by", customer_rules(services, customer_id).paused_by | {case_id})


def unpause(services: Services, customer_id: str, case_id: str) -> None:
    _set(services, customer_id, "paused_by", customer_rules(services, customer_id).paused_by - {case_id})


def set_do_not_contact(services: Services, customer_id: str, reason: str, by: str, on: date) -> None:
    services.cases.update_customer(customer_id, {"dnc_reason": reason, "dnc_by": by, "dnc_on": on.isoformat()})


def clear_do_not_contact(services: Services, customer_id: str) -> None:
    services.cases.update_customer(customer_id, remove=("dnc_reason", "dnc_by", "dnc_on"))
