"""Observability, created once and imported by every handler: the logger, business metrics, and the
correlation id that follows a case across Lambdas.

- ``logger``: Powertools Logger (JSON lines). Its service is the function's (``POWERTOOLS_SERVICE_NAME``,
  set per function by infra/constructs/compute.py); ``correlate`` stamps every line of an invocation
  with the case id (the correlation id) so a case's stage, wait, stream and API lines read as one story.
  Nothing with PII is ever logged (a test scans the logs).
- ``count`` and ``gauge``: business metrics the operations dashboard and alarms read (CloudWatch namespace
  ``DueFlow``, EMF via Powertools). ``METRICS`` is the contract with infra/constructs/observability.py:
  each metric, the function that emits it and its dimensions. Powertools adds the function's service
  (``service_name``) as a dimension of every metric, so the dashboard and alarms query with it too, and
  a test runs the handlers, captures the EMF they print and checks every metric the template reads.
- Tracing: X-Ray is on for every function and the state machine (infra), which traces each invocation
  and each AWS call's segment from the Lambda service. Powertools Tracer is not used: importing it loads
  the X-Ray SDK (about 250 ms here, more than importing boto3), against the cold-start budget.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "DueFlow"

#: metric name -> (the function that emits it, its dimension names besides ``service``)
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CasesOpened": ("scan", ()),
    "CasesWoken": ("scan", ()),
    "CasesParkedPastWake": ("scan", ()),
    "ComplaintsPastDeadline": ("scan", ()),
    "CasesRestartedByScan": ("scan", ()),
    "CasesRestarted": ("execution_ended", ()),
    "CasesClosed": ("case_stage", ("Outcome",)),
    "StageEntered": ("case_stage", ("Stage",)),
    "MessagesSent": ("outbox_dispatcher", ("Channel",)),
    "MessagesDeferred": ("outbox_dispatcher", ()),
    "MessagesDropped": ("outbox_dispatcher", ()),
    "MessagesUnconfirmed": ("outbox_dispatcher", ()),
    "MessagesRefused": ("outbox_dispatcher", ("Channel",)),
    "OutboxOldestPendingMinutes": ("outbox_dispatcher", ()),
}


def service_name(prefix: str, function: str) -> str:
    """The Powertools service of a deployed function (``dueflow-prod-scan``): a log line's ``service``
    and every metric's ``service`` dimension, so two environments in one account never mix."""
    return f"{prefix}-{function}"


logger = Logger()


def lambda_logging(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Every handler's logging: Powertools' Lambda context on each line, state cleared per invocation,
    and the function's service as deployed (``POWERTOOLS_SERVICE_NAME``; the local runtime sets it per
    invocation, as each function's environment does on Lambda)."""

    @functools.wraps(handler)
    def with_service(event: Any, context: Any) -> Any:
        service = os.environ.get("POWERTOOLS_SERVICE_NAME")
        if service and service != logger.service:
            logger.append_keys(service=service)
        return handler(event, context)

    return logger.inject_lambda_context(log_event=False, clear_state=True)(with_service)


def correlate(case_id: str | None, **keys: str | None) -> None:
    """Make ``case_id`` the correlation id of this invocation's log lines (with any other ``keys``)."""
    if case_id:
        logger.set_correlation_id(case_id)
    logger.append_keys(case_id=case_id, **keys)


def count(name: str, value: int = 1, *, always: bool = False, **dimensions: str) -> None:
    """Emit one count metric. Nothing when ``value`` is 0, unless ``always``: a per-run total an alarm
    reads is emitted as 0 too, so the alarm sees data (OK) rather than none."""
    if value > 0 or (always and value == 0):
        _emit(name, MetricUnit.Count, value, dimensions)


def gauge(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
    """Emit one measurement (an age, a backlog) as it is now."""
    _emit(name, unit, value, {})


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    _, expected = METRICS[name]  # an unknown name is a bug: the dashboard would not see it
    if tuple(sorted(dimensions)) != tuple(sorted(expected)):
        raise ValueError(f"metric {name} takes dimensions {expected}, got {tuple(dimensions)}")
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
