"""The daily scan (逾期识别与预警): pre-due reminders, new cases, and wake-ups whose date has come.

It reads only the sparse due-index (loans due soon or overdue) and the sparse wake-index (cases with a
wake-up date), shard by shard. In AWS the scheduled invocation fans out: it invokes itself
asynchronously twice per shard, once for the shard's slice of the due-index (``part="due"``) and once
for its wake-ups (``part="wake"``, with the complaint deadlines), so wake-ups never wait behind a long
due-index read. A slice that does not fit one invocation stops with a minute to spare and hands over:
the report's ``continue_after`` is the index position of the last item it finished, and the next
invocation reads on after it. An open case that is not parked at a callback has its execution looked
at (``dueflow.services.recovery``): one that ended without closing the case is replaced. StartExecution
calls (new cases and restarts) are paced so that all
shards together stay under ``start_executions_per_second``. Re-running it the same day opens no second
case (deterministic case ids and execution names, conditional writes) and queues no second message
(deterministic message ids).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.messages import loan_reference
from dueflow.domain.money import fmt
from dueflow.domain.outbox import Message
from dueflow.domain.position import FLAG_DUE_SOON, WarningPolicy, assess
from dueflow.domain.strict import iso_date
from dueflow.pacing import UNLIMITED, Budget, Pacer
from dueflow.ports import ScanStats, StoredLoan
from dueflow.retries import ATTEMPTS, NOT_TRANSIENT, attempt
from dueflow.services.complaints import escalate_overdue_complaints
from dueflow.services.context import Services, loan_date, scan_moment
from dueflow.services.dispatch import first_send_time
from dueflow.services.limitation import flag_nearing
from dueflow.services.opening import auto_assign, open_case
from dueflow.services.recovery import restart_if_ended
from dueflow.services.waiting import wake

PARTS = ("due", "wake")


@dataclass
class ScanReport:
    as_of: str
    loans_read: int = 0
    items_scanned: int = 0
    reminders_queued: int = 0
    cases_opened: int = 0
    cases_already_open: int = 0
    cases_woken: int = 0
    # open cases whose execution had ended (failed, timed out, stopped) with no restart: restarted now
    cases_restarted: int = 0
    items_failed: int = 0  # loans or wake-ups whose work failed on every attempt (the invocation fails)
    failing_in_a_row: int = 0
    # wake-ups whose date passed before today and that no scan woke (a failed or unfinished shard)
    cases_parked_past_wake: int = 0
    complaints_past_deadline: int = 0
    complaints_escalated: int = 0
    limitation_nearing: int = 0  # open cases within their limitation period's warning days
    limitation_flagged: int = 0  # of those, flagged and escalated to legal by this run
    # the slice did not fit this invocation: read on after this index position (one shard, one part;
    # [] when it stopped before its first item)
    continue_after: list[str] | None = None
    parts: list[str] = field(default_factory=lambda: list(PARTS))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScanEvent:
    """A scan invocation: the scheduled run (no shard) or one slice of it."""

    as_of: date | None
    shard: int | None = None
    part: str | None = None
    after: tuple[str, str] | None = None

    @classmethod
    def parse(cls, event: dict[str, Any], zone: str) -> ScanEvent:
        """Errors name the event's field."""
        shard = event.get("shard")
        if shard is not None and (not isinstance(shard, int) or isinstance(shard, bool) or shard < 0):
            raise ValueError(f"scan event field shard: {str(shard)[:20]!r} is not a shard number")
        part = event.get("part")
        if part is not None and part not in PARTS:
            raise ValueError(f"scan event field part: {str(part)[:20]!r} is not one of {', '.join(PARTS)}")
        after = event.get("after") or None
        if after is not None and not (
            isinstance(after, list) and len(after) == 2 and all(isinstance(a, str) and a for a in after)
        ):
            raise ValueError("scan event field after: expected [sort key, id]")
        if after is not None and (shard is None or part is None):
            raise ValueError("scan event field after: a position belongs to one shard and one part")
        return cls(scheduled_date(event, zone), shard, part, (after[0], after[1]) if after else None)

    def run(self, services: Services, budget: Budget = UNLIMITED) -> ScanReport:
        return run_scan(
            services,
            self.as_of,
            [self.shard] if self.shard is not None else None,
            parts=(self.part,) if self.part else PARTS,
            after=self.after,
            budget=budget,
        )


