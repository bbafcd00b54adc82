"""A callback state of the case state machine: park the task token and the wake-up date on the case."""

from typing import Any

from dueflow.observability import correlate, lambda_logging
from dueflow.services.context import default_services
from dueflow.services.waiting import park


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        correlate(str(event.get("case_id") or ""), state=event.get("state"))
    return park(default_services(), event)
