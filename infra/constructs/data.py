"""DynamoDB tables: loans, cases, the message outbox and the Powertools idempotency store.

The daily identification never reads the whole loan table. Each active loan carries ``due_shard`` (one of
``index_shards`` values, from a hash of its id) and ``next_due_date`` (the due date of its oldest unpaid
installment); the ``due-index`` holds only loans that have them (paid-off loans drop the attributes), and
the scan asks each shard for ``next_due_date <= as_of + due_soon_days``: exactly the loans that are due
soon or overdue. Cases waiting for a date and messages waiting to be sent are found the same way
(``wake-index``, ``pending-index``), so no query ever hits one hot partition.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from dueflow.settings import Settings

S = dynamodb.AttributeType.STRING

DUE_INDEX = "due-index"
LOAN_INDEX = "loan-index"
WAKE_INDEX = "wake-index"
PENDING_INDEX = "pending-index"


def _index(
    name: str, partition: str, sort: str, projection: dynamodb.ProjectionType
) -> dynamodb.GlobalSecondaryIndexPropsV2:
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=name,
        partition_key=dynamodb.Attribute(name=partition, type=S),
        sort_key=dynamodb.Attribute(name=sort, type=S),
        projection_type=projection,
    )


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._key = key
        self.loans = self._table(
            "Loans",
            "loans",
            "loan_id",
            # a posted payment reaches the stream handler at once and can cure a case
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            indexes=[_index(DUE_INDEX, "due_shard", "next_due_date", dynamodb.ProjectionType.ALL)],
        )
        self.cases = self._table(
            "Cases",
            "cases",
            "case_id",
            indexes=[
                _index(LOAN_INDEX, "loan_id", "opened_on", dynamodb.ProjectionType.KEYS_ONLY),
                _index(WAKE_INDEX, "wake_shard", "wake_on", dynamodb.ProjectionType.KEYS_ONLY),
            ],
        )
        self.outbox = self._table(
            "Outbox",
            "outbox",
            "message_id",
            indexes=[_index(PENDING_INDEX, "pending_shard", "not_before", dynamodb.ProjectionType.KEYS_ONLY)],
            ttl="expires_at",
        )
        self.idempotency = self._table("Idempotency", "idempotency", "id", ttl="expiration")

    def _table(
        self,
        construct_id: str,
        name: str,
        partition: str,
        *,
        indexes: list[dynamodb.GlobalSecondaryIndexPropsV2] | None = None,
        stream: dynamodb.StreamViewType | None = None,
        ttl: str | None = None,
    ) -> dynamodb.TableV2:
        """A table with what every DueFlow table has: on-demand, the customer-managed key,
        point-in-time recovery, deletion protection, retained when the stack is deleted."""
        return dynamodb.TableV2(
            self,
            construct_id,
            table_name=f"{self._settings.prefix}-{name}",
            partition_key=dynamodb.Attribute(name=partition, type=S),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self._key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            dynamo_stream=stream,
            global_secondary_indexes=indexes,
            time_to_live_attribute=ttl,
        )

    @property
    def tables(self) -> list[dynamodb.TableV2]:
        return [self.loans, self.cases, self.outbox, self.idempotency]