def shard_events(event: dict[str, Any], shards: int) -> list[dict[str, Any]]:
    """The scheduled run's slices: each shard's due-index and its wake-ups, in their own invocations."""
    return [{**event, "shard": shard, "part": part} for shard in range(shards) for part in PARTS]


def run_scan(
    services: Services,
    as_of: date | None = None,
    shards: list[int] | None = None,
    pacer: Pacer | None = None,
    parts: tuple[str, ...] = PARTS,
    after: tuple[str, str] | None = None,
    budget: Budget = UNLIMITED,
) -> ScanReport:
    """Scan ``parts`` of ``shards`` (all by default) as of ``as_of`` (today in the bank's zone by
    default), after the index position ``after`` (one shard and one part), within ``budget``."""
    settings = services.settings
    as_of = as_of or clock.today(settings.time_zone)
    report = ScanReport(as_of=as_of.isoformat(), parts=list(parts))
    if after is not None and (shards is None or len(shards) != 1 or len(parts) != 1):
        raise ValueError("scan event field after: a position belongs to one shard and one part")
    if pacer is None:
        # each shard gets its share of the account's StartExecution budget (shards run in parallel)
        pacer = Pacer(settings.start_executions_per_second / max(settings.index_shards, 1) * (len(shards or []) or 1))
    # every shard's due part before any wake-up (as the fanned-out invocations may run): a case woken by
    # this run is still moving, and the due part would ask after its execution for nothing
    for part in (p for p in PARTS if p in parts):
        for shard in shards if shards is not None else range(settings.index_shards):
            if part == "due":
                _due_part(services, as_of, shard, pacer, after, budget, report)
            else:
                _wake_part(services, as_of, shard, after, budget, report)
            if report.continue_after is not None:
                return _finished(report)
    return _finished(report)


def _finished(report: ScanReport) -> ScanReport:
    if report.items_failed:
        # every other item is done; the invocation's retry does these again (and the rest, idempotently)
        raise ItemsFailed(f"{report.items_failed} items of the scan failed after {ITEM_ATTEMPTS} attempts each")
    return report


def _due_part(
    services: Services,
    as_of: date,
    shard: int,
    pacer: Pacer,
    after: tuple[str, str] | None,
    budget: Budget,
    report: ScanReport,
) -> None:
    """Pre-due reminders and new cases from one shard of the due-index."""
    settings = services.settings
    policy = WarningPolicy(due_soon_days=settings.due_soon_days)
    stats = ScanStats()
    for stored in services.loans.due_by(as_of, settings.due_soon_days, stats, shard=shard, after=after):
        if budget.exhausted():
            report.continue_after = list(after) if after else []
            break
        report.loans_read += 1
        retrying(partial(_due_loan, services, stored, as_of, policy, pacer, report), report)
        after = stored.due_key
    report.items_scanned += stats.scanned


