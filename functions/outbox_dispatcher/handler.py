"""Outbox dispatcher (EventBridge Scheduler, every 15 minutes): send what is due, through the gate."""

from typing import Any

from dueflow.observability import count, logger
from dueflow.services.context import default_services
from dueflow.services.dispatch import run_dispatch


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = run_dispatch(default_services()).as_dict()
    for channel, sent in report["by_channel"].items():
        count("MessagesSent", sent, Channel=channel)
    count("MessagesDeferred", report["deferred"])
    count("MessagesDropped", report["dropped"])
    count("MessagesUnconfirmed", report["unconfirmed"])
    logger.info("dispatch finished", extra=report)
    return report
