"""Outbox dispatcher (EventBridge Scheduler, every 15 minutes): send what is due, through the gate."""

from typing import Any

from dueflow.domain.contact_policy import Channel
from dueflow.observability import count, gauge, logger
from dueflow.services.context import default_services
from dueflow.services.dispatch import run_dispatch


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = run_dispatch(default_services()).as_dict()
    for channel in Channel:  # every run emits every total (0 too): the alarms see data, not silence
        count("MessagesSent", report["by_channel"].get(channel.value, 0), always=True, Channel=channel.value)
        count("MessagesRefused", report["refused"].get(channel.value, 0), always=True, Channel=channel.value)
    count("MessagesDeferred", report["deferred"], always=True)
    count("MessagesDropped", report["dropped"], always=True)
    count("MessagesUnconfirmed", report["unconfirmed"], always=True)
    gauge("OutboxOldestPendingMinutes", report["oldest_pending_minutes"])
    logger.info("dispatch finished", extra=report)
    return report
