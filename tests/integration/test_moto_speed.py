"""The local runtime's fast path through moto's serializer answers exactly what moto's own walk does."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from dueflow_local.moto_speed import fast_attribute_values

ITEM: dict[str, Any] = {
    "pk": {"S": "loan-1"},
    "amount": {"N": "1234.56"},
    "flags": {"SS": ["a", "b"]},
    "counts": {"NS": ["1", "2"]},
    "blob": {"B": b"\x00\x01binary"},
    "blobs": {"BS": [b"x", b"y"]},
    "ok": {"BOOL": False},
    "nothing": {"NULL": True},
    "plan": {
        "M": {
            "months": {"N": "6"},
            "schedule": {"L": [{"M": {"due": {"S": "2026-01-01"}, "amount": {"N": "10.00"}}}, {"S": "x"}]},
            "secret": {"B": b"sealed"},
        }
    },
}


def _reads(client: Any) -> list[Any]:
    got = client.get_item(TableName="t", Key={"pk": {"S": "loan-1"}})
    query = client.query(
        TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "loan-1"}}
    )
    scan = client.scan(TableName="t")
    updated = client.update_item(
        TableName="t",
        Key={"pk": {"S": "loan-1"}},
        UpdateExpression="SET touched = :t",
        ExpressionAttributeValues={":t": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    return [got["Item"], query["Items"], scan["Items"], updated["Attributes"]]


def test_items_read_with_the_fast_path_equal_those_read_without_it() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item=ITEM)
        plain = _reads(client)
        client.put_item(TableName="t", Item=ITEM)  # undo the update before reading again
        with fast_attribute_values():
            fast = _reads(client)
    assert plain[0] == ITEM
    assert fast[0] == plain[0]
    assert fast[1] == plain[1]
    assert fast[2] == plain[2]
    assert fast[3] == plain[3]
