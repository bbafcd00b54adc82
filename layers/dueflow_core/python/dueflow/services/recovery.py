"""A case whose execution ended without closing it goes on in a new execution, from its record.

An execution fails when a task exhausts its retries (a DynamoDB or S3 outage longer than the
``Retry`` budget), times out, or is stopped by an operator. Its case is still OPEN, so the loan would
drop out of collection: payments would wake nothing and no stage would run again. Two paths find it:

- an EventBridge rule on the state machine's "Execution Status Change" events (FAILED, TIMED_OUT,
  ABORTED) invokes ``execution_ended`` at once (``restart_ended``);
- the daily scan, as a safety net for an event that never arrived or a restart that failed too, asks
  Step Functions for the execution of every open overdue case that is not parked at a callback
  (``restart_if_ended``), and the wake-ups answer a parked case whose execution is gone the same way
  (``dueflow.services.waiting.resume``).

The new execution begins where the case's record says it was (``resume_point``): the re-evaluation of
the state it was waiting in, or the working stage (or closing) it was in, which runs again as the same
visit (``Case.resume_visit``), so its messages and audit records keep their ids and nothing is sent or
recorded twice. A case restarts at most ``MAX_RESTARTS_A_DAY`` times a day from events (a stage that
fails every time would otherwise loop); the next day's scan tries again. Each restart is on the case's
audit record (``execution_restarted``); the handlers count them (``CasesRestarted`` from events,
``CasesRestartedByScan`` from the safety net, which alarms: an event that should have come did not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case, continuation_name
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.continuation import continue_case, current_number
from dueflow.workflow.definition import CLOSED, CONFIRM, CONTINUE, FOLLOW_UP, RESUMABLE_STAGES, WAITING_STATES

ENDED = ("FAILED", "TIMED_OUT", "ABORTED")
MAX_RESTARTS_A_DAY = 3


def resume_point(case: Case) -> str:
    """Where a replacement execution begins, from the case's record (the ``resume_at`` of its input)."""
    stage = case.stage
    if stage in WAITING_STATES or stage in RESUMABLE_STAGES or stage in CLOSED.values():
        return stage
    if stage == CONTINUE:
        return FOLLOW_UP  # the hand-over is decided again there
    if case.waiting_state in WAITING_STATES:
        return case.waiting_state
    return CONFIRM  # ended before its first stage ("Opening")


@dataclass(frozen=True)
class EndedExecution:
    """An "Execution Status Change" event of the case state machine, as EventBridge delivers it."""

    case_id: str
    name: str
    status: str
    arn: str = ""

    @classmethod
    def parse(cls, event: Any) -> EndedExecution:
        """Errors name the field."""
        detail = event.get("detail") if isinstance(event, dict) else None
        if not isinstance(detail, dict):
            raise ValueError("execution event field detail: missing")
        status, name = detail.get("status"), detail.get("name")
        if status not in (*ENDED, "SUCCEEDED", "RUNNING", "PENDING_REDRIVE"):
            raise ValueError(f"execution event field detail.status: {str(status)[:20]!r} is not a status")
        if not isinstance(name, str) or not name:
            raise ValueError("execution event field detail.name: missing")
        try:
            payload = json.loads(detail.get("input") or "")
        except (TypeError, ValueError):
            raise ValueError("execution event field detail.input: not the JSON of a case execution") from None
        case_id = payload.get("case_id") if isinstance(payload, dict) else None
        if not isinstance(case_id, str) or not case_id:
            raise ValueError("execution event field detail.input: no case_id")
        arn = detail.get("executionArn")
        return cls(case_id, name, status, arn if isinstance(arn, str) else "")


def restart_ended(services: Services, ended: EndedExecution) -> str | None:
    """The EventBridge path: replace the case's current execution if it is the one that ended and the
    case is open; the new execution's name, or None (nothing to do, or the day's restarts used up)."""
    if ended.status not in ENDED:
        return None
    case = services.cases.get(ended.case_id)
    first = case is not None and ended.name == continuation_name(case.case_id, 0)
    if case is not None and case.is_open and not case.execution_arn and ended.arn and first:
        # its first execution started, but the case never recorded it (a failure in between): it is the
        # case's execution, and it ended
        services.cases.update(case.case_id, {"execution_arn": ended.arn})
        case = services.cases.require(case.case_id)
    if case is None or not case.is_open or _current(case) != ended.name:
        return None  # closed since, or an older execution the case has already left
    today = clock.today(services.settings.time_zone)
    if case.restarted_on == today and case.restarts_that_day >= MAX_RESTARTS_A_DAY:
        return None  # failing again and again: the next scan tries (and the alarms have fired)
    return _restart(services, case, ended.status, today, "execution status change")


def restart_if_ended(services: Services, case: Case, today: date) -> str | None:
    """The scan's safety net, for an open case that is not parked at a callback: ask Step Functions
    whether its execution has ended, and replace it if so."""
    if not case.is_open or not case.execution_arn or case.task_token:
        return None
    status = services.workflow.status(case.execution_arn)
    if status not in ENDED:
        return None
    return _restart(services, case, status, today, "daily scan")


def _restart(services: Services, case: Case, status: str, today: date, found_by: str) -> str:
    """Each step is safe to repeat after a failure part-way (the trigger tries again): the case keeps
    naming the ended execution until the new one is started, and the counters change with that."""
    ended = _current(case)
    resume_at = resume_point(case)
    # a working stage or a closing runs again as the visit that failed; a waiting state re-evaluates
    replay = case.stage_visit if resume_at == case.stage and resume_at not in WAITING_STATES else None
    # the ended execution's token can never be answered: off the case, so that no payment or wake-up
    # tries it (and, finding it gone, starts yet another execution); the new execution parks afresh
    remove = ("task_token", "wake_on", "wake_shard", *(() if replay else ("resume_visit",)))
    update = {"resume_visit": replay} if replay else {}
    # only while the case still names the execution that ended: a second finder changes nothing
    if not services.cases.update(case.case_id, update, remove, expect={"execution_arn": case.execution_arn}):
        return _current(services.cases.require(case.case_id))
    audit_log.append(
        services,
        case.case_id,
        "execution_restarted",
        clock.now(),
        {"ended": ended, "status": status, "resume_at": resume_at, "found_by": found_by},
        dedupe=f"restarted:{current_number(case) + 1}",
    )
    counters = {
        "restarts": case.restarts + 1,
        "restarted_on": today.isoformat(),
        "restarts_that_day": case.restarts_that_day + 1 if case.restarted_on == today else 1,
    }
    return continue_case(services, services.cases.require(case.case_id), resume_at, ended, also=counters)


def _current(case: Case) -> str:
    return (case.execution_arn or "").rsplit(":", 1)[-1]
