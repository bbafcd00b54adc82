"""Builds the CDK app from settings, with cdk-nag's AWS Solutions and Serverless packs attached.

``app.py`` calls it for ``cdk synth``; tests call it to assert on the synthesized template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from dueflow.settings import Settings
from infra.acknowledgements import acknowledge
from infra.stack import DueFlowStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def project_context() -> dict[str, Any]:
    """The context of cdk.json, so that ``python app.py`` and tests see what ``cdk synth`` sees."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[App, DueFlowStack]:
    """The app and its one stack. ``context`` overrides cdk.json's context (the CDK CLI passes its own
    through the environment as well); ``-c env=prod`` picks an environment's settings."""
    app = App(context=project_context() | (context or {}), outdir=outdir)
    settings = Settings.from_context(app.node.try_get_context("dueflow"), app.node.try_get_context("env"))
    problem = settings.on_call_problem()
    if problem:
        raise ValueError(problem)  # refused before anything is synthesized: alarms must page someone
    stack = DueFlowStack(
        app,
        f"DueFlow-{settings.environment}",
        settings=settings,
        env=Environment(account=settings.account, region=settings.region),
        description=f"DueFlow overdue-loan collection ({settings.environment})",
    )
    acknowledge(stack)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app, stack
