"""Customer-managed KMS keys, one per kind of data, all rotated yearly."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from dueflow.settings import Settings


class Keys(Construct):
    """``data``: tables, queues, topics and logs; ``pii``: field-level envelope encryption of customer
    contact details and income (only the functions that contact customers may decrypt); ``audit``: the
    Object Lock audit store."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.data = self._key("DataKey", settings, "tables, queues, topics and logs")
        self.pii = self._key("PiiKey", settings, "field-level encryption of customer PII")
        self.audit = self._key("AuditKey", settings, "the immutable audit store")
        # the daily audit digests are signed with an asymmetric key whose private half never leaves KMS
        # (asymmetric keys are not rotated by KMS: a new key is a new verification key to publish)
        self.signing = kms.Key(
            self,
            "SigningKey",
            alias=f"alias/{settings.prefix}/audit-signing",
            description=f"DueFlow {settings.environment}: signs the daily audit digests",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Locked records are readable only while their key lives: no one but the named break-glass role
        # may schedule the audit keys' deletion or disable them (not the account root, not the deployer)
        break_glass = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{settings.break_glass_role_name}"
        for key in (self.audit, self.signing):
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="OnlyBreakGlassMayDeleteOrDisable",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["kms:ScheduleKeyDeletion", "kms:DisableKey"],
                    resources=["*"],
                    conditions={"StringNotEquals": {"aws:PrincipalArn": break_glass}},
                )
            )
        # CloudWatch Logs encrypts the log groups of this deployment with the data key.
        logs_arn = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        self.data.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
            )
        )

    def _key(self, construct_id: str, settings: Settings, purpose: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            alias=f"alias/{settings.prefix}/{construct_id.removesuffix('Key').lower()}",
            description=f"DueFlow {settings.environment}: {purpose}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
