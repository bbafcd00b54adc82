"""Small helpers over the low-level DynamoDB client: plain Python values in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from dueflow.sharding import shard_label

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _prepare(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are not stored: use Decimal")
    if isinstance(value, dict):
        return {k: _prepare(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_prepare(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return set(value) if value else None
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB item (None values are left out)."""
    return {k: _serializer.serialize(v) for k, v in _prepare(values).items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB item -> Python dict (numbers come back as Decimal; whole numbers as int)."""
    out = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: _ints(v) for k, v in out.items()}


def _ints(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value() and value.as_tuple().exponent >= 0:  # type: ignore[operator]
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def values(**kwargs: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: ``values(s="x")`` -> ``{":s": {"S": "x"}}``."""
    return {f":{k}": _serializer.serialize(_prepare(v)) for k, v in kwargs.items()}


def conditional_failed(exc: ClientError) -> bool:
    """Whether a write failed only because its condition did not hold."""
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def put_if_absent(client: Any, table: str, values: dict[str, Any], key: str) -> bool:
    """Write an item unless one with the same ``key`` exists; False when it did (a retried write)."""
    try:
        client.put_item(TableName=table, Item=to_item(values), ConditionExpression=f"attribute_not_exists({key})")
    except ClientError as exc:
        if conditional_failed(exc):
            return False
        raise
    return True


def query_shards(
    client: Any,
    table: str,
    index: str,
    shard_attribute: str,
    sort_attribute: str,
    upper: str,
    shards: int,
    shard: int | None = None,
    on_page: Callable[[dict[str, Any]], None] | None = None,
    after: tuple[str, str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Items of a sparse sharded index whose sort key is at most ``upper``, every shard in turn (or one
    ``shard``): how the due-index, the wake-index and the pending-index are read. ``after`` is
    (sort key, table key attribute, its value): the read starts after that item (one shard)."""
    for current in range(shards) if shard is None else [shard]:
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": index,
            "KeyConditionExpression": f"{shard_attribute} = :s AND {sort_attribute} <= :u",
            "ExpressionAttributeValues": {":s": {"S": shard_label(current, shards)}, ":u": {"S": upper}},
        }
        if after is not None:
            request["ExclusiveStartKey"] = {
                shard_attribute: {"S": shard_label(current, shards)},
                sort_attribute: {"S": after[0]},
                after[1]: {"S": after[2]},
            }
        pages = client.get_paginator("query").paginate(**request)
        for page in pages:
            if on_page is not None:
                on_page(page)
            yield from page.get("Items", [])
