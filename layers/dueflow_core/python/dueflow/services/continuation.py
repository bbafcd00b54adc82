"""A case that goes on in a new execution: a Step Functions Standard execution lives at most a year, so a
long plan's execution hands over to a new one (``Follow up plan`` after ``continue_after_days``); and an
execution that ended while its case is open (an answer found its task gone) is replaced by one that
re-enters the state the case was waiting in, where it is re-evaluated at once. The case id, its record
and its audit chain stay the same; only the execution is new (``continuation_name``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case, continuation_name
from dueflow.ports import ExecutionAlreadyExists
from dueflow.services import audit_log
from dueflow.services.context import Services


def current_number(case: Case, execution: str | None = None) -> int:
    """Which of the case's executions ``execution`` (a name; the case's current one by default) is."""
    name = execution or (case.execution_arn or "").rsplit(":", 1)[-1]
    for number in range(case.continuations + 2):
        if continuation_name(case.case_id, number) == name:
            return number
    return case.continuations


def continue_case(
    services: Services,
    case: Case,
    resume_at: str,
    execution: str | None = None,
    also: Mapping[str, Any] | None = None,
) -> str:
    """Start the execution that follows ``execution`` (the case's current one by default), beginning at
    ``resume_at``; its name. Safe to run again: the next name follows from the current one, and
    StartExecution of a running execution with the same input is a success."""
    number = current_number(case, execution) + 1
    name = continuation_name(case.case_id, number)
    payload = {"case_id": case.case_id, "loan_id": case.loan_id, "resume_at": resume_at}
    # ``also``: attributes written with the new execution's (a restart's counters), so that they change
    # exactly when the case moves to it
    update: dict[str, object] = {"continuations": max(case.continuations, number), **(also or {})}
    try:
        update["execution_arn"] = services.workflow.start(name, payload)
    except ExecutionAlreadyExists:
        # started by an earlier attempt of this hand-over, which stopped before it recorded it (and the
        # execution has ended since, or it would have answered as started): the case names it now, so
        # that a restart replaces it rather than trying its name again
        if case.execution_arn:
            update["execution_arn"] = f"{case.execution_arn.rsplit(':', 1)[0]}:{name}"
    services.cases.update(case.case_id, update)
    audit_log.append(
        services,
        case.case_id,
        "execution_continued",
        clock.now(),
        {"execution": name, "resume_at": resume_at},
        dedupe=f"continued:{number}",
    )
    return name
