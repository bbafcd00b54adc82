"""Messaging: the internal notification topic, SES v2 email with a configuration set, SMS spend limit."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from dueflow.settings import Settings
from infra.constructs.logging import retention as _retention


class Messaging(Construct):
    """``internal``: notifications to the legal team and supervisors (and alarms); ``ses_events``: SES
    bounce, complaint and reject events (for the operations team to subscribe to); the configuration
    set every customer email is sent with; the SNS SMS monthly spend limit of the account."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.internal = sns.Topic(
            self, "Internal", topic_name=f"{settings.prefix}-internal", master_key=key, enforce_ssl=True
        )
        self.ses_events = sns.Topic(
            self, "SesEvents", topic_name=f"{settings.prefix}-ses-events", master_key=key, enforce_ssl=True
        )
        # CloudWatch alarms publish to the encrypted internal topic: without the key, every alarm action fails
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.undelivered: sqs.Queue | None = None
        if settings.alarm_email:
            # the on-call address: alarms and staff notices reach a person (the address confirms once);
            # what SNS cannot deliver to it is kept, not lost
            self.undelivered = sqs.Queue(
                self,
                "UndeliveredNotices",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=key,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            self.internal.add_subscription(
                subscriptions.EmailSubscription(settings.alarm_email, dead_letter_queue=self.undelivered)
            )
        # SES publishes bounce / complaint events to the encrypted topic with the data key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.configuration_set = ses.ConfigurationSet(
            self,
            "EmailConfig",
            configuration_set_name=f"{settings.prefix}-email",
            reputation_metrics=True,
            sending_enabled=True,
        )
        self.configuration_set.add_event_destination(
            "BouncesAndComplaints",
            destination=ses.EventDestination.sns_topic(self.ses_events),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.REJECT],
        )
        self.sender = ses.EmailIdentity(
            self,
            "Sender",
            identity=ses.Identity.email(settings.sender_email),
            configuration_set=self.configuration_set,
        )
        # There is no CloudFormation resource for SNS SMS preferences: set them through the SNS API at
        # deploy time. Delivery status is logged (every failure, a sample of successes) to CloudWatch Logs
        # by SNS with its own role; the monthly spend limit only once a setting asks for it.
        delivery_role = iam.Role(
            self,
            "SmsDeliveryStatusRole",
            assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
            description="SNS writes SMS delivery status to CloudWatch Logs",
        )
        delivery_role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:PutMetricFilter",
                    "logs:PutRetentionPolicy",
                ],
                resources=[
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:"
                    f"sns/{Aws.REGION}/{Aws.ACCOUNT_ID}/DirectPublishToPhoneNumber*"
                ],
            )
        )
        attributes = {
            "DefaultSMSType": "Transactional",
            "DeliveryStatusIAMRole": delivery_role.role_arn,
            "DeliveryStatusSuccessSamplingRate": str(settings.sms_delivery_success_sampling_percent),
        }
        if settings.sms_monthly_spend_limit_usd is not None:
            attributes["MonthlySpendLimit"] = str(settings.sms_monthly_spend_limit_usd)
        sms_call = cr.AwsSdkCall(
            service="SNS",
            action="setSMSAttributes",
            parameters={"attributes": attributes},
            physical_resource_id=cr.PhysicalResourceId.of(f"{settings.prefix}-sms-preferences"),
        )
        log_group = logs.LogGroup(
            self,
            "SmsPreferencesLogs",
            encryption_key=key,
            retention=_retention(settings),
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "SmsPreferencesRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Sets the SNS SMS preferences of the account at deploy time",
        )
        log_group.grant_write(role)
        self.sms_preferences = cr.AwsCustomResource(
            self,
            "SmsPreferences",
            on_create=sms_call,
            on_update=sms_call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(actions=["sns:SetSMSAttributes"], resources=["*"]),
                    iam.PolicyStatement(actions=["iam:PassRole"], resources=[delivery_role.role_arn]),
                ]
            ),
            role=role,
            log_group=log_group,
            memory_size=128,
            install_latest_aws_sdk=False,
        )
