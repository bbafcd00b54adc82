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


def string_keyed_table(client: Any) -> None:
    """Table ``t`` with a string hash key ``pk``."""
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


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
        string_keyed_table(client)
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


def test_each_adjustment_refuses_a_moto_it_was_not_checked_with() -> None:
    import pytest

    from dueflow_local import moto_speed

    moto_speed.check_version()  # the pinned moto
    with pytest.raises(moto_speed.MotoVersionError, match=r"checked with moto 5\.2\.5, not 5\.3\.0"):
        moto_speed.check_version("5.3.0")


def test_string_keyed_tables_list_items_in_the_order_moto_gives_them() -> None:
    from moto.core import responses
    from moto.dynamodb.models.table import Table

    from dueflow_local.moto_speed import faster_bookkeeping

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        string_keyed_table(client)
        for key in ["b", "a", "C", "ä", "10", "9", "a1"]:
            client.put_item(TableName="t", Item={"pk": {"S": key}})
        plain_scan = client.scan(TableName="t")["Items"]
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["eu-west-1"].get_table("t")
        plain = [item.hash_key.value for item in Table.all_items(table)]
        names = responses.method_names_from_class(responses.BaseResponse)  # type: ignore[attr-defined]
        with faster_bookkeeping():
            fast = [item.hash_key.value for item in Table.all_items(table)]
            assert client.scan(TableName="t")["Items"] == plain_scan
            assert responses.method_names_from_class(responses.BaseResponse) == names  # type: ignore[attr-defined]
    assert fast == plain


def test_unsigned_requests_get_the_same_answers() -> None:
    from dueflow_local.moto_speed import unsigned_requests

    def calls(client: Any, sns: Any, s3: Any) -> list[Any]:
        client.put_item(TableName="t", Item={"pk": {"S": "x"}, "n": {"N": "1"}})
        topic = sns.create_topic(Name="t")["TopicArn"]
        s3.put_object(Bucket="speed-bucket", Key="k", Body=b"data")
        return [
            client.get_item(TableName="t", Key={"pk": {"S": "x"}})["Item"],
            sorted(t["TopicArn"] for t in sns.list_topics()["Topics"]) == [topic],
            s3.get_object(Bucket="speed-bucket", Key="k")["Body"].read(),
        ]

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        string_keyed_table(client)
        sns = boto3.client("sns", region_name="eu-west-1")
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="speed-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        plain = calls(client, sns, s3)
        with unsigned_requests():
            unsigned = calls(client, sns, s3)
    assert unsigned == plain == [{"pk": {"S": "x"}, "n": {"N": "1"}}, True, b"data"]


def test_one_request_at_a_time_answers_as_moto_does_and_lets_lambda_invocations_through() -> None:
    import threading

    from dueflow_local.moto_speed import serialized_requests

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        string_keyed_table(client)
        client.put_item(TableName="t", Item={"pk": {"S": "x"}, "n": {"N": "0"}})
        with serialized_requests():

            def add() -> None:
                for _ in range(25):
                    client.update_item(
                        TableName="t",
                        Key={"pk": {"S": "x"}},
                        UpdateExpression="ADD n :one",
                        ExpressionAttributeValues={":one": {"N": "1"}},
                    )

            threads = [threading.Thread(target=add) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            item = client.get_item(TableName="t", Key={"pk": {"S": "x"}})["Item"]
    assert item["n"] == {"N": "100"}  # every update applied once, none lost


def test_a_definition_parsed_once_runs_each_execution_as_a_fresh_parse_does() -> None:
    import json
    import time

    from dueflow_local.moto_speed import parse_once

    definition = json.dumps(
        {
            "StartAt": "Pick",
            "States": {
                "Pick": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
                    "Default": "Small",
                },
                "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
                "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
            },
        }
    )

    def outputs(sfn: Any, machine: str, prefix: str) -> list[Any]:
        arns = [
            sfn.start_execution(stateMachineArn=machine, name=f"{prefix}{n}", input=json.dumps({"n": n}))[
                "executionArn"
            ]
            for n in (0, 2, 1, 5)
        ]
        results = []
        for arn in arns:
            for _ in range(200):
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    break
                time.sleep(0.01)
            results.append((described["status"], json.loads(described.get("output", "null"))))
        return results

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        machine = sfn.create_state_machine(name="m", definition=definition, roleArn="arn:aws:iam::123456789012:role/r")[
            "stateMachineArn"
        ]
        plain = outputs(sfn, machine, "plain")
        with parse_once():
            once = outputs(sfn, machine, "once")
    assert once == plain
    assert [size["size"] for _, size in plain] == ["small", "big", "small", "big"]
