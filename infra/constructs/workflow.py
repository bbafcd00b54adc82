"""The case state machine: the definition from dueflow.workflow, logged at level ALL, traced, alarmed."""

from __future__ import annotations

import json

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
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
