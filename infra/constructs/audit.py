"""The immutable audit store: S3 with Object Lock in COMPLIANCE mode, SSE-KMS, access-logged."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dueflow.settings import Settings


class AuditStore(Construct):
    """Every notice, reply, negotiation and legal document of a case is one locked object under
    ``cases/<loan_id>/<case_id>/<seq>-<type>.json``; nobody, root included, can delete or overwrite a
    version before the retention ends."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logging delivers only to SSE-S3
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365 * settings.audit_retention_years + 365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Records",
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(
                Duration.days(365 * settings.audit_retention_years)
            ),
            versioned=True,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="audit-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(settings.audit_infrequent_access_after_days),
                        )
                    ]
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        records = [self.bucket.arn_for_objects("cases/*"), self.bucket.arn_for_objects("digests/*")]
        # Object Lock keeps every version; these keep the *current* record the original one too:
        # a write must be conditional (If-None-Match: *, so it cannot replace an existing record with a
        # new version), and no one may put a delete marker over a record.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AuditRecordsAreWrittenOnce",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=records,
                conditions={"Null": {"s3:if-none-match": "true"}},
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AuditRecordsAreNeverDeleted",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=records,
            )
        )
