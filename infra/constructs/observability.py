"""The operations dashboard and the alarms that page the internal topic (subscribed by ``alarm_email``).

Business metrics are read exactly as the handlers emit them (``dueflow.observability.METRICS``): in the
``DueFlow`` namespace with the emitting function's Powertools ``service`` dimension. Every alarm's
threshold comes from ``settings.alarms``; docs/deploy.md has a runbook line per alarm (a test checks).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dueflow.observability import METRICS, NAMESPACE, service_name
from dueflow.settings import Settings
from dueflow.workflow.definition import CLOSED, STAGE_LABELS

DAY = Duration.days(1)
HOUR = Duration.hours(1)
FIVE_MINUTES = Duration.minutes(5)
CHANNELS = ("sms", "email", "call")
DASHBOARD_STAGES = (
    "confirm_overdue",
    "first_contact",
    "second_reminder",
    "negotiate",
    "follow_up",
    "legal_review",
)


def business_metric(
    settings: Settings, name: str, period: Duration = DAY, statistic: str = "Sum", **dimensions: str
) -> cloudwatch.Metric:
    """A DueFlow metric as its function emits it: the function's service plus the metric's dimensions."""
    function, expected = METRICS[name]
    if sorted(dimensions) != sorted(expected):
        raise ValueError(f"metric {name} has dimensions {expected}, not {tuple(dimensions)}")
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service_name(settings.prefix, function), **dimensions},
        statistic=statistic,
        period=period,
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
        queues: dict[str, sqs.IQueue],
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.topic = alarm_topic
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._dashboard(settings, functions, state_machine)
        limits = settings.alarms
        for name, fn in functions.items():
            self._alarm(
                f"{name}-errors",
                fn.metric_errors(period=FIVE_MINUTES),
                limits.function_errors_per_5_minutes,
                f"The {name} function failed: see its logs",
            )
            self._alarm(
                f"{name}-throttles",
                fn.metric_throttles(period=FIVE_MINUTES),
                limits.function_throttles_per_5_minutes,
                f"The {name} function was throttled: its reserved concurrency or the account's is exhausted",
            )
        scan = functions["scan"]
        timeout_ms = scan.timeout.to_milliseconds() if scan.timeout else 900_000
        self._alarm(
            "scan-duration",
            scan.metric_duration(period=HOUR, statistic="Maximum"),
            timeout_ms * limits.scan_duration_percent_of_timeout // 100,
            "A scan invocation ran close to its timeout: a shard that times out skips its wake-ups",
        )
        self._alarm(
            "payment-stream-iterator-age",
            functions["payment_stream"].metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum"),
            limits.payment_stream_iterator_age_seconds * 1000,
            "Payments on the loans table wait to cure their cases: the stream consumer falls behind",
        )
        self._alarm(
            "messages-unconfirmed",
            business_metric(settings, "MessagesUnconfirmed", Duration.minutes(15)),
            0,
            "A dispatcher stopped after claiming a message: it may have gone out and is not sent again; "
            "check the provider's delivery log for the message ids in the case's message_unconfirmed records",
        )
        self._alarm(
            "outbox-oldest-pending",
            business_metric(settings, "OutboxOldestPendingMinutes", HOUR, "Maximum"),
            limits.outbox_oldest_pending_minutes,
            "Messages wait longer than they should to go out (or the dispatcher has not run for an hour)",
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        for channel in ("sms", "email"):
            self._alarm(
                f"{channel}-refused",
                business_metric(settings, "MessagesRefused", HOUR, Channel=channel),
                limits.messages_refused_per_hour,
                f"The {channel} provider refused sends: messages stay queued and are retried every tick",
            )
        self._alarm(
            "sms-delivery-failed",
            cloudwatch.Metric(
                namespace="AWS/SNS",
                metric_name="NumberOfNotificationsFailed",
                dimensions_map={"PhoneNumber": "PhoneNumberDirect"},
                statistic="Sum",
                period=HOUR,
            ),
            limits.sms_failed_per_hour,
            "SMS accepted by SNS were not delivered by the carriers: see the SNS delivery-status logs",
        )
        self._alarm(
            "sms-spend",
            cloudwatch.Metric(
                namespace="AWS/SNS", metric_name="SMSMonthToDateSpentUSD", statistic="Maximum", period=HOUR
            ),
            # until the stack sets a limit, the account's: 1 USD on a new account (docs/deploy.md)
            (settings.sms_monthly_spend_limit_usd or 1) * limits.sms_spend_percent_of_limit / 100,
            "SMS spend this month nears the account's limit: SNS stops sending SMS at the limit",
        )
        for name, metric_name, threshold in (
            ("ses-bounce-rate", "Reputation.BounceRate", limits.ses_bounce_rate_percent),
            ("ses-complaint-rate", "Reputation.ComplaintRate", limits.ses_complaint_rate_percent),
        ):
            self._alarm(
                name,
                cloudwatch.Metric(namespace="AWS/SES", metric_name=metric_name, statistic="Maximum", period=HOUR),
                float(threshold) / 100,
                f"The account's SES {metric_name.split('.')[1]} nears the level where SES reviews or pauses sending",
            )
        for name, metric in (
            ("executions-failed", state_machine.metric_failed(period=HOUR)),
            ("executions-timed-out", state_machine.metric_timed_out(period=HOUR)),
            ("executions-aborted", state_machine.metric_aborted(period=HOUR)),
            ("executions-throttled", state_machine.metric_throttled(period=HOUR)),
        ):
            self._alarm(
                name,
                metric,
                limits.executions_failed_per_hour,
                "A case's execution ended abnormally or was throttled: its status change continues the case in "
                "a new execution (CasesRestarted); see the failed execution's last error",
            )
        self._alarm(
            "cases-restarted-by-scan",
            business_metric(settings, "CasesRestartedByScan"),
            0,
            "The daily scan found open cases whose execution had ended and restarted them: their status-change "
            "event was lost, or its restarts failed (see the execution_ended function and the invocations queue)",
        )
        self._alarm(
            "cases-parked-past-wake",
            business_metric(settings, "CasesParkedPastWake"),
            limits.cases_parked_past_wake,
            "Cases were woken a day or more late: an earlier scan failed or did not finish a shard",
        )
        self._alarm(
            "complaints-past-deadline",
            business_metric(settings, "ComplaintsPastDeadline", statistic="Maximum"),
            limits.complaints_past_deadline,
            "Complaints are open past their resolution deadline: each was escalated to the supervisors",
        )
        for name, queue in queues.items():
            self._alarm(
                f"dead-letters-{name}",
                queue.metric_approximate_number_of_messages_visible(),
                0,
                "An invocation or a notice ended in a dead-letter queue: replay it after fixing the cause",
            )

    def _dashboard(
        self, settings: Settings, functions: dict[str, lambda_.Function], state_machine: sfn.StateMachine
    ) -> None:
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{settings.prefix}-operations")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Cases opened and closed per day",
                left=[business_metric(settings, "CasesOpened")]
                + [business_metric(settings, "CasesClosed", Outcome=outcome) for outcome in CLOSED],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Cases entering each stage per day",
                left=[
                    business_metric(settings, "StageEntered", Stage=STAGE_LABELS[stage]) for stage in DASHBOARD_STAGES
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Contacts sent per channel per day",
                left=[business_metric(settings, "MessagesSent", Channel=channel) for channel in CHANNELS],
                right=[
                    business_metric(settings, "MessagesDeferred"),
                    business_metric(settings, "MessagesDropped"),
                    business_metric(settings, "MessagesUnconfirmed"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Backlogs: oldest pending message (minutes), cases woken late, complaints past deadline, "
                "cases restarted",
                left=[business_metric(settings, "OutboxOldestPendingMinutes", HOUR, "Maximum")],
                right=[
                    business_metric(settings, "CasesParkedPastWake"),
                    business_metric(settings, "ComplaintsPastDeadline", statistic="Maximum"),
                    business_metric(settings, "CasesRestarted"),
                    business_metric(settings, "CasesRestartedByScan"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Failures",
                left=[fn.metric_errors(period=HOUR) for fn in functions.values()]
                + [state_machine.metric_failed(period=HOUR)],
                width=12,
            ),
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            f"Alarm-{name}",
            alarm_name=f"{self.settings.prefix}-{name}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            alarm_description=f"{description} (runbook: docs/deploy.md, alarm {name})",
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm
