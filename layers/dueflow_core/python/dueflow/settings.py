"""DueFlow's one typed settings object.

CDK reads it from context (``cdk.json`` / ``-c``) when it synthesizes the deployment, and passes the same
values to every Lambda as the JSON environment variable ``DUEFLOW_SETTINGS``; handlers read it back with
``Settings.from_env()``. Dev and prod differ only in these values.
"""

from __future__ import annotations

import json
import os
import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dueflow.domain.loan import known_time_zone
from dueflow.domain.rules import DEFAULT_JURISDICTIONS, PackSelection

ENV_VAR = "DUEFLOW_SETTINGS"
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")


class Escalation(BaseModel):
    """When a silent case may move on, in days past due: a stage escalates at the later of its timer and
    its threshold; until then the contact cadence goes on (another reminder, another agent call)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    negotiation_dpd: int = Field(default=0, ge=0, le=3650)  # before "Negotiate by phone"
    legal_review_dpd: int = Field(default=90, ge=0, le=3650)  # before "Legal review"
    # before a case that legal review would not litigate closes for write-off review; until then the
    # negotiation cadence goes on (banks often set 180)
    write_off_review_dpd: int = Field(default=90, ge=0, le=3650)


class AssignmentRule(BaseModel):
    """New cases of these buckets and customer languages (empty: any) go to the one of ``agents`` with
    the fewest open cases (ties: the first named); the first rule that matches decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buckets: tuple[Annotated[str, Field(pattern=r"^M([0-6]|7\+)$")], ...] = ()
    languages: tuple[Literal["zh-CN", "en"], ...] = ()
    agents: tuple[Annotated[str, Field(min_length=1, max_length=128)], ...] = Field(min_length=1)

    def matches(self, bucket: str, language: str) -> bool:
        return (not self.buckets or bucket in self.buckets) and (not self.languages or language in self.languages)


class AlarmThresholds(BaseModel):
    """Above these an alarm pages the internal topic (docs/deploy.md's runbook says what each means)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    function_errors_per_5_minutes: int = Field(default=0, ge=0)
    function_throttles_per_5_minutes: int = Field(default=0, ge=0)
    # the scan's longest invocation as a share of its timeout (a shard near it may not finish its wake-ups)
    scan_duration_percent_of_timeout: int = Field(default=80, ge=10, le=100)
    payment_stream_iterator_age_seconds: int = Field(default=300, ge=1)
    outbox_oldest_pending_minutes: int = Field(default=60, ge=15)
    messages_refused_per_hour: int = Field(default=20, ge=0)
    sms_failed_per_hour: int = Field(default=20, ge=0)
    sms_spend_percent_of_limit: int = Field(default=80, ge=1, le=100)
    ses_bounce_rate_percent: Decimal = Field(default=Decimal("5"), gt=0, le=100)  # SES reviews at 5%
    ses_complaint_rate_percent: Decimal = Field(default=Decimal("0.1"), gt=0, le=100)  # SES reviews at 0.1%
    executions_failed_per_hour: int = Field(default=0, ge=0)
    cases_parked_past_wake: int = Field(default=0, ge=0)
    complaints_past_deadline: int = Field(default=0, ge=0)


class JurisdictionPack(BaseModel):
    """One row of the jurisdiction table: a loan in ``currency`` to a customer in ``country`` (ISO 3166-1
    alpha-2; none: any country, or none given) is under ``pack`` unless it names its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    pack: Literal["cn", "us"]


