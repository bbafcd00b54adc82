"""The fault injector: failures in each protocol's wire format, retried by botocore, counted; a crash
after a customer message went out."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dueflow.adapters.aws import SDK_CONFIG
from dueflow_local.faults import FaultPlan, InjectedCrash, injecting
from tests.integration.conftest import REGION


def client(name: str) -> Any:
    return boto3.client(name, region_name=REGION, config=SDK_CONFIG)


def test_the_plan_names_services_by_their_iam_prefix_and_reports_bad_entries() -> None:
    plan = FaultPlan.parse("ses:SendEmail=0.2, states:SendTaskSuccess=0.1,dynamodb:*=0.05,crash:after_send=0.5")
    assert str(plan) == "sesv2:SendEmail=0.2,sfn:SendTaskSuccess=0.1,dynamodb:*=0.05,crash:after_send=0.5"
    assert not FaultPlan.parse("")
    for bad, says in [
        ("dynamodb=0.1", "expected service:Operation=rate"),
        ("s3:PutObject=lots", "'lots' is not a number"),
        ("s3:PutObject=1.5", "between 0 and 1"),
        ("crash:before_send=0.1", "after_send"),
    ]:
        with pytest.raises(ValueError, match=says) as error:
            FaultPlan.parse(f"sns:Publish=0.1,{bad}")
        assert bad in str(error.value)


@pytest.mark.parametrize(
    ("service", "operation", "call", "codes"),
    [
        (
            "dynamodb",
            "GetItem",
            lambda c: c.get_item(TableName="dueflow-test-loans", Key={"loan_id": {"S": "L1"}}),
            {"ThrottlingException", "ServiceUnavailableException"},
        ),
        (
            "s3",
            "PutObject",
            lambda c: c.put_object(Bucket="dueflow-test-audit", Key="cases/x", Body=b"x"),
            {"SlowDown", "ServiceUnavailable"},
        ),
        (
            "sns",
            "Publish",
            lambda c: c.publish(PhoneNumber="+8613800138000", Message="hi"),
            {"Throttling", "ServiceUnavailable"},
        ),
    ],
)
def test_a_call_that_always_fails_is_tried_three_times_then_raised(
    ddb: Any, audit_bucket: str, service: str, operation: str, call: Any, codes: set[str]
) -> None:
    aws = client(service)
    with (
        injecting(FaultPlan.parse(f"{service}:{operation}=1.0"), seed=1) as injector,
        pytest.raises(ClientError) as error,
    ):
        call(aws)
    assert error.value.response["Error"]["Code"] in codes
    assert error.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert injector.injected == {f"{service}:{operation}": 3}
    assert injector.backoff_skipped_s > 0  # botocore backed off between the attempts (not slept)


def test_transient_failures_are_absorbed_by_the_sdk_and_other_calls_pass(ddb: Any) -> None:
    aws = client("dynamodb")
    with injecting(FaultPlan.parse("dynamodb:PutItem=0.2"), seed=4) as injector:
        for i in range(30):
            aws.put_item(TableName="dueflow-test-loans", Item={"loan_id": {"S": f"L{i}"}})
        items = aws.scan(TableName="dueflow-test-loans")["Items"]
    assert len(items) == 30  # every write landed in the end
    assert injector.injected["dynamodb:PutItem"] > 0 and set(injector.injected) == {"dynamodb:PutItem"}


def test_a_crash_after_a_message_went_out_stops_the_next_write(ddb: Any) -> None:
    aws, sns = client("dynamodb"), client("sns")
    with injecting(FaultPlan.parse("crash:after_send=1.0")) as injector:
        aws.put_item(TableName="dueflow-test-loans", Item={"loan_id": {"S": "before"}})  # nothing sent yet
        sns.publish(PhoneNumber="+8613800138000", Message="reminder")
        aws.get_item(TableName="dueflow-test-loans", Key={"loan_id": {"S": "before"}})  # reads go through
        with pytest.raises(InjectedCrash):
            aws.put_item(TableName="dueflow-test-loans", Item={"loan_id": {"S": "after"}})
        aws.put_item(TableName="dueflow-test-loans", Item={"loan_id": {"S": "later"}})  # one crash per send
    keys = {item["loan_id"]["S"] for item in aws.scan(TableName="dueflow-test-loans")["Items"]}
    assert keys == {"before", "later"} and injector.crashes == 1
