"""The capacity model: the daily scan and the dispatcher's daily volume at a book of a given size.

Inputs are figures ``make bench`` measures on this machine (bench/results.json) and the deployment's
settings; the only figures not measured here are the per-call latencies of AWS APIs called from Lambda
in-region, which are stated assumptions (``LATENCY_MS``, deliberately on the slow side of what AWS
documents and what is commonly observed; no AWS account is reachable from this machine).

- **Scan.** The due-index holds the loans due soon or overdue (``read_items_scan / read_loans`` of the
  book, measured at 2% overdue). Each shard's slice costs its items times the measured calls per item
  (by service) times the latency of each call; new cases are paced to ``start_executions_per_second`` in
  total, so a shard's share of them takes ``new cases / rate`` whatever the shard count. Wake-ups run in
  their own invocations (measured calls per wake-up, wake-ups per case-day from the demo run). A slice
  longer than one invocation continues in the next, so the scan's wall time is the longest shard's
  chain; it must finish between ``scan_time`` and the opening of the contact window. The daily seal
  reads the cases table once (a year of cases; an assumed 2,000 items and 50 ms per 1 MB page).
- **Dispatcher.** Messages per loan and day by channel are measured on the demo run (pre-due reminders
  scale with the book; case messages with its delinquency: the demo book is more delinquent than 2%,
  so this errs high). SMS and e-mail go out at ``sms_max_send_per_second`` and
  ``ses_max_send_per_second`` in total; the calls each message costs are spread over the shards. All of
  it must fit the contact window (08:00-21:00 by default).

Both must fit their window with a margin of at least 2x (``margin`` = window / projected time).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from dueflow.settings import Settings

# milliseconds per call from a Lambda function in the same region (assumptions, not measured here)
LATENCY_MS: dict[str, float] = {
    "dynamodb": 10.0,
    "stepfunctions": 40.0,
    "s3": 30.0,
    "kms": 15.0,
    "sns": 40.0,
    "sesv2": 80.0,
}
LAMBDA_INVOCATION_S = 900  # a scan invocation's timeout; a slice stops a minute before it
CASES_PER_SEAL_PAGE = 2_000  # cases per 1 MB page of the daily seal's Scan (about 500 bytes an item)
SEAL_PAGE_MS = 50.0  # one 1 MB Scan page (assumption)
REQUIRED_MARGIN = 2.0


def _seconds_between(start: Any, end: Any) -> float:
    day = datetime(2026, 1, 1)
    return (datetime.combine(day, end) - datetime.combine(day, start)).total_seconds()


def call_seconds(calls_by_service: dict[str, float]) -> float:
    """The time of one unit of work that makes these calls (per service), one after the other."""
    return sum(count * LATENCY_MS.get(service, 50.0) for service, count in calls_by_service.items()) / 1000


def project(settings: Settings, figures: dict[str, Any], loans: int = 10_000_000) -> dict[str, Any]:
    """The projected daily scan and dispatcher for a book of ``loans`` with ``settings``."""
    shards = settings.index_shards
    due_items = loans * figures["read_items_scan"] / figures["read_loans"]
    per_loan_day = figures["capacity_rates_per_loan_day"]
    new_cases = loans * per_loan_day["cases_opened"]
    open_cases = loans * per_loan_day["open_cases"]
    wakes = open_cases * per_loan_day["wakes_per_open_case"]

    due_shard_s = due_items / shards * call_seconds(figures["scan_calls_per_due_item"])
    paced_s = new_cases / settings.start_executions_per_second
    wake_shard_s = wakes / shards * call_seconds(figures["scan_calls_per_wake"])
    seal_s = new_cases * 365 / CASES_PER_SEAL_PAGE * SEAL_PAGE_MS / 1000  # the cases table after a year
    shard_chain_s = max(due_shard_s + paced_s, wake_shard_s)
    scan_s = seal_s + shard_chain_s
    scan_window_s = _seconds_between(settings.scan_time, settings.contact_window_start)

    sms = loans * per_loan_day["sms"]
    email = loans * per_loan_day["email"]
    call = loans * per_loan_day["call"]
    messages = sms + email + call
    send_s = max(sms / settings.sms_max_send_per_second, email / settings.ses_max_send_per_second)
    work_s = messages / shards * call_seconds(figures["dispatch_calls_per_message"])
    dispatch_s = max(send_s, work_s)
    dispatch_window_s = _seconds_between(settings.contact_window_start, settings.contact_window_end)
    return {
        "loans": loans,
        "shards": shards,
        "scan": {
            "due_index_items": round(due_items),
            "items_per_shard": round(due_items / shards),
            "new_cases": round(new_cases),
            "wake_ups": round(wakes),
            "due_slice_per_shard_s": round(due_shard_s + paced_s),
            "wake_slice_per_shard_s": round(wake_shard_s),
            "invocations_per_due_slice": math.ceil((due_shard_s + paced_s) / (LAMBDA_INVOCATION_S - 60)),
            "seal_s": round(seal_s),
            "wall_s": round(scan_s),
            "window_s": round(scan_window_s),
            "margin": round(scan_window_s / scan_s, 1),
        },
        "dispatcher": {
            "sms": round(sms),
            "email": round(email),
            "call_tasks": round(call),
            "sms_per_second": settings.sms_max_send_per_second,
            "email_per_second": settings.ses_max_send_per_second,
            "wall_s": round(dispatch_s),
            "window_s": round(dispatch_window_s),
            "margin": round(dispatch_window_s / dispatch_s, 1),
        },
        "within_windows": scan_window_s / scan_s >= REQUIRED_MARGIN
        and dispatch_window_s / dispatch_s >= REQUIRED_MARGIN,
    }


def markdown(projection: dict[str, Any]) -> str:
    """The capacity table of docs/deploy.md."""
    scan, dispatch = projection["scan"], projection["dispatcher"]
    slices = f"{scan['due_slice_per_shard_s']:,} s ({scan['invocations_per_due_slice']} invocations)"
    scan_time = f"**{scan['wall_s']:,} s** / {scan['window_s']:,} s: **{scan['margin']}x**"
    volume = f"{dispatch['sms']:,} / {dispatch['email']:,} / {dispatch['call_tasks']:,}"
    dispatch_time = f"**{dispatch['wall_s']:,} s** / {dispatch['window_s']:,} s: **{dispatch['margin']}x**"
    rows = [
        ("loans in the book", f"{projection['loans']:,}"),
        ("shards (`index_shards`)", f"{projection['shards']}"),
        ("due-index items a day (due soon or overdue)", f"{scan['due_index_items']:,}"),
        ("items per shard", f"{scan['items_per_shard']:,}"),
        ("new cases a day (StartExecution, paced)", f"{scan['new_cases']:,}"),
        ("wake-ups a day", f"{scan['wake_ups']:,}"),
        ("due-index slice per shard", slices),
        ("wake-up slice per shard", f"{scan['wake_slice_per_shard_s']:,} s"),
        ("daily seal (one read of the cases table)", f"{scan['seal_s']:,} s"),
        ("**scan wall time** / window (scan time to the contact window)", scan_time),
        ("SMS / e-mails / call tasks a day", volume),
        ("send rates (SMS, e-mail per second)", f"{dispatch['sms_per_second']}, {dispatch['email_per_second']}"),
        ("**dispatcher wall time** / window (the contact window)", dispatch_time),
    ]
    return "\n".join(["| figure | 10M-loan projection |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)]) + "\n"
