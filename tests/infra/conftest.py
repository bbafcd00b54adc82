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
    return synth({"env": "prod"})
