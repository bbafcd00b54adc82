"""Daily scan (EventBridge Scheduler, 02:00 bank time): due-soon reminders, new cases, wake-ups."""

from typing import Any

from aws_lambda_powertools import Logger

from dueflow.observability import count
from dueflow.services.context import default_services
from dueflow.services.scan import run_scan, scheduled_date

logger = Logger(service="dueflow-scan")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    services = default_services()
    as_of = scheduled_date(event, services.settings.time_zone)
    shards = [int(event["shard"])] if "shard" in event else None
    report = run_scan(services, as_of, shards).as_dict()
    count("CasesOpened", report["cases_opened"])
    count("CasesWoken", report["cases_woken"])
    logger.info("scan finished", extra=report)
    return report
