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


def _logical(construct: IConstruct) -> str:
    child = construct.node.default_child
    return str(Stack.of(construct).get_logical_id(child))


XRAY = (
    "X-Ray tracing statements added by CDK for Tracing.ACTIVE: xray:PutTraceSegments and "
    "xray:PutTelemetryRecords support no resource-level permissions."
)


def acknowledge(stack: DueFlowStack) -> None:
    audit_objects = f"<{_logical(stack.audit.bucket)}.Arn>/cases/*"
    for name, role in stack.compute.roles.items():
        _ack(role.node.find_child("DefaultPolicy"), "AwsSolutions::AwsSolutions-IAM5[Resource::*]", XRAY)
        policy = stack.compute.node.find_child("".join(p.title() for p in name.split("_")) + "Policy")
        _ack(
            policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{audit_objects}]",
            "Audit records are objects under cases/<loan_id>/<case_id>/: one key per record, so the grant "
            "covers the prefix (PutObject, and GetObject for the API alone; Object Lock forbids overwrite and "
            "delete).",
        )
    _ack(
        stack.compute.node.find_child("ScanPolicy"),
        f"AwsSolutions::AwsSolutions-IAM5[Resource::<{_logical(stack.audit.bucket)}.Arn>/digests/*]",
        "The daily audit digests are objects under digests/<day>.json and .sig: one key per day, so the grant "
        "covers the prefix (PutObject and GetObject only; Object Lock and the bucket policy forbid overwrite "
        "and delete).",
    )
    _ack(
        stack.compute.node.find_child("ScanPolicy"),
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
        f"execution:{stack.settings.prefix}-cases:*]",
        "The daily scan's safety net asks after the execution of an open case that is not parked "
        "(states:DescribeExecution only): each case's execution has its own name, so the grant covers the "
        "case state machine's executions.",
    )
    stream_policy = stack.compute.roles["payment_stream"].node.find_child("DefaultPolicy")
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
        _ack(
            stream_policy,
            f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]",
            "CDK's grant to send failed stream batches to the KMS-encrypted failure queue (SqsDlq); scoped to "
            "the data key.",
        )
    undelivered = [stack.messaging.undelivered] if stack.messaging.undelivered is not None else []
    for queue in undelivered:
        _ack(
            queue,
            "AwsSolutions::AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the on-call e-mail subscription (SNS configures it on the "
            "subscription's redrive policy, which cdk-nag does not follow).",
        )
    for queue in (stack.compute.dlq, stack.schedules.dead_letters, *undelivered):
        _ack(
            queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This queue is itself a dead-letter queue (Lambda async failures / Scheduler targets): a DLQ of a "
            "DLQ would only move the problem.",
        )
    _ack(
        stack.schedules.dead_letters,
        "AwsSolutions::AwsSolutions-SQS3",
        "This queue is the dead-letter queue of the EventBridge Scheduler targets (cdk-nag sees no SQS "
        "redrive pointing at it because Scheduler configures it on the schedule).",
    )
    for fn in (stack.compute.functions["scan"], stack.compute.functions["outbox_dispatcher"]):
        _ack(
            stack.schedules.target_role.node.find_child("DefaultPolicy"),
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{_logical(fn)}.Arn>:*]",
            "The Scheduler target role may invoke the function's versions and aliases (<arn>:*) as well as the "
            "function itself.",
        )
    tested_runtime = (
        "Deployed on the Python minor version every test runs on (make test, the layer's wheels, "
        "requires-python): what ships is what was tested. The runtime moves with the test interpreter "
        "in one change, well before its deprecation date (docs/deploy.md, Runtime)."
    )
    for fn in stack.compute.functions.values():
        _ack(fn, "AwsSolutions::AwsSolutions-L1", tested_runtime)
        _ack(fn, "Serverless::Serverless-LambdaLatestVersion", tested_runtime)
    _ack(
        stack.api.rest_api.node.find_child("CloudWatchRole"),
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway's account-level logging role: AWS documents this managed policy as the way to let API "
        "Gateway write execution logs.",
    )
    for path in ("loans/{loan_id}/payments", "cases/{case_id}/plan-acceptance"):
        method = stack.api.rest_api.root.resource_for_path(path).node.find_child("POST")
        _ack(
            method,
            "AwsSolutions::AwsSolutions-COG4",
            "Called by the bank's own systems (payment feed, customer channels) with IAM SigV4 "
            "authorisation, not by staff: a Cognito user pool authorizer does not apply.",
        )
    _ack(
        stack.workflow.state_machine.role.node.find_child("DefaultPolicy"),
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray tracing APIs support no "
        "resource-level permissions; CDK adds them for logging level ALL and tracing.",
    )
    _ack(
        stack.audit.access_logs,
        "AwsSolutions::AwsSolutions-S1",
        "This is the server access log bucket itself; logging it into itself would loop.",
    )
    _ack(
        stack.messaging.node.find_child("SmsDeliveryStatusRole").node.find_child("DefaultPolicy"),
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
        "log-group:sns/<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber*]",
        "SNS names its SMS delivery-status log groups DirectPublishToPhoneNumber and "
        "DirectPublishToPhoneNumber/Failure (with their streams): the grant covers those two groups only.",
    )
    _ack(
        stack.messaging.sms_preferences,
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "sns:SetSMSAttributes is an account-level action with no resource-level permissions.",
    )
    _acknowledge_site(stack)
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


