"""A stage task of the case state machine (confirm, contact, negotiate, follow up, legal review, close)."""

from typing import Any

from dueflow.observability import correlate, count, lambda_logging, logger
from dueflow.services.context import default_services
from dueflow.services.stages import StageEvent, run_stage
from dueflow.workflow.definition import STAGE_LABELS


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    stage = StageEvent.parse(event)
    correlate(stage.case_id, stage=stage.stage)
    result = run_stage(default_services(), stage)
    if stage.stage == "close":
        count("CasesClosed", Outcome=str(result.get("outcome")))
    elif stage.stage in STAGE_LABELS:
        count("StageEntered", Stage=STAGE_LABELS[stage.stage])
    logger.info("stage done", extra={"outcome": result.get("outcome")})
    return result
