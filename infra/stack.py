"""The DueFlow stack: assembles one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, Tags
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from dueflow.settings import Settings
from infra.constructs.api import Api
from infra.constructs.audit import AuditStore
from infra.constructs.compute import Compute
from infra.constructs.data import Data
from infra.constructs.identity import Identity
from infra.constructs.keys import Keys
from infra.constructs.messaging import Messaging
from infra.constructs.observability import Observability
from infra.constructs.schedules import Schedules
from infra.constructs.site import Site
from infra.constructs.workflow import Workflow


class DueFlowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        Tags.of(self).add("application", "dueflow")
        Tags.of(self).add("environment", settings.environment)
        self.keys = Keys(self, "Keys", settings=settings)
        self.data = Data(self, "Data", settings=settings, key=self.keys.data)
        self.audit = AuditStore(self, "Audit", settings=settings, key=self.keys.audit)
        self.messaging = Messaging(self, "Messaging", settings=settings, key=self.keys.data)
        self.identity = Identity(self, "Identity", settings=settings)
        self.compute = Compute(
            self,
            "Compute",
            settings=settings,
            keys=self.keys,
            data=self.data,
            audit=self.audit,
            messaging=self.messaging,
        )
        fns = self.compute.functions
        self.workflow = Workflow(
            self,
            "Workflow",
            settings=settings,
            stage=fns["case_stage"],
            wait=fns["case_wait"],
            ended=fns["execution_ended"],
            dead_letters=self.compute.dlq,
            key=self.keys.data,
        )
        fns["payment_stream"].add_event_source(
            sources.DynamoEventSource(
                self.data.loans,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=100,
                bisect_batch_on_error=True,
                retry_attempts=5,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.compute.dlq),
            )
        )
        self.schedules = Schedules(
            self,
            "Schedules",
            settings=settings,
            scan=fns["scan"],
            dispatcher=fns["outbox_dispatcher"],
            key=self.keys.data,
        )
        self.site = Site(
            self, "Site", settings=settings, user_pool=self.identity.user_pool, access_logs=self.audit.access_logs
        )
        fns["api"].add_environment("SITE_ORIGIN", self.site.origin)  # the page's origin: CORS admits it alone
        self.api = Api(
            self,
            "Api",
            settings=settings,
            handler=fns["api"],
            user_pool=self.identity.user_pool,
            key=self.keys.data,
            site_origin=self.site.origin,
        )
        self.site.publish(self.api.rest_api.url)
        self.observability = Observability(
            self,
            "Observability",
            settings=settings,
            functions=fns,
            state_machine=self.workflow.state_machine,
            queues={
                "invocations": self.compute.dlq,
                "schedules": self.schedules.dead_letters,
                **({"notices": self.messaging.undelivered} if self.messaging.undelivered else {}),
            },
            alarm_topic=self.messaging.internal,
        )
