"""The limitation period (诉讼时效) of each open case's claim, tracked as it goes.

The period starts when the case opens (from the date the loan's rule pack says: cn, the last
installment's due date, 民法典 第一百八十九条; us, the oldest unpaid one), earlier when an acceleration
notice makes everything due; it starts again at each interruption the pack counts (cn, 第一百九十五条: the
bank's demand, each message the provider accepted and each recorded telephone conversation; the
debtor's acknowledgement, each payment, promise to pay and accepted plan; us (New York): none, GOL 17-101).
The case carries the dates (``limitation_*``) and sits on the sparse limitation-index by the day its
warning begins (``warn_days`` before the end). The daily scan reads that index: a case whose period is
nearing its end is flagged once (a ``limitation_nearing`` record, a notice to legal) and escalated: its
next choice sends it to legal review whatever its days past due. The evidence of each interruption is
the case's own audit record (the message, the payment, the promise), so the dates can be proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.legal import Limitation, limitation, limitation_start
from dueflow.domain.loan import Loan
from dueflow.domain.rules import LimitationRule, load_pack
from dueflow.domain.schedule import iter_schedule
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.sharding import shard_of

Interruption = Literal["demand", "acknowledgement"]


def rule_of(loan: Any) -> LimitationRule:
    return load_pack(getattr(loan, "rules", None) or "cn").limitation


def _fields(case_id: str, rule: LimitationRule, started: date, last: date, shards: int) -> dict[str, Any]:
    period = limitation(started, [last], rule.years, last, rule.warn_days)
    return {
        "limitation_started_on": started.isoformat(),
        "limitation_last_interruption": period.last_interruption.isoformat(),
        "limitation_expires_on": period.expires_on.isoformat(),
        "limitation_warn_on": (period.expires_on - timedelta(days=rule.warn_days)).isoformat(),
        "limitation_shard": shard_of(case_id, shards),
    }


def start(
    services: Services, case_id: str, loan: Loan, oldest_unpaid: date, accelerated_on: date | None = None
) -> None:
    """Set (or, after an acceleration notice, move) the start of the case's period."""
    rule = rule_of(loan)
    due_dates = [i.due_date for i in iter_schedule(loan)] if rule.runs_from == "last_installment" else []
    started = limitation_start(rule, due_dates, oldest_unpaid, accelerated_on)
    case = services.cases.get(case_id)
    last = case.limitation_last_interruption if case is not None else None
    services.cases.update(
        case_id,
        _fields(case_id, rule, started, max(started, last) if last else started, services.settings.index_shards),
        remove=("limitation_flagged_on",),
    )


def interrupt(services: Services, case: Case, loan: Any, on: date, kind: Interruption) -> bool:
    """A demand or an acknowledgement on ``on``: the period starts again if the pack counts it and it is
    later than the last one (one write a day at most). True when it moved."""
    rule = rule_of(loan)
    if kind not in rule.interrupted_by or not _later(case, on):
        return False
    fresh = services.cases.get(case.case_id)  # ``case`` may be stale: never move the date back
    if fresh is None or not _later(fresh, on):
        return False
    started = fresh.limitation_started_on
    assert started is not None
    services.cases.update(
        case.case_id,
        _fields(case.case_id, rule, started, on, services.settings.index_shards),
        remove=("limitation_flagged_on",),
        expect={"status": "OPEN"},
    )
    return True


def _later(case: Case, on: date) -> bool:
    started, last = case.limitation_started_on, case.limitation_last_interruption
    return started is not None and on > started and (last is None or on > last)


def period_of(case: Case, loan: Loan, as_of: date, oldest_unpaid: date) -> Limitation:
    """The case's period as of ``as_of`` (computed from the loan for a case opened before tracking)."""
    rule = rule_of(loan)
    if case.limitation_started_on is not None:
        started = case.limitation_started_on
    else:
        due_dates = [i.due_date for i in iter_schedule(loan)] if rule.runs_from == "last_installment" else []
        started = limitation_start(rule, due_dates, oldest_unpaid, case.acceleration_noticed_on)
    last = [case.limitation_last_interruption] if case.limitation_last_interruption else []
    return limitation(started, last, rule.years, as_of, rule.warn_days)


@dataclass
class LimitationCheck:
    nearing: int = 0  # open cases within their warning days (each day until the period is interrupted)
    flagged: int = 0  # of those, flagged and escalated by this run (once each)


def flag_nearing(services: Services, as_of: date, shard: int | None = None) -> LimitationCheck:
    """Flag and escalate each open case whose period is within its warning days (safe to run again)."""
    from dueflow.services.waiting import wake

    check = LimitationCheck()
    for case_id in list(services.cases.limitations_due(as_of, shard)):
        case = services.cases.get(case_id)
        if case is None or not case.is_open or case.limitation_started_on is None:
            continue
        loan = services.loans.get(case.loan_id)
        if loan is None:
            continue
        period = period_of(case, loan, as_of, as_of)
        if not period.nearing:
            continue
        check.nearing += 1
        if case.limitation_flagged_on is not None:
            continue
        body = {
            "started_on": period.started_on.isoformat(),
            "last_interruption": period.last_interruption.isoformat(),
            "expires_on": period.expires_on.isoformat(),
            "days_left": period.days_left,
            "expired": period.expired,
            "escalated_to": "legal",
        }
        audit_log.append(
            services, case_id, "limitation_nearing", clock.now(), body, dedupe=f"limitation:{body['expires_on']}"
        )
        services.notifier.notify_staff(
            "DueFlow: limitation period nearing its end",
            {"type": "limitation_nearing", "case_id": case_id, "expires_on": body["expires_on"]},
        )
        services.cases.update(case_id, {"limitation_flagged_on": as_of.isoformat()}, expect={"status": "OPEN"})
        check.flagged += 1
        flagged = services.cases.get(case_id)
        if flagged is not None and flagged.task_token:
            wake(services, flagged, as_of)  # its next choice goes to legal review
    return check
