"""The operations dashboard and the alarms that page the internal topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dueflow.settings import Settings
from dueflow.workflow.definition import CLOSED

NAMESPACE = "DueFlow"


def _metric(name: str, dimensions: dict[str, str] | None = None, period: Duration | None = None) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        statistic="Sum",
        period=period or Duration.days(1),
    )


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: dict[str, lambda_.Function],
        state_machine: sfn.StateMachine,
        queues: list[sqs.IQueue],
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        day = Duration.days(1)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{settings.prefix}-operations")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Cases opened and closed per day",
                left=[_metric("CasesOpened", period=day)]
                + [_metric("CasesClosed", {"Outcome": outcome}, day) for outcome in CLOSED],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Cases entering each stage per day",
                left=[
                    _metric("StageEntered", {"Stage": stage}, day)
                    for stage in (
                        "Confirm overdue",
                        "First contact",
                        "Second reminder",
                        "Negotiate by phone",
                        "Follow up plan",
                        "Legal review",
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Contacts sent per channel per day",
                left=[_metric("MessagesSent", {"Channel": channel}, day) for channel in ("sms", "email", "call")],
                right=[
                    _metric("MessagesDeferred", period=day),
                    _metric("MessagesDropped", period=day),
                    _metric("MessagesUnconfirmed", period=day),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Failures",
                left=[fn.metric_errors(period=Duration.hours(1)) for fn in functions.values()]
                + [state_machine.metric_failed(period=Duration.hours(1))],
                width=12,
            ),
        )
        self.alarms: list[cloudwatch.Alarm] = []
        for name, fn in functions.items():
            self._alarm(
                f"{name}-errors",
                fn.metric_errors(period=Duration.minutes(5)),
                alarm_topic,
                f"The {name} function failed: see its logs",
            )
        self._alarm(
            "messages-unconfirmed",
            _metric("MessagesUnconfirmed", period=Duration.minutes(15)),
            alarm_topic,
            "A dispatcher stopped after claiming a message: it may have gone out and is not sent again; "
            "check the provider's delivery log for the message ids in the case's message_unconfirmed records",
        )
        for index, queue in enumerate(queues):
            self._alarm(
                f"dead-letters-{index}",
                queue.metric_approximate_number_of_messages_visible(),
                alarm_topic,
                "An invocation ended in a dead-letter queue: replay it after fixing the cause",
            )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, topic: sns.ITopic, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            f"Alarm-{name}",
            metric=metric,
            threshold=0,
            evaluation_periods=1,
            alarm_description=description,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        self.alarms.append(alarm)
