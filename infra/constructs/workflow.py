"""The case state machine: the definition from dueflow.workflow, logged at level ALL, traced, alarmed."""

from __future__ import annotations

import json

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dueflow.settings import Settings
from dueflow.workflow.definition import Functions, build_definition
from infra.constructs.compute import state_machine_name
from infra.constructs.logging import retention


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        stage: lambda_.IFunction,
        wait: lambda_.IFunction,
        ended: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        definition = build_definition(
            Functions(stage=stage.function_arn, wait=wait.function_arn, partition=Aws.PARTITION), settings
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(settings),
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{state_machine_name(settings)}: invoke the stage and wait functions",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Cases",
            state_machine_name=state_machine_name(settings),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[stage.function_arn, wait.function_arn])
        )
        # an execution that ends without closing its case (a task out of retries, a timeout, a stop) would
        # leave the loan out of collection: its status change continues the case in a new execution
        # (dueflow.services.recovery; the daily scan is the safety net if this event is lost)
        rule_name = f"{settings.prefix}-execution-ended"
        self.ended_rule = events.Rule(
            self,
            "ExecutionEnded",
            rule_name=rule_name,
            description="A case execution failed, timed out or was stopped: continue its case",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    ended, retry_attempts=4, max_event_age=Duration.hours(6), dead_letter_queue=dead_letters
                )
            ],
        )
        # the dead-letter queue is encrypted with the data key: EventBridge may use the key for this rule
        # only (named by its ARN as text: a reference to the rule would make the key depend on it)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={
                    "ArnEquals": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/{rule_name}"
                    }
                },
            )
        )
