"""Every cdk-nag finding this deployment acknowledges, with its reason (listed in docs/security.md).

Each acknowledgement names one rule on one construct; nothing is acknowledged stack-wide.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from infra.stack import DueFlowStack

# The provider function CDK creates for every AwsCustomResource of a stack (a singleton).
AWS_CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"


def _ack(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def acknowledge(stack: DueFlowStack) -> None:
    _ack(
        stack.audit.access_logs,
        "AwsSolutions::AwsSolutions-S1",
        "This is the server access log bucket itself; logging it into itself would loop.",
    )
    _ack(
        stack.messaging.sms_preferences,
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "sns:SetSMSAttributes is an account-level action with no resource-level permissions.",
    )
    provider = Stack.of(stack).node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER)
    if provider is not None:
        _ack(
            provider,
            "Serverless::Serverless-LambdaDLQ",
            "CDK's deploy-time custom resource provider is invoked synchronously by CloudFormation, "
            "which reports a failure as a failed deployment; a DLQ would never receive anything.",
        )
        _ack(
            provider,
            "Serverless::Serverless-LambdaTracing",
            "CDK's deploy-time custom resource provider runs once per deployment; X-Ray traces of it "
            "carry no operational value.",
        )
