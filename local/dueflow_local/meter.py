"""Counting the AWS API calls a local run makes, by service and operation.

A class-level wrap of ``botocore.client.BaseClient._make_api_call`` sees every call of every client in
the process, whatever session created it (the handlers', the runtime's, Powertools'). SMS and topic
publishes are counted apart (``Publish:sms``), because they are priced apart.

The meter also keeps what the providers accepted (``deliveries``): every SMS, e-mail and agent call task
with its time, recipient and text, as the provider's own log would show them. The run's invariants are
checked against these, not against DueFlow's own records of what it sent.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.client import BaseClient

from dueflow import clock


@dataclass(frozen=True)
class Delivery:
    """A message a provider accepted: ``to`` is the phone number, the e-mail address, or (a call task
    on the internal topic) the case id."""

    at: datetime
    channel: str
    to: str
    text: str


def delivery(service: str, operation: str, params: Mapping[str, Any], at: datetime) -> Delivery | None:
    if service == "sns" and operation == "Publish":
        if params.get("PhoneNumber"):
            return Delivery(at, "sms", str(params["PhoneNumber"]), str(params.get("Message", "")))
        try:
            body = json.loads(params.get("Message", ""))
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("type") == "call_task":
            return Delivery(at, "call", str(body.get("case_id")), str(body.get("template")))
        return None
    if service == "sesv2" and operation == "SendEmail":
        to = ",".join(params.get("Destination", {}).get("ToAddresses", []))
        text = params.get("Content", {}).get("Simple", {}).get("Body", {}).get("Text", {}).get("Data", "")
        return Delivery(at, "email", to, str(text))
    return None


class CallMeter:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.deliveries: list[Delivery] = []
        self.paused = False
        self._lock = threading.Lock()

    def record(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        if self.paused or service == "dynamodbstreams":
            # stream reads are the event source mapping's (Lambda's, free on AWS): the local runtime
            # makes them only to stand in for it
            return
        if service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
            operation = "Publish:sms"
        with self._lock:
            self.calls[(service, operation)] += 1

    def delivered(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """A call returned without error: keep it if it was a message a provider accepted."""
        if operation in ("Publish", "SendEmail"):
            accepted = delivery(service, operation, params, clock.now())
            if accepted is not None:
                with self._lock:
                    self.deliveries.append(accepted)

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Calls made inside are not counted (reading results for a report is not the workflow's)."""
        before, self.paused = self.paused, True
        try:
            yield
        finally:
            self.paused = before

    def by_service(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (service, operation), count in sorted(self.calls.items()):
            out.setdefault(service, {})[operation] = count
        return out

    def messages_sent(self) -> int:
        """SMS, e-mails and agent call tasks (topic publishes) sent so far."""
        calls = self.calls
        return calls[("sns", "Publish:sms")] + calls[("sesv2", "SendEmail")] + calls[("sns", "Publish")]

    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def metering(meter: CallMeter) -> Iterator[CallMeter]:
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        meter.record(service, operation_name, api_params)
        result = original(self, operation_name, api_params)
        meter.delivered(service, operation_name, api_params)
        return result

    BaseClient._make_api_call = counted
    try:
        yield meter
    finally:
        BaseClient._make_api_call = original
