"""Outbox dispatcher (EventBridge Scheduler, every 15 minutes): send what is due, through the gate.

The scheduled tick fans out in AWS (``DISPATCH_FAN_OUT``): one asynchronous invocation per shard, each
at its share of the sending rates and stopping before the next tick would start the same shard again."""

import os
import time
from typing import Any

from dueflow.domain.contact_policy import Channel
from dueflow.observability import count, gauge, lambda_logging, logger
from dueflow.pacing import Budget
from dueflow.services.context import default_services
from dueflow.services.dispatch import SendRates, run_dispatch


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    services = default_services()
    settings = services.settings
    if "shard" not in event and os.environ.get("DISPATCH_FAN_OUT") == "true":
        from dueflow.adapters.fanout import invoke_async

        started = invoke_async(
            context.function_name, ({**event, "shard": shard} for shard in range(settings.index_shards))
        )
        logger.info("dispatch fanned out", extra={"shards": started})
        return {"fanned_out": started}
    shard = int(event["shard"]) if "shard" in event else None
    rates = SendRates.share(settings, settings.index_shards if shard is not None else 1)
    # stop a minute before the next tick could start this shard again (or the timeout ends it)
    began, tick_ms = time.monotonic(), max(settings.dispatcher_every_minutes * 60 - 60, 60) * 1000
    budget = Budget(
        lambda: min(context.get_remaining_time_in_millis(), tick_ms - int((time.monotonic() - began) * 1000)),
        reserve_s=30,
    )
    report = run_dispatch(services, shard=shard, rates=rates, budget=budget).as_dict()
    for channel in Channel:  # every run emits every total (0 too): the alarms see data, not silence
        count("MessagesSent", report["by_channel"].get(channel.value, 0), always=True, Channel=channel.value)
        count("MessagesRefused", report["refused"].get(channel.value, 0), always=True, Channel=channel.value)
    count("MessagesDeferred", report["deferred"], always=True)
    count("MessagesDropped", report["dropped"], always=True)
    count("MessagesUnconfirmed", report["unconfirmed"], always=True)
    gauge("OutboxOldestPendingMinutes", report["oldest_pending_minutes"])
    logger.info("dispatch finished", extra=report)
    return report
