"""The DynamoDB tables and their indexes, declared once: CDK deploys them (infra/constructs/data.py) and
the local runtime creates the same ones on moto."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    partition: str
    sort: str
    projection: str  # ALL | KEYS_ONLY


@dataclass(frozen=True, slots=True)
class TableSpec:
    logical: str  # construct id / attribute name in code
    suffix: str  # table name = f"{prefix}-{suffix}"
    partition: str
    indexes: tuple[Index, ...] = ()
    stream: bool = False
    ttl: str | None = None


LOANS = TableSpec("Loans", "loans", "loan_id", (Index("due-index", "due_shard", "next_due_date", "ALL"),), stream=True)
CASES = TableSpec(
    "Cases",
    "cases",
    "case_id",
    (
        Index("loan-index", "loan_id", "opened_on", "KEYS_ONLY"),
        Index("wake-index", "wake_shard", "wake_on", "KEYS_ONLY"),
        # open complaints by resolution deadline: the scan escalates those past it
        Index("complaint-index", "complaint_shard", "complaint_deadline", "KEYS_ONLY"),
        # open cases by the day their limitation period's warning begins: the scan flags those nearing it
        Index("limitation-index", "limitation_shard", "limitation_warn_on", "KEYS_ONLY"),
        # every open case, whole (the workbench's queues read them without a read per case)
        Index("open-index", "open_shard", "opened_on", "ALL"),
        # each agent's open cases, whole (their queue, and its size for balanced assignment)
        Index("queue-index", "queue_of", "opened_on", "ALL"),
        # closed cases by outcome, newest first (legal's litigation cases, the write-off reviews)
        Index("closed-index", "closed_outcome", "closed_on", "ALL"),
    ),
)
OUTBOX = TableSpec(
    "Outbox",
    "outbox",
    "message_id",
    (Index("pending-index", "pending_shard", "not_before", "KEYS_ONLY"),),
    ttl="expires_at",
)
# No idempotency table: every write is safe to repeat by design (conditional writes, deterministic ids,
# audit dedupe keys; a payment's bank reference), so Powertools Idempotency would only add a table.
TABLES = (LOANS, CASES, OUTBOX)


def create_table_request(spec: TableSpec, prefix: str) -> dict[str, Any]:
    """The CreateTable request of a table (for moto; CDK builds its own from the same spec)."""
    attributes = {spec.partition} | {i.partition for i in spec.indexes} | {i.sort for i in spec.indexes}
    request: dict[str, Any] = {
        "TableName": f"{prefix}-{spec.suffix}",
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "KeySchema": [{"AttributeName": spec.partition, "KeyType": "HASH"}],
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": [
                    {"AttributeName": i.partition, "KeyType": "HASH"},
                    {"AttributeName": i.sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": i.projection},
            }
            for i in spec.indexes
        ]
    if spec.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return request
