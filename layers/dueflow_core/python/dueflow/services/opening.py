"""Opening a case for a newly overdue loan: the case item, its execution, its first audit record."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from dueflow import clock
from dueflow.domain.case import Case, case_id_for, execution_name
from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt
from dueflow.domain.position import Position
from dueflow.ports import ExecutionAlreadyExists
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.sharding import shard_of
from dueflow.workflow.definition import CONFIRM


def open_case(
    services: Services,
    loan: Loan,
    position: Position,
    episode: int = 1,
    case_id: str | None = None,
    opened_on: date | None = None,
) -> bool:
    """Open the loan's ``episode``-th case for an overdue loan and start its execution; False if it was
    open already. Safe to run again: the case is created once, the execution started once (by name).
    ``opened_on``: the bank's business date of the scan (the position is taken on the loan's own
    calendar, which may be a day behind)."""
    case_id = case_id or case_id_for(loan.loan_id, position, episode)
    created = services.cases.create(
        Case(
            case_id=case_id,
            loan_id=loan.loan_id,
            episode=episode,
            customer_id=loan.customer_id,
            opened_on=opened_on or position.as_of,
            dpd_at_open=position.dpd,
            total_overdue_at_open=position.total_overdue,
            currency=loan.currency,
            open_shard=shard_of(case_id, services.settings.index_shards),
        )
    )
    if created or (services.cases.require(case_id).limitation_started_on is None):
        from dueflow.services import limitation  # on first use: not in every cold start

        limitation.start(services, case_id, loan, position.as_of - timedelta(days=position.dpd))
    with contextlib.suppress(ExecutionAlreadyExists):  # started by an earlier run of the scan
        payload = {"case_id": case_id, "loan_id": loan.loan_id, "resume_at": CONFIRM}
        execution = services.workflow.start(execution_name(case_id), payload)
        services.cases.update(case_id, {"execution_arn": execution})
    audit_log.append(
        services,
        case_id,
        "case_opened",
        clock.now(),  # the moment the case is opened: before every record that follows it
        {"dpd": position.dpd, "bucket": position.bucket, "total_overdue": fmt(position.total_overdue)},
        dedupe="opened",
    )
    if services.settings.assignment_rules and (created or services.cases.require(case_id).assigned_to is None):
        auto_assign(services, case_id, loan, position)
    return created


def auto_assign(services: Services, case_id: str, loan: Loan, position: Position) -> str | None:
    """The settings' assignment rules: the first matching the case's bucket and the customer's language
    gives it to its agent with the fewest open cases (ties: the first named). On the case's record."""
    language = loan.customer.language if loan.customer else "zh-CN"
    rule = next((r for r in services.settings.assignment_rules if r.matches(position.bucket, language)), None)
    if rule is None:
        return None
    sizes = {agent: services.cases.queue_size(agent) for agent in rule.agents}
    agent = min(rule.agents, key=lambda a: (sizes[a], rule.agents.index(a)))
    services.cases.update(case_id, {"assigned_to": agent, "queue_of": agent}, expect={"status": "OPEN"})
    audit_log.append(
        services, case_id, "case_assigned", clock.now(),
        {"to": agent, "from": None, "by": "assignment rules", "open_cases_before": sizes[agent]},
        dedupe="assigned:auto",
    )  # fmt: skip
    return agent
