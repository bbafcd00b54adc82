"""The message outbox: stages put messages here; the dispatcher sends them when their time comes.

A message moves PENDING -> SENDING -> SENT, or PENDING -> DROPPED, each step a conditional write. The
dispatcher claims a message (PENDING -> SENDING) before it calls SES or SNS and never sends a message
that is not PENDING (at most once, on purpose: a second text to a customer is worse than a missing
one). The claim is a lease: the message stays in the pending-index, due again when the lease ends. A
dispatcher that crashed between sending and recording leaves it SENDING; when the lease has ended the
next dispatcher finds it and settles it as UNCONFIRMED (it may have gone out; it is not sent again, it
is put on the case's record and counted against the contact caps, and can be checked against the
provider's delivery log). Message ids are deterministic, so a retried stage never queues a message twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dueflow.adapters.dynamo import conditional_failed, from_item, put_if_absent, query_shards, values
from dueflow.domain.outbox import KEEP_DAYS, LEASE, Message
from dueflow.sharding import shard_label, shard_of
from dueflow.stores import MessageLifecycle

__all__ = ["KEEP_DAYS", "LEASE", "PENDING_INDEX", "Message", "Outbox"]

PENDING_INDEX = "pending-index"


class Outbox(MessageLifecycle):
    def __init__(self, dynamodb: Any, table: str, shards: int) -> None:
        self._ddb = dynamodb
        self._table = table
        self._shards = shards

    def enqueue(self, message: Message) -> bool:
        """Queue a message; False when a message with this id was queued before (a retried stage)."""
        item = message.to_dict() | {
            # by customer: one dispatcher invocation per shard sees every message of a customer, so the
            # contact caps hold without two invocations racing on the same customer
            "pending_shard": shard_of(message.customer_id, self._shards),
            "expires_at": int((message.not_before + timedelta(days=KEEP_DAYS)).timestamp()),
        }
        return put_if_absent(self._ddb, self._table, item, "message_id")

    def get(self, message_id: str) -> Message | None:
        item = self._ddb.get_item(
            TableName=self._table, Key={"message_id": {"S": message_id}}, ConsistentRead=True
        ).get("Item")
        return Message.from_dict(from_item(item)) if item else None

    def due(self, now: datetime, shard: int | None = None) -> Iterator[str]:
        """Ids of pending messages whose time has come, from the sparse pending-index (every shard, or
        one ``shard``)."""
        for item in query_shards(
            self._ddb, self._table, PENDING_INDEX, "pending_shard", "not_before", now.isoformat(), self._shards, shard
        ):
            yield item["message_id"]["S"]

    def earliest_pending(self, shard: int | None = None) -> datetime | None:
        """The earliest ``not_before`` of any pending message (one item read per shard)."""
        earliest: datetime | None = None
        for current in range(self._shards) if shard is None else [shard]:
            items = self._ddb.query(
                TableName=self._table,
                IndexName=PENDING_INDEX,
                KeyConditionExpression="pending_shard = :s",
                ExpressionAttributeValues=values(s=shard_label(current, self._shards)),
                Limit=1,
            ).get("Items", [])
            if items:
                when = datetime.fromisoformat(items[0]["not_before"]["S"])
                earliest = when if earliest is None or when < earliest else earliest
        return earliest

    def all(self) -> Iterator[dict[str, Any]]:
        """Every message item as a plain dict (a full Scan, for reports)."""
        for page in self._ddb.get_paginator("scan").paginate(TableName=self._table):
            for item in page["Items"]:
                yield from_item(item)

    def _transition(
        self,
        message_id: str,
        from_status: str,
        to_status: str,
        extra: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
    ) -> bool:
        fields = {"status": to_status, **(extra or {})}
        names = {f"#f{i}": k for i, k in enumerate(fields)} | {"#status": "status"}
        sets = ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
        expression = f"SET {sets}" + (" REMOVE " + ", ".join(remove) if remove else "")
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"message_id": {"S": message_id}},
                UpdateExpression=expression,
                ConditionExpression="#status = :from",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values(
                    **{f"f{i}": v for i, v in enumerate(fields.values())}, **{"from": from_status}
                ),
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
