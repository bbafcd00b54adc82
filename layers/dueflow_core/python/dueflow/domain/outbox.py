"""A message in the outbox, and how long its states last (the lifecycle is told in
``dueflow.adapters.outbox``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

LEASE = timedelta(minutes=15)  # a claimed message not recorded by then is in doubt (Lambda's timeout is 5)
KEEP_DAYS = 400  # outbox items expire (TTL) long after they are settled; the audit store keeps the record


@dataclass
class Message:
    """One customer message (or agent call task) waiting to go out. ``values`` fill the template."""

    message_id: str
    case_id: str
    loan_id: str
    customer_id: str
    channel: str  # sms | email | call
    template: str
    language: str
    not_before: datetime
    values: dict[str, str] = field(default_factory=dict)
    status: str = "PENDING"
    created_at: datetime | None = None
    sent_at: datetime | None = None
    provider_id: str | None = None
    reason: str | None = None
    recipient: str = "borrower"  # or "guarantor" (a notice the loan's rule pack allows, to the guarantor)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "case_id": self.case_id,
            "loan_id": self.loan_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "template": self.template,
            "language": self.language,
            "not_before": self.not_before.isoformat(),
            "values": self.values,
            "status": self.status,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "provider_id": self.provider_id,
            "reason": self.reason,
            "recipient": self.recipient,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            message_id=data["message_id"],
            case_id=data["case_id"],
            loan_id=data["loan_id"],
            customer_id=data["customer_id"],
            channel=data["channel"],
            template=data["template"],
            language=data["language"],
            not_before=datetime.fromisoformat(data["not_before"]),
            values={k: str(v) for k, v in data.get("values", {}).items()},
            status=data.get("status", "PENDING"),
            created_at=when("created_at"),
            sent_at=when("sent_at"),
            provider_id=data.get("provider_id"),
            reason=data.get("reason"),
            recipient=data.get("recipient", "borrower"),
        )
