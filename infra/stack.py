"""The DueFlow stack: assembles one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, Tags
from constructs import Construct

from dueflow.settings import Settings
from infra.constructs.audit import AuditStore
from infra.constructs.data import Data
from infra.constructs.identity import Identity
from infra.constructs.keys import Keys
from infra.constructs.messaging import Messaging


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
