"""The daily scan (逾期识别与预警): pre-due reminders, new cases, and wake-ups whose date has come.

It reads only the sparse due-index (loans due soon or overdue) and the sparse wake-index (cases with a
wake-up date), shard by shard. In AWS the scheduled invocation fans out: it invokes itself
asynchronously once per shard (``fan_out``), so a book of any size is split across parallel
invocations, each well inside Lambda's 15 minutes; StartExecution calls are paced so that all shards
together stay under ``start_executions_per_second``. Re-running it the same day opens no second case
(deterministic case ids and execution names, conditional writes) and queues no second message
(deterministic message ids).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.messages import loan_reference
from dueflow.domain.money import fmt
from dueflow.domain.outbox import Message
from dueflow.domain.position import FLAG_DUE_SOON, WarningPolicy, assess
from dueflow.domain.strict import iso_date
from dueflow.pacing import Pacer
from dueflow.ports import ScanStats, StoredLoan
from dueflow.services.complaints import escalate_overdue_complaints
from dueflow.services.context import Services
from dueflow.services.dispatch import first_send_time
from dueflow.services.notices import BANK_PHONE
from dueflow.services.opening import open_case
from dueflow.services.waiting import wake


@dataclass
class ScanReport:
    as_of: str
    loans_read: int = 0
    items_scanned: int = 0
    reminders_queued: int = 0
    cases_opened: int = 0
    cases_already_open: int = 0
    cases_woken: int = 0
    # wake-ups whose date passed before today and that no scan woke (a failed or unfinished shard)
    cases_parked_past_wake: int = 0
    complaints_past_deadline: int = 0
    complaints_escalated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fan_out(services: Services, lambda_client: Any, function_name: str, event: dict[str, Any]) -> int:
    """Invoke this function asynchronously once per shard with ``{**event, "shard": n}``."""
    for shard in range(services.settings.index_shards):
        lambda_client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps({**event, "shard": shard}).encode()
        )
    return services.settings.index_shards


def run_scan(
    services: Services, as_of: date | None = None, shards: list[int] | None = None, pacer: Pacer | None = None
) -> ScanReport:
    """Scan ``shards`` (all by default) as of ``as_of`` (today in the bank's zone by default)."""
    settings = services.settings
    as_of = as_of or clock.today(settings.time_zone)
    report = ScanReport(as_of=as_of.isoformat())
    policy = WarningPolicy(due_soon_days=settings.due_soon_days)
    if pacer is None:
        # each shard gets its share of the account's StartExecution budget (shards run in parallel)
        pacer = Pacer(settings.start_executions_per_second / max(settings.index_shards, 1) * (len(shards or []) or 1))
    for shard in shards if shards is not None else range(settings.index_shards):
        stats = ScanStats()
        for stored in services.loans.due_by(as_of, settings.due_soon_days, stats, shard=shard):
            loan = stored.loan
            report.loans_read += 1
            position = assess(loan, as_of, policy)
            if FLAG_DUE_SOON in position.flags and position.next_due_date is not None:
                report.reminders_queued += _pre_due(
                    services, stored, position.next_due_date, fmt(position.next_due_amount)
                )
            if position.dpd >= max(settings.grace_days, 1):
                latest = services.cases.latest_case_for_loan(loan.loan_id)
                if latest is not None and latest.is_open:
                    if not latest.execution_arn:
                        # opened by an earlier run that failed before its execution started: start it now
                        open_case(services, loan, position, latest.episode, latest.case_id)
                    report.cases_already_open += 1
                elif starts_an_episode(latest, loan, position):
                    pacer.wait()
                    episode = latest.episode + 1 if latest is not None else 1
                    report.cases_opened += int(open_case(services, loan, position, episode))
                else:
                    report.cases_already_open += 1
        report.items_scanned += stats.scanned
        for case_id in list(services.cases.wakeups_due(as_of, shard=shard)):
            case = services.cases.get(case_id)
            if case is None:
                continue
            if wake(services, case, as_of) is not None:
                report.cases_woken += 1
                if missed_wake(case, as_of):
                    report.cases_parked_past_wake += 1
        complaints = escalate_overdue_complaints(services, as_of, shard)
        report.complaints_past_deadline += complaints.past_deadline
        report.complaints_escalated += complaints.escalated
    return report


def missed_wake(case: Case, as_of: date) -> bool:
    """Should an earlier scan have woken this case? Its date passed before today, and no complaint held
    it (a complaint pauses the case past its date, until resolved)."""
    if case.wake_on is None or case.wake_on >= as_of:
        return False
    return case.complaint_resolved_on is None or case.complaint_resolved_on < case.wake_on


HANDED_OVER = ("LITIGATION", "WRITE_OFF_REVIEW")


def starts_an_episode(latest: Case | None, loan: Loan, position: Any) -> bool:
    """Does this overdue loan need a new case, given its latest case? Not while a case is open, and not
    while the delinquency a case handed to legal or write-off review is still running: unless a payment
    since that case closed brought the loan up to date, the arrears are the same ones (payments since
    may have moved its oldest unpaid installment on, and with it the episode's id)."""
    if latest is None:
        return True
    if latest.is_open:
        return False
    if latest.outcome in HANDED_OVER and latest.closed_on is not None:
        # the case closes at the day's scan, before any payment of that day: those count as after it
        return up_to_date_since(loan, latest.closed_on - timedelta(days=1), position.as_of)
    return True


def up_to_date_since(loan: Loan, after: date, until: date) -> bool:
    """Was the loan up to date at some moment after ``after`` (up to ``until``)? Only a payment can
    bring it up to date, so each payment day is checked with the payments made by its end."""
    for day in sorted({p.date for p in loan.payments if after < p.date <= until}):
        paid = loan.model_copy(update={"payments": tuple(p for p in loan.payments if p.date <= day)})
        if assess(paid, day).dpd == 0:
            return True
    return False


def _pre_due(services: Services, stored: StoredLoan, due_on: date, amount: str) -> int:
    loan = stored.loan
    language = loan.customer.language if loan.customer else "zh-CN"
    queued = 0
    for channel in stored.channels:
        message = Message(
            message_id=f"predue:{loan.loan_id}:{due_on.isoformat()}:{channel}",
            case_id=f"predue:{loan.loan_id}",
            loan_id=loan.loan_id,
            customer_id=loan.customer_id,
            channel=channel,
            template="pre_due_reminder",
            language=language,
            not_before=first_send_time(services, loan, clock.now()),
            values={
                "ref": loan_reference(loan.loan_id),
                "amount": amount,
                "currency": loan.currency,
                "due_date": due_on.isoformat(),
                "bank_phone": BANK_PHONE,
            },
            created_at=clock.now(),
        )
        queued += int(services.outbox.enqueue(message))
    return queued


def scheduled_date(event: dict[str, Any], zone: str) -> date | None:
    """The local business date of an EventBridge Scheduler invocation (``{"time": "<ISO>"}``)."""
    if event.get("as_of"):
        try:
            return iso_date(event["as_of"])
        except ValueError as exc:
            raise ValueError(f"scan event field as_of: {exc}") from None
    if event.get("time"):
        from zoneinfo import ZoneInfo

        return datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(ZoneInfo(zone)).date()
    return None
