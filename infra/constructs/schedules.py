"""EventBridge Scheduler: the daily scan at its local time and zone, the outbox dispatcher's ticks."""

from __future__ import annotations

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dueflow.settings import Settings


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        scan: lambda_.IFunction,
        dispatcher: lambda_.IFunction,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        input_with_time = scheduler.ScheduleTargetInput.from_object({"time": scheduler.ContextAttribute.scheduled_time})
        # one role for both schedules' targets: it invokes the two functions and, with the key, may put a
        # failed invocation on the KMS-encrypted dead-letter queue (without the key it could not)
        self.target_role = iam.Role(self, "TargetRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        key.grant(self.target_role, "kms:GenerateDataKey", "kms:Decrypt")
        self.scan = scheduler.Schedule(
            self,
            "DailyScan",
            schedule_name=f"{settings.prefix}-daily-scan",
            description="逾期识别: the daily scan at the bank's local time",
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(settings.scan_time.minute),
                hour=str(settings.scan_time.hour),
                time_zone=TimeZone.of(settings.time_zone),
            ),
            target=targets.LambdaInvoke(
                scan,
                role=self.target_role,
                input=input_with_time,
                retry_attempts=3,
                max_event_age=Duration.hours(6),
                dead_letter_queue=self.dead_letters,
            ),
        )
        self.dispatcher = scheduler.Schedule(
            self,
            "OutboxDispatcher",
            schedule_name=f"{settings.prefix}-outbox-dispatcher",
            description="Send due messages within the contact window",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(settings.dispatcher_every_minutes)),
            target=targets.LambdaInvoke(
                dispatcher,
                role=self.target_role,
                input=input_with_time,
                retry_attempts=2,
                max_event_age=Duration.minutes(10),
                dead_letter_queue=self.dead_letters,
            ),
        )
