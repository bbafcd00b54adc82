"""Observability, created once and imported by every handler: the logger, business metrics, and the
correlation id that follows a case across Lambdas.

- ``logger``: Powertools Logger (JSON lines). Its service is the function's (``POWERTOOLS_SERVICE_NAME``,
  set per function by infra/constructs/compute.py); ``correlate`` stamps every line of an invocation
  with the case id (the correlation id) so a case's stage, wait, stream and API lines read as one story.
  Nothing with PII is ever logged (a test scans the logs).
- ``count``: business metrics the operations dashboard shows (CloudWatch namespace ``DueFlow``, EMF via
  Powertools). Names and dimensions here are the contract with infra/constructs/observability.py.
- Tracing: X-Ray is on for every function and the state machine (infra), which traces each invocation
  and each AWS call's segment from the Lambda service. Powertools Tracer is not used: importing it loads
  the X-Ray SDK (about 250 ms here, more than importing boto3), against the cold-start budget.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "DueFlow"

logger = Logger()


def correlate(case_id: str | None, **keys: str | None) -> None:
    """Make ``case_id`` the correlation id of this invocation's log lines (with any other ``keys``)."""
    if case_id:
        logger.set_correlation_id(case_id)
    logger.append_keys(case_id=case_id, **keys)


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count metric (nothing when ``value`` is 0)."""
    if value <= 0 or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
