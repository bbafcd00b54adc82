"""A callback state of the case state machine: park the task token and the wake-up date on the case."""

from typing import Any

from dueflow.observability import correlate, logger
from dueflow.services.context import default_services
from dueflow.services.waiting import park


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        correlate(str(event.get("case_id") or ""), state=event.get("state"))
    return park(default_services(), event)
