"""Lambda layers and functions: every folder of functions/, each with its own least-privilege role.

Permissions are written out statement by statement (no CDK ``grant*`` helpers, which add wildcard
actions): exact actions on the exact tables, indexes, keys, topic and state machine each function needs.
Only the functions that contact customers (the dispatcher) or size plans from income (the API) may
decrypt with the PII key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dueflow.adapters.aws import Resources
from dueflow.adapters.schema import CASES, LOANS, OUTBOX
from dueflow.observability import service_name
from dueflow.settings import Settings
from infra.constructs.audit import AuditStore
from infra.constructs.data import Data
from infra.constructs.keys import Keys
from infra.constructs.logging import retention
from infra.constructs.messaging import Messaging

ROOT = Path(__file__).resolve().parents[2]
DEPS_LAYER = ROOT / "build" / "layers" / "deps"
# The minor version every test runs on (make test's interpreter, the layer's wheels, requires-python):
# what ships is what was tested. A template test checks it; docs/deploy.md says how to move all together.
RUNTIME = lambda_.Runtime.PYTHON_3_11


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    timeout_s: int = 60
    memory_mb: int = 512
    reserved: str | None = None  # the Settings property that caps its concurrency (a downstream quota)
    tables_read: tuple[str, ...] = ()
    tables_write: tuple[str, ...] = ()
    audit: bool = True
    audit_reader: bool = False  # reads audit records back (only the API, which shows them to staff)
    pii_decrypt: bool = False
    publish_internal: bool = False
    send_sms: bool = False
    send_email: bool = False
    start_executions: bool = False
    resume_executions: bool = False
    describe_executions: bool = False  # the scan's safety net: has an open case's execution ended?
    invoke_self: bool = False
    seal_digests: bool = False  # signs each day's audit digest (the scan seals the day before it runs)
    extra: dict[str, str] = field(default_factory=dict)


SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "scan",
        "Daily scan: due-soon reminders, new cases, wake-ups",
        timeout_s=900,
        reserved="scan_concurrency",
        tables_read=("loans",),
        tables_write=("cases", "outbox"),
        start_executions=True,
        resume_executions=True,
        describe_executions=True,
        invoke_self=True,
        extra={"SCAN_FAN_OUT": "true"},
        seal_digests=True,
    ),
    FunctionSpec(
        "case_stage",
        "A stage task of the case state machine",
        timeout_s=120,
        tables_read=("loans",),
        tables_write=("cases", "outbox"),
        publish_internal=True,
    ),
    FunctionSpec(
        "case_wait",
        "A callback state: park the task token and wake-up date",
        timeout_s=60,
        tables_read=("loans",),
        tables_write=("cases",),
        resume_executions=True,
    ),
    FunctionSpec(
        "outbox_dispatcher",
        "Send due messages through the contact policy gate",
        timeout_s=600,
        reserved="dispatcher_concurrency",
        tables_read=("loans",),
        tables_write=("cases", "outbox"),
        pii_decrypt=True,
        publish_internal=True,
        send_sms=True,
        send_email=True,
        invoke_self=True,
        extra={"DISPATCH_FAN_OUT": "true"},
    ),
    FunctionSpec(
        "execution_ended",
        "A case execution ended without closing its case: continue the case in a new execution",
        timeout_s=60,
        tables_read=("loans",),
        tables_write=("cases",),
        start_executions=True,
    ),
    FunctionSpec(
        "payment_stream",
        "Loans-table stream: cure cases on payment",
        timeout_s=120,
        tables_read=("loans",),
        tables_write=("cases",),
        resume_executions=True,
    ),
    FunctionSpec(
        "api",
        "REST API: payments, plans, promises, complaints, case lookup",
        timeout_s=29,
        tables_read=(),
        tables_write=("loans", "cases", "outbox"),
        pii_decrypt=True,
        publish_internal=True,
        resume_executions=True,
        audit_reader=True,
    ),
)


def state_machine_name(settings: Settings) -> str:
    return f"{settings.prefix}-cases"


class Compute(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        keys: Keys,
        data: Data,
        audit: AuditStore,
        messaging: Messaging,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (DEPS_LAYER / "python").is_dir():
            raise FileNotFoundError(
                f"{DEPS_LAYER}/python is missing: run `make install` (it builds the Lambda dependency layer)"
            )
        stack = Stack.of(self)
        self.settings = settings
        self.state_machine_arn = (
            f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:stateMachine:{state_machine_name(settings)}"
        )
        self.execution_arns = (
            f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:{state_machine_name(settings)}:*"
        )
        self.deps_layer = lambda_.LayerVersion(
            self,
            "DepsLayer",
            code=lambda_.Code.from_asset(str(DEPS_LAYER)),
            compatible_runtimes=[RUNTIME],
            description="Powertools, pydantic, cryptography, tzdata",
        )
        self.domain_layer = lambda_.LayerVersion(
            self,
            "DomainLayer",
            code=lambda_.Code.from_asset(str(ROOT / "layers" / "dueflow_core")),
            compatible_runtimes=[RUNTIME],
            description="DueFlow domain engine, services and adapters",
        )
        self.dlq = sqs.Queue(
            self,
            "AsyncFailures",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=keys.data,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        resources = Resources(
            audit_bucket=audit.bucket.bucket_name,
            pii_key_arn=keys.pii.key_arn,
            state_machine_arn=self.state_machine_arn,
            internal_topic_arn=messaging.internal.topic_arn,
            email_configuration_set=messaging.configuration_set.configuration_set_name,
            signing_key_arn=keys.signing.key_arn,
            loans_table=data.loans.table_name,
            cases_table=data.cases.table_name,
            outbox_table=data.outbox.table_name,
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in SPECS:
            self._function(spec, settings, keys, data, audit, messaging, resources, stack)

    def _function(
        self,
        spec: FunctionSpec,
        settings: Settings,
        keys: Keys,
        data: Data,
        audit: AuditStore,
        messaging: Messaging,
        resources: Resources,
        stack: Stack,
    ) -> None:
        construct_id = "".join(part.title() for part in spec.name.split("_"))
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=retention(settings),
            encryption_key=keys.data,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{settings.prefix}-{spec.name}: least privilege",
        )
        statements = [
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            ),
        ]
        tables = {"loans": data.loans, "cases": data.cases, "outbox": data.outbox}
        read_actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"]
        write_actions = [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:ConditionCheckItem",
        ]
        for name in dict.fromkeys(spec.tables_read + spec.tables_write):
            table = tables[name]
            arns = [table.table_arn] + [f"{table.table_arn}/index/{index}" for index in _indexes(name)]
            actions = read_actions + (write_actions if name in spec.tables_write else [])
            statements.append(iam.PolicyStatement(actions=actions, resources=arns))
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], resources=[keys.data.key_arn]
            )
        )
        if spec.seal_digests:
            statements += [
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:GetObject"], resources=[f"{audit.bucket.bucket_arn}/digests/*"]
                ),
                iam.PolicyStatement(actions=["kms:Sign", "kms:GetPublicKey"], resources=[keys.signing.key_arn]),
            ]
        if spec.audit:
            # writers write and list; only a reader gets a record back (and may decrypt it)
            reads = spec.audit_reader or spec.seal_digests  # the scan reads the day before's digest
            statements += [
                iam.PolicyStatement(
                    actions=["s3:PutObject", *(["s3:GetObject"] if spec.audit_reader else [])],
                    resources=[f"{audit.bucket.bucket_arn}/cases/*"],
                ),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[audit.bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", *(["kms:Decrypt"] if reads else [])],
                    resources=[keys.audit.key_arn],
                ),
            ]
        if spec.pii_decrypt or "loans" in spec.tables_write:
            pii_actions = ["kms:GenerateDataKey"] + (["kms:Decrypt"] if spec.pii_decrypt else [])
            statements.append(iam.PolicyStatement(actions=pii_actions, resources=[keys.pii.key_arn]))
        if spec.publish_internal or spec.send_sms:
            statements.append(iam.PolicyStatement(actions=["sns:Publish"], resources=[messaging.internal.topic_arn]))
        if spec.send_sms:
            # SMS to a phone number is authorised against no resource ARN: allow sns:Publish on anything
            # that is not an SNS topic or endpoint (so to phone numbers only; the internal topic above)
            statements.append(
                iam.PolicyStatement(actions=["sns:Publish"], not_resources=[f"arn:{Aws.PARTITION}:sns:*:*:*"])
            )
        if spec.send_email:
            statements.append(
                iam.PolicyStatement(
                    actions=["ses:SendEmail"],
                    resources=[
                        f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/{settings.sender_email}",
                        f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:configuration-set/"
                        f"{messaging.configuration_set.configuration_set_name}",
                    ],
                )
            )
        if spec.start_executions:
            statements.append(
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine_arn])
            )
        if spec.describe_executions:
            statements.append(
                iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[self.execution_arns])
            )
        if spec.resume_executions:
            statements.append(
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[self.state_machine_arn]
                )
            )
        function_name = f"{settings.prefix}-{spec.name}"
        if spec.invoke_self:
            statements.append(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{function_name}"],
                )
            )
        policy = iam.Policy(self, f"{construct_id}Policy", statements=statements)
        policy.attach_to_role(role)
        function = lambda_.Function(
            self,
            construct_id,
            function_name=function_name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(ROOT / "functions" / spec.name)),
            layers=[self.deps_layer, self.domain_layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            reserved_concurrent_executions=getattr(settings, spec.reserved) if spec.reserved else None,
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            dead_letter_queue=self.dlq,
            environment={
                "DUEFLOW_SETTINGS": settings.to_env(),
                "POWERTOOLS_SERVICE_NAME": service_name(settings.prefix, spec.name),
                "POWERTOOLS_METRICS_NAMESPACE": "DueFlow",
                **replace(resources, audit_reader=spec.audit_reader).to_env(),
                **spec.extra,
            },
        )
        function.node.add_dependency(policy)
        self.functions[spec.name] = function
        self.roles[spec.name] = role


def _indexes(table: str) -> tuple[str, ...]:
    return tuple(index.name for index in {"loans": LOANS, "cases": CASES, "outbox": OUTBOX}[table].indexes)
