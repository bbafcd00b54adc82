"""Loans-table stream: a payment that brings DPD to 0 closes the case as CURED at once.

Powertools batch processing reports partial failures, so one bad record is retried alone; each record's
work is first tried a few times over (``dueflow.retries``)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from dueflow.adapters.loan_items import stored_from_item
from dueflow.observability import lambda_logging, logger
from dueflow.retries import attempt
from dueflow.services.context import default_services
from dueflow.services.payments import on_loan_change

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name is None or record.event_name.name not in ("INSERT", "MODIFY"):
        return
    raw = record.raw_event["dynamodb"].get("NewImage")
    if raw:
        loan = stored_from_item(raw).loan
        # a short outage is tried out here before the record counts failed (safe: the work is idempotent)
        kind = attempt(lambda: on_loan_change(default_services(), loan))
        if kind:
            logger.info("case resumed by a payment", extra={"kind": kind})


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