BUCKET_DEPLOYMENT = (
    "CDK's BucketDeployment provider, which copies web/ into the site bucket at deploy time (invoked "
    "synchronously by CloudFormation, which reports a failure as a failed deployment)"
)


def _acknowledge_site(stack: DueFlowStack) -> None:
    """The workbench's site: CloudFront's findings, and CDK's BucketDeployment provider's."""
    cdn = stack.site.distribution
    _ack(
        cdn,
        "AwsSolutions::AwsSolutions-CFR1",
        "Who may use the workbench is decided by Cognito (staff accounts created by administrators, MFA "
        "required), not by country; a bank adds a geo restriction by its own policy.",
    )
    _ack(
        cdn,
        "AwsSolutions::AwsSolutions-CFR4",
        "On the default *.cloudfront.net certificate CloudFront cannot pin the viewers' minimum TLS version; a "
        "bank's own domain and ACM certificate set TLSv1.2_2021 (docs/deploy.md, The workbench).",
    )
    if stack.site.web_acl_arn is None:
        _ack(
            cdn,
            "AwsSolutions::AwsSolutions-CFR2",
            "A CloudFront web ACL must be created in us-east-1: the stack creates one when deployed there, "
            "otherwise settings.site_web_acl_arn names the bank's (docs/deploy.md, The workbench).",
        )
    provider = next(
        (c for c in Stack.of(stack).node.children if c.node.id.startswith("Custom::CDKBucketDeployment")), None
    )
    if provider is None:
        return
    for rule in (
        "AwsSolutions::AwsSolutions-L1",
        "Serverless::Serverless-LambdaDLQ",
        "Serverless::Serverless-LambdaTracing",
        "Serverless::Serverless-LambdaLatestVersion",
    ):
        _ack(provider, rule, f"{BUCKET_DEPLOYMENT}: its runtime, tracing and failure handling are CDK's.")
    role = provider.node.find_child("ServiceRole")
    _ack(
        role,
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        f"{BUCKET_DEPLOYMENT}: CDK gives it the basic execution role to write its logs.",
    )
    assets = f"arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-{stack.settings.region}/*"
    for finding in (
        "Resource::*",
        "Action::s3:GetBucket*",
        "Action::s3:GetObject*",
        "Action::s3:List*",
        "Action::s3:Abort*",
        "Action::s3:DeleteObject*",
        f"Resource::{assets}",
        f"Resource::<{_logical(stack.site.bucket)}.Arn>/*",
    ):
        _ack(
            role.node.find_child("DefaultPolicy"),
            f"AwsSolutions::AwsSolutions-IAM5[{finding}]",
            f"{BUCKET_DEPLOYMENT}: CDK's grant to read the uploaded asset and replace the site bucket's "
            "objects, and to invalidate the distribution's cache (no resource-level permission).",
        )
