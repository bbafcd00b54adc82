"""A stage task of the case state machine (confirm, contact, negotiate, follow up, legal review, close)."""

from typing import Any

from aws_lambda_powertools import Logger

from dueflow.observability import count
from dueflow.services.context import default_services
from dueflow.services.stages import StageEvent, run_stage
from dueflow.workflow.definition import STAGE_LABELS

logger = Logger(service="dueflow-case-stage")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    stage = StageEvent.parse(event)
    logger.append_keys(case_id=stage.case_id, stage=stage.stage)
    result = run_stage(default_services(), stage)
    if stage.stage == "close":
        count("CasesClosed", Outcome=str(result.get("outcome")))
    elif stage.stage in STAGE_LABELS:
        count("StageEntered", Stage=STAGE_LABELS[stage.stage])
    logger.info("stage done", extra={"outcome": result.get("outcome")})
    return result
