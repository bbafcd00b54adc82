"""Everything a service needs, built once per Lambda container (or once per local runtime)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from dueflow.adapters.audit_store import S3AuditStore
from dueflow.adapters.case_repository import CaseRepository
from dueflow.adapters.loan_repository import LoanRepository
from dueflow.adapters.outbox import Outbox
from dueflow.adapters.pii import PiiCipher
from dueflow.settings import Settings

# Every AWS client: botocore's standard retry mode (throttling and 5xx retried with jittered exponential
# backoff, a client-side retry quota), three attempts in all; a call that fails them all reaches the
# handler, whose work is safe to run again.
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3})


@dataclass
class Resources:
    """Names and ARNs of the deployed resources (environment variables in Lambda)."""

    audit_bucket: str
    pii_key_arn: str
    state_machine_arn: str
    internal_topic_arn: str
    email_configuration_set: str

    @classmethod
    def from_env(cls) -> Resources:
        return cls(
            audit_bucket=os.environ["AUDIT_BUCKET"],
            pii_key_arn=os.environ["PII_KEY_ARN"],
            state_machine_arn=os.environ["STATE_MACHINE_ARN"],
            internal_topic_arn=os.environ["INTERNAL_TOPIC_ARN"],
            email_configuration_set=os.environ["EMAIL_CONFIGURATION_SET"],
        )

    def to_env(self) -> dict[str, str]:
        return {
            "AUDIT_BUCKET": self.audit_bucket,
            "PII_KEY_ARN": self.pii_key_arn,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            "INTERNAL_TOPIC_ARN": self.internal_topic_arn,
            "EMAIL_CONFIGURATION_SET": self.email_configuration_set,
        }


@dataclass
class Services:
    settings: Settings
    resources: Resources
    clients: dict[str, Any]
    loans: LoanRepository
    cases: CaseRepository
    outbox: Outbox
    audit_store: S3AuditStore
    pii: PiiCipher

    @classmethod
    def build(cls, settings: Settings, resources: Resources, client: Any) -> Services:
        """``client(service_name)`` makes a boto3 client (a real one in Lambda, a moto one locally)."""
        clients = {name: client(name) for name in ("dynamodb", "s3", "kms", "stepfunctions", "sns", "sesv2")}
        prefix = settings.prefix
        pii = PiiCipher(clients["kms"], resources.pii_key_arn)
        return cls(
            settings=settings,
            resources=resources,
            clients=clients,
            loans=LoanRepository(clients["dynamodb"], f"{prefix}-loans", settings.index_shards, pii),
            cases=CaseRepository(clients["dynamodb"], f"{prefix}-cases", settings.index_shards),
            outbox=Outbox(clients["dynamodb"], f"{prefix}-outbox", settings.index_shards),
            audit_store=S3AuditStore(clients["s3"], resources.audit_bucket),
            pii=pii,
        )

    @classmethod
    def from_env(cls) -> Services:
        import boto3

        settings = Settings.from_env()
        return cls.build(
            settings,
            Resources.from_env(),
            lambda name: boto3.client(name, region_name=settings.region, config=SDK_CONFIG),
        )


_default: Services | None = None


def default_services() -> Services:
    """The container's Services, built on first use from the environment (handlers call this)."""
    global _default  # noqa: PLW0603 - one per Lambda container, reused across invocations
    if _default is None:
        _default = Services.from_env()
    return _default


def reset_default_services() -> None:
    """Forget the cached Services (the local runtime calls this when it starts a new world)."""
    global _default  # noqa: PLW0603
    _default = None
