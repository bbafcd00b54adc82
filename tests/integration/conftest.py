"""moto fixtures: fake credentials, a fixed region, clients created after the mock starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "ap-southeast-1"


@pytest.fixture
def aws() -> Iterator[None]:
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    with mock_aws():
        yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def audit_bucket(s3: Any) -> str:
    """A bucket like the deployed one: versioned, Object Lock COMPLIANCE by default."""
    name = "dueflow-test-audit"
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
    )
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
        },
    )
    return name


@pytest.fixture
def ddb(aws: None) -> Any:
    """All DueFlow tables, created from the same schema CDK deploys (prefix ``dueflow-test``)."""
    from dueflow.adapters.schema import TABLES, create_table_request

    client = boto3.client("dynamodb", region_name=REGION)
    for spec in TABLES:
        client.create_table(**create_table_request(spec, "dueflow-test"))
    return client


@pytest.fixture
def aws_clients(aws: None) -> dict[str, Any]:
    """The boto3 clients the ``services`` fixture's adapters use, by service name (to patch in tests)."""
    return {}


@pytest.fixture
def services(ddb: Any, s3: Any, audit_bucket: str, aws_clients: dict[str, Any]) -> Any:
    """Services wired to moto: tables, the locked audit bucket, a PII key, an SNS topic, SES identity."""
    from dueflow.adapters.aws import Resources, aws_services
    from dueflow.settings import Settings

    kms = boto3.client("kms", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    ses = boto3.client("sesv2", region_name=REGION)
    settings = Settings(environment="test", region=REGION, index_shards=4)
    ses.create_email_identity(EmailIdentity=settings.sender_email)
    resources = Resources(
        audit_bucket=audit_bucket,
        pii_key_arn=kms.create_key()["KeyMetadata"]["Arn"],
        state_machine_arn=f"arn:aws:states:{REGION}:123456789012:stateMachine:test-cases",
        internal_topic_arn=sns.create_topic(Name="test-internal")["TopicArn"],
        email_configuration_set="test-email",
    )

    def client(name: str) -> Any:
        return aws_clients.setdefault(name, boto3.client(name, region_name=REGION))

    return aws_services(settings, resources, client)
