"""Daily scan (EventBridge Scheduler, 02:00 bank time): seals the day before (the signed audit digest),
then due-soon reminders, new cases, wake-ups.

In AWS (``SCAN_FAN_OUT``) the scheduled run fans out: one invocation per shard for its slice of the
due-index and one for its wake-ups; a slice that does not fit one invocation invokes the next with the
index position to read on from."""

import os
from datetime import timedelta
from typing import Any

from dueflow import clock
from dueflow.observability import count, lambda_logging, logger
from dueflow.pacing import Budget
from dueflow.retries import attempt
from dueflow.services.context import default_services
from dueflow.services.digests import seal_day
from dueflow.services.scan import ScanEvent, scheduled_date, shard_events


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    services = default_services()
    fan_out = os.environ.get("SCAN_FAN_OUT") == "true"
    if "shard" not in event:
        # the scheduled run first seals the day before: every case's audit head, chained and signed
        day = scheduled_date(event, services.settings.time_zone) or clock.today(services.settings.time_zone)
        if attempt(lambda: seal_day(services, (day - timedelta(days=1)).isoformat())):
            logger.info("audit digest sealed", extra={"day": str(day - timedelta(days=1))})
        if fan_out:
            from dueflow.adapters.fanout import invoke_async

            started = invoke_async(context.function_name, shard_events(event, services.settings.index_shards))
            logger.info("scan fanned out", extra={"invocations": started})
            return {"fanned_out": started}
    scan = ScanEvent.parse(event, services.settings.time_zone)
    report = scan.run(services, Budget(context.get_remaining_time_in_millis) if fan_out else Budget()).as_dict()
    if report["continue_after"] is not None and fan_out:
        from dueflow.adapters.fanout import invoke_async

        invoke_async(context.function_name, [{**event, "after": report["continue_after"]}])
        logger.info("scan continues", extra={"shard": scan.shard, "part": scan.part})
    count("CasesOpened", report["cases_opened"], always=True)
    count("CasesWoken", report["cases_woken"], always=True)
    count("CasesParkedPastWake", report["cases_parked_past_wake"], always=True)
    count("ComplaintsPastDeadline", report["complaints_past_deadline"], always=True)
    count("CasesRestartedByScan", report["cases_restarted"], always=True)
    logger.info("scan finished", extra=report)
    return report
