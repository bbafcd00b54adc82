"""A callback state of the case state machine: park the task token and the wake-up date on the case."""

from typing import Any

from aws_lambda_powertools import Logger

from dueflow.services.context import default_services
from dueflow.services.waiting import park

logger = Logger(service="dueflow-case-wait")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        logger.append_keys(case_id=event.get("case_id"), state=event.get("state"))
    return park(default_services(), event)
