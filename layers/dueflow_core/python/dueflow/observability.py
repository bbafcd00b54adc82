"""Business metrics the operations dashboard shows (CloudWatch namespace ``DueFlow``, EMF via Powertools).

Names and dimensions here are the contract with infra/constructs/observability.py."""

from __future__ import annotations

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "DueFlow"


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count metric (nothing when ``value`` is 0)."""
    if value <= 0 or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