def _due_loan(
    services: Services, stored: StoredLoan, as_of: date, policy: WarningPolicy, pacer: Pacer, report: ScanReport
) -> None:
    """One loan of the due-index: its pre-due reminder, its new case, or its open case looked after."""
    settings = services.settings
    loan = stored.loan
    # the position on the loan's own calendar at the scan's moment: the 02:00 scan in Shanghai is the
    # afternoon before in New York, where a loan due that day is not yet overdue
    position = assess(loan, loan_date(loan, settings, scan_moment(as_of, settings)), policy)
    if FLAG_DUE_SOON in position.flags and position.next_due_date is not None:
        report.reminders_queued += _pre_due(services, stored, position.next_due_date, fmt(position.next_due_amount))
    if position.dpd >= max(settings.grace_days, 1):
        latest = services.cases.latest_case_for_loan(loan.loan_id)
        if latest is not None and latest.is_open:
            if not latest.execution_arn:
                # opened by an earlier run that failed before its execution started: start it now
                pacer.wait()
                open_case(services, loan, position, latest.episode, latest.case_id, as_of)
            elif not latest.task_token:
                # not parked at a callback: its execution may have ended (failed, timed out, stopped)
                pacer.wait()
                report.cases_restarted += int(restart_if_ended(services, latest, as_of) is not None)
            if settings.assignment_rules and latest.assigned_to is None:
                # opened by a run that failed before it assigned the case: in no queue until assigned
                auto_assign(services, latest.case_id, loan, position)
            report.cases_already_open += 1
        elif starts_an_episode(latest, loan, position):
            pacer.wait()
            episode = latest.episode + 1 if latest is not None else 1
            report.cases_opened += int(open_case(services, loan, position, episode, opened_on=as_of))
        else:
            report.cases_already_open += 1


ITEM_ATTEMPTS = ATTEMPTS
OUTAGE_ITEMS = 3  # items failing one after another that mean an outage


class ItemsFailed(RuntimeError):
    """Some items of a scan failed on every attempt (the others were done): the invocation fails so
    that its trigger runs it again."""


def retrying(work: Callable[[], None], report: ScanReport) -> None:
    """Do one item's work (``dueflow.retries.attempt``); after its last attempt count it failed and go on
    with the next item, so that one loan's trouble never keeps the book's other loans from their cases.
    Bad data (a ValueError) is not retried."""
    try:
        attempt(work)
    except NOT_TRANSIENT:
        raise
    except Exception:
        report.items_failed += 1
        report.failing_in_a_row += 1
        if report.failing_in_a_row >= OUTAGE_ITEMS:
            # item after item fails: an outage, not one item's trouble; stop, and let the trigger run the
            # invocation again later rather than spend its time on attempts bound to fail
            raise ItemsFailed(f"{OUTAGE_ITEMS} items in a row failed {ITEM_ATTEMPTS} times each") from None
        return
    report.failing_in_a_row = 0


def _wake_part(
    services: Services, as_of: date, shard: int, after: tuple[str, str] | None, budget: Budget, report: ScanReport
) -> None:
    """Wake-ups whose date has come, then complaints past their deadline, then limitation periods
    nearing their end, in one shard."""
    for case_id in list(services.cases.wakeups_due(as_of, shard=shard, after=after)):
        if budget.exhausted():
            report.continue_after = list(after) if after else []
            return
        woken: list[Case] = []
        retrying(partial(_wake_one, services, case_id, as_of, report, woken), report)
        if woken and woken[0].wake_on is not None:
            after = (woken[0].wake_on.isoformat(), case_id)
    complaints = attempt(partial(escalate_overdue_complaints, services, as_of, shard))  # both idempotent
    report.complaints_past_deadline += complaints.past_deadline
    report.complaints_escalated += complaints.escalated
    periods = attempt(partial(flag_nearing, services, as_of, shard))
    report.limitation_nearing += periods.nearing
    report.limitation_flagged += periods.flagged


def _wake_one(services: Services, case_id: str, as_of: date, report: ScanReport, seen: list[Case]) -> None:
    case = services.cases.get(case_id)
    if case is None or case.wake_on is None:
        return  # (an index entry of no parked case: nothing to wake, no position to hand over)
    seen[:] = [case]
    if wake(services, case, as_of) is not None:
        report.cases_woken += 1
        if missed_wake(case, as_of):
            report.cases_parked_past_wake += 1


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
                "bank_phone": services.settings.bank_hotline,
                "bank": services.settings.bank_name,
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