class Settings(BaseModel):
    """Deployment and workflow settings. Times are local times in ``time_zone`` unless said otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str = "dev"
    account: str | None = None  # None: the account of the deploying credentials
    region: str = "ap-southeast-1"
    # where the bank may keep customer data (its regulator's rule): when given, a deployment to any
    # other region fails synthesis. A PRC bank: ["cn-north-1", "cn-northwest-1"] (the aws-cn partition)
    customer_data_regions: tuple[str, ...] = ()
    # the daily scan (逾期识别) and the outbox dispatcher
    scan_time: time = time(2, 0)
    time_zone: str = "Asia/Shanghai"
    dispatcher_every_minutes: int = Field(default=15, ge=1, le=60)
    # the audit store (Object Lock, COMPLIANCE mode)
    audit_retention_years: int = Field(default=5, ge=1, le=30)
    audit_infrequent_access_after_days: int = Field(default=90, ge=30)
    # the bank as its customers see it in every message: set both per deployment (cdk.json); the defaults
    # are placeholders, no real bank's name or number
    bank_name: str = Field(default="DueFlow Example Bank", min_length=1, max_length=40)
    bank_hotline: str = Field(default="400-000-0000", pattern=r"^[0-9+() -]{3,20}$")
    # the bank collects its own loans: it is their creditor, and a us validation notice says so (a
    # collection agency running DueFlow for a bank sets false: its notices say "a debt collector")
    collects_own_debt: bool = True
    payment_instructions: str = Field(
        default="your usual repayment account, the bank's app or any branch", min_length=1, max_length=200
    )
    # messaging
    sender_email: str = "collections@example.com"
    # None: the stack leaves the account's SMS spend limit alone (a new account's quota is 1 USD, and a
    # limit above the approved quota fails the deploy); set it after SNS raises the quota (docs/deploy.md)
    sms_monthly_spend_limit_usd: int | None = Field(default=None, ge=1)
    sms_delivery_success_sampling_percent: int = Field(default=10, ge=0, le=100)  # failures: always logged
    ses_max_send_per_second: int = Field(default=14, ge=1)
    sms_max_send_per_second: int = Field(default=20, ge=1)
    # contact policy
    contact_window_start: time = time(8, 0)
    contact_window_end: time = time(21, 0)
    max_contacts_per_day: int = Field(default=3, ge=1)
    max_contacts_per_7_days: int = Field(default=7, ge=1)
    # workflow timing (days)
    grace_days: int = Field(default=1, ge=0)
    due_soon_days: int = Field(default=3, ge=0)
    response_days: int = Field(default=7, ge=1)
    negotiation_days: int = Field(default=14, ge=1)
    plan_wait_days: int = Field(default=14, ge=1)  # longest wait between two plan events
    plan_reminder_days_before: int = Field(default=3, ge=0)
    plan_progress_every_days: int = Field(default=14, ge=1)
    broken_promise_grace_days: int = Field(default=3, ge=0)
    renegotiations_allowed: int = Field(default=1, ge=0)
    complaint_resolution_days: int = Field(default=15, ge=1)
    # a Standard execution lives at most 365 days: a plan's execution hands over to a new one after this
    continue_after_days: int = Field(default=330, ge=1, le=345)
    promise_max_days: int = Field(default=30, ge=1, le=180)  # how far ahead a promise to pay may be dated
    promise_grace_days: int = Field(default=3, ge=0, le=30)  # after the promised date, before it counts as broken
    escalation: Escalation = Escalation()
    escalation_by_product: dict[str, Escalation] = Field(default_factory=dict)  # a loan's product overrides
    # the sharded sparse indexes (loans due soon / overdue; cases waiting for a date; outbox)
    index_shards: int = Field(default=16, ge=1, le=256)
    # Lambda reserved concurrency; None sizes it from the shards: the scan runs a due-index and a wake-up
    # invocation per shard (and the scheduled one that fans out), the dispatcher one per shard (and the tick)
    scan_reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)
    dispatcher_reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)
    # operations
    log_retention_days: Literal[30, 60, 90, 180, 365, 731, 1827, 3653] = 365
    # the workbench's Cognito hosted-UI domain prefix (unique in the region; default "<prefix>-staff"),
    # and the CloudFront web ACL (it lives in us-east-1: created by the stack only when deployed there)
    login_domain_prefix: str | None = Field(default=None, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    site_web_acl_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$"
    )
    api_rate_limit: int = Field(default=50, ge=1)
    api_burst_limit: int = Field(default=100, ge=1)
    start_executions_per_second: int = Field(default=40, ge=1)  # under the StartExecution quota
    alarm_email: str | None = None
    # a deployment outside development pages someone: ``alarm_email``, or this named opt-out saying who
    # hears the alarms instead (for example the bank's paging system subscribed to the internal topic)
    alarms_routed_elsewhere: str | None = Field(default=None, min_length=10, max_length=300)
    # the IAM role the bank's payment feed assumes: the only principal admitted to the IAM-signed routes
    # (payments, a customer's plan acceptance through the bank's channel)
    payment_feed_role_name: str = Field(default="dueflow-payment-feed", pattern=r"^[\w+=,.@-]{1,64}$")
    # the one role that may schedule the deletion of, or disable, the audit key (docs/security.md)
    break_glass_role_name: str = Field(default="dueflow-break-glass", pattern=r"^[\w+=,.@-]{1,64}$")
    alarms: AlarmThresholds = AlarmThresholds()
    report_language: Literal["zh-CN", "en"] = "zh-CN"  # the simulation report's language (--lang overrides)
    # the rule pack of every loan that names none (docs/rules.md); when not given, the jurisdiction table
    # below chooses one from the loan's currency and its customer's country
    rule_pack: Literal["cn", "us"] | None = None
    jurisdiction_packs: tuple[JurisdictionPack, ...] = tuple(
        JurisdictionPack(currency=c, country=k, pack=p) for c, k, p in DEFAULT_JURISDICTIONS
    )
    # refuse a loan that maps to no pack (book validate, book load, the API) instead of running it on
    # contractual dates and the engine's defaults
    require_rule_pack: bool = False
    # the workbench queues' order, most important first: a promise falling due today, a call allowed now
    # in the customer's zone, amount overdue x days past due (also: "amount", "dpd")
    # who works new cases (the workbench): none assigns nothing, a supervisor assigns by hand
    assignment_rules: tuple[AssignmentRule, ...] = ()
    queue_priority: tuple[Literal["promise_due_today", "contact_open_now", "amount_x_dpd", "amount", "dpd"], ...] = (
        "promise_due_today",
        "contact_open_now",
        "amount_x_dpd",
    )
    penalty_rate_multiplier: Decimal = Decimal("1.5")

    def pack_selection(self) -> PackSelection:
        """How a loan naming no rule pack gets one (the stores, book validate and simulate use it)."""
        return PackSelection(
            fixed=self.rule_pack,
            table=tuple((row.currency, row.country, row.pack) for row in self.jurisdiction_packs),
            required=self.require_rule_pack,
        )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be 2-20 lowercase letters, digits or '-', starting with a letter")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"not an AWS region name: {value!r}")
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT.match(value):
            raise ValueError("must be a 12-digit AWS account id")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not known_time_zone(value):
            raise ValueError(f"unknown IANA time zone {value[:40]!r}")
        return value

    @model_validator(mode="after")
    def _residency(self) -> Settings:
        if self.customer_data_regions and self.region not in self.customer_data_regions:
            raise ValueError(
                f"region {self.region} is not one of customer_data_regions {list(self.customer_data_regions)}: "
                "customer data may not be kept there"
            )
        return self

    @model_validator(mode="after")
    def _window(self) -> Settings:
        if self.contact_window_start >= self.contact_window_end:
            raise ValueError("contact_window_start must be before contact_window_end")
        if self.max_contacts_per_day > self.max_contacts_per_7_days:
            raise ValueError("max_contacts_per_day cannot exceed max_contacts_per_7_days")
        return self

    @property
    def scan_concurrency(self) -> int:
        return self.scan_reserved_concurrency or 2 * self.index_shards + 1

    @property
    def dispatcher_concurrency(self) -> int:
        return self.dispatcher_reserved_concurrency or self.index_shards + 1

    def escalation_for(self, product: str | None) -> Escalation:
        """The escalation thresholds of a loan's product (the defaults when it has none of its own)."""
        return self.escalation_by_product.get(product or "", self.escalation)

    @property
    def login_domain(self) -> str:
        """The Cognito hosted UI's domain prefix of the workbench."""
        return self.login_domain_prefix or f"{self.prefix}-staff"

    @property
    def prefix(self) -> str:
        """Name prefix of every resource of this deployment (``dueflow-dev``)."""
        return f"dueflow-{self.environment}"

    def is_payment_feed(self, caller_arn: str) -> bool:
        """Is ``caller_arn`` (API Gateway's ``userArn`` of an IAM-signed call) the payment-feed role,
        directly or as an assumed-role session?"""
        parts = caller_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
            return False
        path = parts[5].split("/")
        if parts[2] == "sts":
            return len(path) == 3 and path[0] == "assumed-role" and path[1] == self.payment_feed_role_name
        return len(path) >= 2 and path[0] == "role" and path[-1] == self.payment_feed_role_name

    def to_env(self) -> str:
        """The JSON handed to Lambdas in ``DUEFLOW_SETTINGS``."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``DUEFLOW_SETTINGS`` (defaults when it is not set)."""
        raw = (environ if environ is not None else os.environ).get(ENV_VAR)
        return cls.model_validate_json(raw) if raw else cls()

    def on_call_problem(self) -> str | None:
        """Why this deployment's alarms would reach no one, or None: outside ``dev`` an on-call address
        (``alarm_email``) or a named opt-out (``alarms_routed_elsewhere``) is required."""
        if self.environment == "dev" or self.alarm_email or self.alarms_routed_elsewhere:
            return None
        return (
            f"environment {self.environment!r}: its alarms would reach no one; set alarm_email (the on-call "
            "address subscribed to the internal topic) or alarms_routed_elsewhere (who hears them instead) in "
            f"cdk.json's dueflow.environments.{self.environment}"
        )

    @classmethod
    def from_context(cls, context: dict[str, Any] | None, environment: str | None = None) -> Settings:
        """Settings from the CDK context value ``dueflow``: ``{"defaults": {...}, "environments":
        {"prod": {...}}}``; the chosen environment's values override the defaults."""
        context = context or {}
        values: dict[str, Any] = dict(context.get("defaults", {}))
        name = environment or values.get("environment", "dev")
        overrides = context.get("environments", {}).get(name, {})
        values.update(overrides)
        values["environment"] = name
        return cls.model_validate(values)

    def describe(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)
