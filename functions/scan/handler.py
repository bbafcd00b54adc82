"""Daily scan (EventBridge Scheduler, 02:00 bank time): seals the day before (the signed audit digest), then
due-soon reminders, new cases, wake-ups."""

import os
from datetime import timedelta
from typing import Any

from dueflow import clock
from dueflow.observability import count, logger
from dueflow.services.context import default_services
from dueflow.services.digests import seal_day
from dueflow.services.scan import fan_out, run_scan, scheduled_date


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    services = default_services()
    if "shard" not in event:
        # the scheduled run first seals the day before: every case's audit head, chained and signed
        day = scheduled_date(event, services.settings.time_zone) or clock.today(services.settings.time_zone)
        if seal_day(services, (day - timedelta(days=1)).isoformat()):
            logger.info("audit digest sealed", extra={"day": str(day - timedelta(days=1))})
    if "shard" not in event and os.environ.get("SCAN_FAN_OUT") == "true":
        # the scheduled run: one asynchronous invocation per shard, each a slice of the book
        import boto3

        from dueflow.adapters.aws import SDK_CONFIG

        shards_started = fan_out(services, boto3.client("lambda", config=SDK_CONFIG), context.function_name, event)
        logger.info("scan fanned out", extra={"shards": shards_started})
        return {"fanned_out": shards_started}
    as_of = scheduled_date(event, services.settings.time_zone)
    shards = [int(event["shard"])] if "shard" in event else None
    report = run_scan(services, as_of, shards).as_dict()
    count("CasesOpened", report["cases_opened"], always=True)
    count("CasesWoken", report["cases_woken"], always=True)
    count("CasesParkedPastWake", report["cases_parked_past_wake"], always=True)
    count("ComplaintsPastDeadline", report["complaints_past_deadline"], always=True)
    logger.info("scan finished", extra=report)
    return report
