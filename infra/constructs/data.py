"""DynamoDB tables: loans, cases and the message outbox.

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

from dueflow.adapters.schema import CASES, LOANS, OUTBOX, TableSpec
from dueflow.settings import Settings

S = dynamodb.AttributeType.STRING
PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._key = key
        # a posted payment reaches the stream handler at once and can cure a case (LOANS.stream)
        self.loans = self._table(LOANS)
        self.cases = self._table(CASES)
        self.outbox = self._table(OUTBOX)

    def _table(self, spec: TableSpec) -> dynamodb.TableV2:
        """A table as ``spec`` declares it, with what every DueFlow table has: on-demand, the
        customer-managed key, point-in-time recovery, deletion protection, retained on stack deletion."""
        return dynamodb.TableV2(
            self,
            spec.logical,
            partition_key=dynamodb.Attribute(name=spec.partition, type=S),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self._key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(name=index.partition, type=S),
                    sort_key=dynamodb.Attribute(name=index.sort, type=S),
                    projection_type=PROJECTIONS[index.projection],
                )
                for index in spec.indexes
            ]
            or None,
            time_to_live_attribute=spec.ttl,
        )

    @property
    def tables(self) -> list[dynamodb.TableV2]:
        return [self.loans, self.cases, self.outbox]
