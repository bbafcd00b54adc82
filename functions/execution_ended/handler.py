"""A case execution ended without closing its case (EventBridge: Step Functions "Execution Status
Change", FAILED, TIMED_OUT or ABORTED): the case goes on in a new execution, from its record."""

from typing import Any

from dueflow.observability import correlate, count, lambda_logging, logger
from dueflow.retries import attempt
from dueflow.services.context import default_services
from dueflow.services.recovery import EndedExecution, restart_ended


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ended = EndedExecution.parse(event)
    correlate(ended.case_id, execution=ended.name, status=ended.status)
    # tried a few times over here (each step is idempotent): a case left unrestarted waits for the scan
    restarted = attempt(lambda: restart_ended(default_services(), ended))
    count("CasesRestarted", int(restarted is not None), always=True)
    logger.info("execution ended", extra={"restarted_as": restarted})
    return {"case_id": ended.case_id, "ended": ended.name, "status": ended.status, "restarted_as": restarted}
