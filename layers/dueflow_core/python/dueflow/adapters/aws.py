"""The AWS world: every port on its AWS service, built from the deployed resources' names."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from dueflow.adapters.audit_store import S3AuditStore
from dueflow.adapters.case_repository import CaseRepository
from dueflow.adapters.loan_repository import LoanRepository
from dueflow.adapters.messaging import AwsNotifier
from dueflow.adapters.outbox import Outbox
from dueflow.adapters.pii import KmsKeys, KmsSigner, PiiCipher
from dueflow.adapters.step_functions import StepFunctionsWorkflow
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
    signing_key_arn: str = ""  # the audit digests' signing key (KMS asymmetric)
    audit_reader: bool = True  # may read audit records back (in AWS only the API function)
    # the tables' names: CloudFormation names the retained tables (a fixed name would block a redeploy
    # after a failed first create); "" means ``<prefix>-loans`` and so on (the local runtime)
    loans_table: str = ""
    cases_table: str = ""
    outbox_table: str = ""

    def table(self, settings: Settings, kind: str) -> str:
        return str(getattr(self, f"{kind}_table")) or f"{settings.prefix}-{kind}"

    @classmethod
    def from_env(cls) -> Resources:
        return cls(
            audit_bucket=os.environ["AUDIT_BUCKET"],
            pii_key_arn=os.environ["PII_KEY_ARN"],
            state_machine_arn=os.environ["STATE_MACHINE_ARN"],
            internal_topic_arn=os.environ["INTERNAL_TOPIC_ARN"],
            email_configuration_set=os.environ["EMAIL_CONFIGURATION_SET"],
            signing_key_arn=os.environ.get("SIGNING_KEY_ARN", ""),
            audit_reader=os.environ.get("AUDIT_READER", "true") == "true",
            loans_table=os.environ.get("LOANS_TABLE", ""),
            cases_table=os.environ.get("CASES_TABLE", ""),
            outbox_table=os.environ.get("OUTBOX_TABLE", ""),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "AUDIT_BUCKET": self.audit_bucket,
            "PII_KEY_ARN": self.pii_key_arn,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            "INTERNAL_TOPIC_ARN": self.internal_topic_arn,
            "EMAIL_CONFIGURATION_SET": self.email_configuration_set,
            "SIGNING_KEY_ARN": self.signing_key_arn,
            "AUDIT_READER": "true" if self.audit_reader else "false",
            "LOANS_TABLE": self.loans_table,
            "CASES_TABLE": self.cases_table,
            "OUTBOX_TABLE": self.outbox_table,
        }


def aws_services(settings: Settings, resources: Resources, client: Callable[[str], Any]) -> Any:
    """The ``Services`` of the AWS world. ``client(service_name)`` makes a boto3 client (a real one in
    Lambda, a moto one locally)."""
    from dueflow.services.context import Services

    ddb = client("dynamodb")
    sns = client("sns")
    kms = client("kms")
    pii = PiiCipher(KmsKeys(kms, resources.pii_key_arn))
    return Services(
        settings=settings,
        loans=LoanRepository(
            ddb, resources.table(settings, "loans"), settings.index_shards, pii, settings.pack_selection()
        ),
        cases=CaseRepository(ddb, resources.table(settings, "cases"), settings.index_shards),
        outbox=Outbox(ddb, resources.table(settings, "outbox"), settings.index_shards),
        audit_store=S3AuditStore(client("s3"), resources.audit_bucket, reader=resources.audit_reader),
        workflow=StepFunctionsWorkflow(client("stepfunctions"), resources.state_machine_arn),
        notifier=AwsNotifier(
            sns, client("sesv2"), resources.internal_topic_arn, settings.sender_email, resources.email_configuration_set
        ),
        pii=pii,
        signer=KmsSigner(kms, resources.signing_key_arn),
    )


def services_from_env() -> Any:
    """The AWS world of a Lambda container, from its environment."""
    import boto3

    settings = Settings.from_env()
    return aws_services(
        settings,
        Resources.from_env(),
        lambda name: boto3.client(name, region_name=settings.region, config=SDK_CONFIG),
    )
