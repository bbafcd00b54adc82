"""Synthesize the stack once per test session (jsii start-up and synthesis take seconds)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from aws_cdk.assertions import Template

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.app_builder import build_app
from infra.stack import DueFlowStack


def synth(context: dict[str, Any] | None = None) -> tuple[DueFlowStack, Template]:
    _, stack = build_app(context)
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="session")
def dev() -> tuple[DueFlowStack, Template]:
    return synth()


@pytest.fixture(scope="session")
def template(dev: tuple[DueFlowStack, Template]) -> Template:
    return dev[1]


@pytest.fixture(scope="session")
def prod() -> tuple[DueFlowStack, Template]:
    """prod as cdk.json has it, with the alarms' route a bank names at its first deploy."""
    return synth({"env": "prod", "dueflow": with_prod(alarms_routed_elsewhere=ROUTED)})


ROUTED = "the bank's paging system, subscribed to the internal topic"


def with_prod(**values: Any) -> dict[str, Any]:
    """The cdk.json context of this clone with ``values`` added to prod's."""
    import json

    from infra.app_builder import CDK_JSON

    context = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]["dueflow"]
    environments = context["environments"]
    return {**context, "environments": {**environments, "prod": {**environments["prod"], **values}}}
