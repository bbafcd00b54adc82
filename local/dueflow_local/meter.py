"""Counting the AWS API calls a local run makes, by service and operation.

A class-level wrap of ``botocore.client.BaseClient._make_api_call`` sees every call of every client in
the process, whatever session created it (the handlers', the runtime's, Powertools'). SMS and topic
publishes are counted apart (``Publish:sms``), because they are priced apart.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


class CallMeter:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.paused = False
        self._lock = threading.Lock()

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if self.paused:
            return
        if service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
            operation = "Publish:sms"
        with self._lock:
            self.calls[(service, operation)] += 1

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
        meter.record(self.meta.service_model.service_name, operation_name, api_params)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted
    try:
        yield meter
    finally:
        BaseClient._make_api_call = original
