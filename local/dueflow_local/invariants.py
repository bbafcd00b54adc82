"""What must hold after any run, faults or not, checked against the loan book and the providers' logs.

- ``one_case_per_episode``: every run of consecutive scan days on which a loan was overdue, ended early
  by a day on which its payments brought it up to date (a delinquency episode, replayed from the loan's
  payments with the domain engine), had a case open on its first day and no other case during it, no
  case opened outside an episode, and no two cases of a loan overlap.
- ``no_loan_left_behind``: at the end of every simulated day, every loan past the grace period (the
  loan as the book loaded it, with the payments and ledger entries posted on it, through the domain
  engine; no case record is consulted) has an open case, or stands handed over to litigation or
  write-off review by a case that closed so and has not been up to date since.
- ``no_stuck_case``: every open case has a running execution parked at a callback with a wake-up date
  (or a complaint that pauses it); every closed case's execution finished; no execution failed.
- ``no_duplicate_message``: no provider accepted the same message twice on a day (same recipient and
  text, or the same call task of a case).
- ``contact_window``: every SMS, e-mail and call task went out inside the contact window of the
  customer's time zone.
- ``contact_caps``: no customer got more SMS and calls in a local day, or in any 7 days, than the caps.
- ``opt_outs_respected``: after a customer opts out of a channel on a case (the time on its record), no
  provider accepted anything on that channel for that customer (or, for calls, that case) while the
  case was open, pre-due reminders included.
- ``audit_complete``: every case's hash chain verifies against its head, and every stage it entered
  (Step Functions history) has its ``stage_entered`` record.
- ``messages_on_record``: every message of a case that went out (SENT) or may have (UNCONFIRMED) has
  its audit record; no message is still claimed after its lease ended; and what the providers accepted
  is accounted for by the outbox, channel by channel (at least the SENT, at most SENT, UNCONFIRMED and
  still-claimed together).
- ``no_third_party_contact``: no provider accepted anything for an emergency contact of the book, nor
  for a guarantor except as the loan's rule pack allows (a liability it names, from its days past due
  on, by the ledger).
- ``outcomes_match_baseline`` (when a baseline run is given): every case ended as it did there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from dueflow.domain.book import assign_pack
from dueflow.domain.loan import Loan
from dueflow.domain.position import assess
from dueflow.domain.rules import PackSelection, load_pack
from dueflow.domain.schedule import iter_schedule
from dueflow.services.context import loan_zone, scan_moment
from dueflow.services.scan import HANDED_OVER, up_to_date_since
from dueflow.settings import Settings
from dueflow_local.meter import Delivery

EXAMPLES = 5  # violations listed per invariant (all are counted)


@dataclass
class Facts:
    """What a run left behind, as the checks need it."""

    settings: Settings
    days: list[date]  # the simulated days, each with its scan
    book: list[Loan]  # as loaded (with the customers' contact details)
    final: Mapping[str, Loan]  # loan id -> the loan at the end (its payments)
    cases: list[dict[str, Any]]  # case items
    executions: Mapping[str, str]  # case id -> execution status
    parked: set[str]  # case ids whose execution is parked at a callback
    entered: Mapping[str, list[str]]  # case id -> state names entered (execution history)
    audit_ok: Mapping[str, bool]  # case id -> chain verifies against the head
    audit_stages: Mapping[str, set[str]]  # case id -> "stage" of its stage_entered records
    deliveries: list[Delivery]
    outbox: list[dict[str, Any]] = field(default_factory=list)  # outbox items at the end
    audit_messages: Mapping[str, set[str]] = field(default_factory=dict)  # case id -> message ids on record
    ended: datetime | None = None  # the simulated time at the end of the run
    baseline: Mapping[str, str] | None = None  # case id -> outcome of a run to compare with
    audited_states: Mapping[str, str] = field(default_factory=dict)  # state name -> what its record names
    opt_outs: Mapping[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # case -> (channel, when)


def audited_states(definition: Mapping[str, Any], stage_function: str, wait_function: str) -> dict[str, str]:
    """State name -> the ``stage`` its ``stage_entered`` record carries: the stage key for a
    ``case_stage`` task (re-evaluations excepted: they record nothing), the state name for a wait."""
    out: dict[str, str] = {}
    for name, state in definition["States"].items():
        params = state.get("Parameters", {})
        function = params.get("FunctionName")
        stage = params.get("Payload", {}).get("stage")
        if function == stage_function and stage and stage != "reevaluate":
            out[name] = stage
        elif function == wait_function:
            out[name] = name
    return out


def check(facts: Facts) -> dict[str, Any]:
    # the book as the deployment reads it: a loan naming no rule pack is under the one the settings
    # choose (the jurisdiction table), so its calendar is the engine's
    packs = facts.settings.pack_selection()
    facts = replace(facts, book=[_under_pack(loan, packs) for loan in facts.book])
    checks = {
        "one_case_per_episode": _episodes(facts),
        "no_loan_left_behind": _left_behind(facts),
        "no_stuck_case": _stuck(facts),
        "no_duplicate_message": _duplicates(facts),
        "contact_window": _window(facts),
        "contact_caps": _caps(facts),
        "opt_outs_respected": _opt_outs(facts),
        "audit_complete": _audit(facts),
        "messages_on_record": _messages(facts),
        "no_third_party_contact": _third_parties(facts),
    }
    if facts.baseline is not None:
        checks["outcomes_match_baseline"] = _baseline(facts)
    out: dict[str, Any] = {
        name: {"violations": len(found), "examples": found[:EXAMPLES]} for name, found in checks.items()
    }
    out["violations_total"] = sum(len(found) for found in checks.values())
    return out


def _under_pack(loan: Loan, packs: PackSelection) -> Loan:
    try:
        return assign_pack(loan, packs)
    except ValueError:  # refused at load: the store never held it (the checks see it as the book has it)
        return loan


def _past_grace(loan: Loan, days: list[date], threshold: int, scan_view: bool, settings: Settings) -> dict[date, int]:
    """Day -> days past due, for each of ``days`` on which ``loan`` was ``threshold`` or more days past
    due on its own calendar (its customer's zone) at the moment of that day's scan: as the scan saw it
    (``scan_view``: before that day's payments and entries), or with everything of that day (what must
    have a case by its end). The domain engine decides; it is asked only on the days the answer can
    change (the first day, a payment's or an entry's, an unpaid installment reaching the threshold), except
    for a loan with ledger entries, asked every day (a plan may break on a day nothing happens)."""
    if not days:
        return {}
    shift = 1 if scan_view else 0
    zone = ZoneInfo(loan_zone(loan, settings))

    def local(day: date) -> date:  # the loan's own date at the day's scan (a day behind in New York)
        return scan_moment(day, settings).astimezone(zone).date()

    def view(day: date) -> Loan:
        def seen(on: date) -> bool:
            return on < day if scan_view else on <= day

        return loan.model_copy(
            update={
                "payments": tuple(p for p in loan.payments if seen(p.date)),
                "adjustments": tuple(e for e in loan.adjustments if seen(e.date)),
            }
        )

    if loan.adjustments:
        checks = set(days)
    else:
        end = days[-1] + timedelta(days=1)
        # a payment changes the answer the day it is seen, on the loan's calendar the same day or the next
        checks = {days[0]} | {p.date + timedelta(days=shift + lag) for p in loan.payments for lag in (0, 1)}
        payable = load_pack(loan.rules).payable_on if loan.rules is not None else None
        for item in iter_schedule(loan):
            if item.due_date > end:
                break
            # overdue from the day after the payable day (the pack's holiday grace, as the engine says),
            # on the loan's calendar: the bank's day it is seen on may be the same or the next
            due = payable(item.due_date) if payable is not None else item.due_date
            reached = due + timedelta(days=threshold)
            checks |= {reached, reached + timedelta(days=1)}
    out: dict[date, int] = {}
    oldest: date | None = None
    for day in days:
        if day in checks:
            # the oldest installment unpaid with the payments seen (dated by the bank's day), counted in
            # days on the loan's calendar at the scan's moment
            dpd = assess(view(day), day).dpd
            oldest = day - timedelta(days=dpd) if dpd else None
        if oldest is not None and (local(day) - oldest).days >= threshold:
            out[day] = (local(day) - oldest).days
    return out


def _overdue_days(loan: Loan, days: Iterable[date], settings: Settings) -> tuple[list[date], set[date]]:
    """The scan days on which ``loan`` was overdue as the scan saw it (before that day's payments), and
    the days on which its payments brought it up to date (an episode ends there, even if an installment
    falling due the same day makes it overdue again by the next scan)."""
    overdue = list(_past_grace(loan, list(days), max(settings.grace_days, 1), scan_view=True, settings=settings))
    paid_on = {p.date for p in loan.payments}
    cured = {day for day in overdue if day in paid_on and up_to_date_since(loan, day - timedelta(days=1), day)}
    return overdue, cured


def _runs(days: list[date], breaks: set[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in days:
        last = runs[-1][1] if runs else None
        if last is not None and last + timedelta(days=1) == day and last not in breaks:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _episodes(facts: Facts) -> list[str]:
    found = []
    end = facts.days[-1]
    by_loan: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for case in facts.cases:
        opened = date.fromisoformat(case["opened_on"])
        closed = date.fromisoformat(case["closed_on"]) if case.get("closed_on") else end
        by_loan[case["loan_id"]].append((opened, closed))
    for loan_id, loan in facts.final.items():
        episodes = _runs(*_overdue_days(loan, facts.days, facts.settings))
        spans = sorted(by_loan.get(loan_id, []))
        for first, last in episodes:
            if not any(opened <= first <= closed for opened, closed in spans):
                found.append(f"loan {loan_id}: overdue from {first} but no case was open that day")
            during = [opened for opened, closed in spans if opened <= last and closed >= first]
            if len(during) > 1:
                found.append(f"loan {loan_id}: {len(during)} cases in the one delinquency episode {first}..{last}")
        for opened, _ in spans:
            if opened >= facts.days[0] and not any(first <= opened <= last for first, last in episodes):
                found.append(f"loan {loan_id}: a case opened on {opened}, a day the loan was not overdue")
        for (_, closed), (opened, _) in pairwise(spans):
            if opened < closed:
                found.append(f"loan {loan_id}: a case opened on {opened} while another was open until {closed}")
    return found


def _left_behind(facts: Facts) -> list[str]:
    threshold = max(facts.settings.grace_days, 1)
    by_loan: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in facts.cases:
        by_loan[case["loan_id"]].append(case)
    found = []
    for loan in facts.book:
        final = facts.final.get(loan.loan_id)
        ledger = loan.model_copy(
            update={"payments": final.payments, "adjustments": final.adjustments} if final is not None else {}
        )
        for day, dpd in _past_grace(ledger, facts.days, threshold, scan_view=False, settings=facts.settings).items():
            if not any(_open_at_end_of(case, day) or _handed_over(case, ledger, day) for case in by_loan[loan.loan_id]):
                found.append(f"loan {loan.loan_id}: {dpd} days past due at the end of {day}, no case")
    return found


def _open_at_end_of(case: Mapping[str, Any], day: date) -> bool:
    opened = date.fromisoformat(case["opened_on"])
    closed = case.get("closed_on")
    return opened <= day and (closed is None or date.fromisoformat(closed) > day)


def _handed_over(case: Mapping[str, Any], loan: Loan, day: date) -> bool:
    closed = case.get("closed_on")
    if case.get("outcome") not in HANDED_OVER or closed is None or date.fromisoformat(closed) > day:
        return False
    return not up_to_date_since(loan, date.fromisoformat(closed) - timedelta(days=1), day)


def _opt_outs(facts: Facts) -> list[str]:
    by_address, by_case = _customers(facts)
    found = []
    cases = {case["case_id"]: case for case in facts.cases}
    for case_id, choices in facts.opt_outs.items():
        case, loan = cases.get(case_id), by_case.get(case_id)
        if case is None or loan is None or not choices:
            continue
        closed = date.fromisoformat(case["closed_on"]) if case.get("closed_on") else None
        for channel, since in choices:
            for delivery in facts.deliveries:
                if delivery.channel != channel or delivery.at <= since:
                    continue
                if _loan_of(delivery, by_address, by_case) is not loan:
                    continue
                if delivery.channel == "call" and delivery.to != case_id:
                    continue
                if closed is not None and _local(delivery.at, loan, facts.settings).date() > closed:
                    continue
                found.append(f"loan {loan.loan_id}: {_who(delivery, loan)} at {delivery.at} after its opt-out")
    return found


def _stuck(facts: Facts) -> list[str]:
    found = []
    for case in facts.cases:
        case_id, status = case["case_id"], facts.executions.get(case["case_id"])
        if case.get("status") == "OPEN":
            if status != "RUNNING":
                found.append(f"case {case_id} is open but its execution is {status}")
            elif case_id not in facts.parked:
                found.append(f"case {case_id} is open but its execution is not waiting at a callback")
            elif not case.get("wake_on") and not case.get("complaint_open"):
                found.append(f"case {case_id} waits in {case.get('waiting_state')} with no wake-up date")
        elif status not in ("SUCCEEDED", None):
            found.append(f"case {case_id} is {case.get('status')} but its execution is {status}")
    for case_id, status in facts.executions.items():
        if status not in ("RUNNING", "SUCCEEDED"):
            found.append(f"execution {case_id} ended {status}")
    return found


def _customers(facts: Facts) -> tuple[dict[str, Loan], dict[str, Loan]]:
    """Recipient (phone, e-mail) -> loan; case id -> loan."""
    by_address: dict[str, Loan] = {}
    for loan in facts.book:
        if loan.customer is not None:
            for address in (loan.customer.phone, loan.customer.email):
                if address:
                    by_address[str(address)] = loan
    loans = {loan.loan_id: loan for loan in facts.book}
    by_case = {case["case_id"]: loans[case["loan_id"]] for case in facts.cases if case["loan_id"] in loans}
    return by_address, by_case


def _loan_of(delivery: Delivery, by_address: dict[str, Loan], by_case: dict[str, Loan]) -> Loan | None:
    return by_case.get(delivery.to) if delivery.channel == "call" else by_address.get(delivery.to)


def _local(at: datetime, loan: Loan | None, settings: Settings) -> datetime:
    zone = loan.customer.timezone if loan is not None and loan.customer else settings.time_zone
    return at.astimezone(ZoneInfo(zone))


def _who(delivery: Delivery, loan: Loan | None) -> str:
    """A delivery named without its recipient's contact details."""
    return f"{delivery.channel} to {'loan ' + loan.loan_id if loan else 'an unknown recipient'}"


def _third_parties(facts: Facts) -> list[str]:
    """No provider accepted anything for someone other than the borrower: never an emergency contact,
    and a guarantor only as the loan's rule pack allows (a liability it names, from its days past due on,
    on the ledger the book and the payments give)."""
    borrowers = {
        str(address)
        for loan in facts.book
        if loan.customer is not None
        for address in (loan.customer.phone, loan.customer.email)
        if address
    }
    emergency: dict[str, Loan] = {}
    guarantors: dict[str, Loan] = {}
    for loan in facts.book:
        for contact, into in ((loan.emergency_contact, emergency), (loan.guarantor, guarantors)):
            if contact is not None:
                into.update({str(a): loan for a in (contact.phone, contact.email) if a and str(a) not in borrowers})
    found = []
    for delivery in facts.deliveries:
        if delivery.channel == "call":
            continue  # a call task names the case (the agent calls the borrower on it)
        third = emergency.get(delivery.to)
        if third is not None:
            found.append(f"loan {third.loan_id}: its emergency contact was sent an {delivery.channel} at {delivery.at}")
        guaranteed = guarantors.get(delivery.to)
        if guaranteed is not None and not _guarantor_may_hear(guaranteed, delivery, facts):
            found.append(
                f"loan {guaranteed.loan_id}: its guarantor was sent an {delivery.channel} the pack does not allow"
            )
    return found


def _guarantor_may_hear(loan: Loan, delivery: Delivery, facts: Facts) -> bool:
    if loan.rules is None or loan.guarantor is None:
        return False
    rule = load_pack(loan.rules).guarantors
    if loan.guarantor.liability not in rule.liabilities:
        return False
    final = facts.final.get(loan.loan_id, loan)
    day = _local(delivery.at, loan, facts.settings).date()
    seen = loan.model_copy(
        update={
            "payments": tuple(p for p in final.payments if p.date <= day),
            "adjustments": tuple(e for e in final.adjustments if e.date <= day),
        }
    )
    # days past due at the day's start, as the stage that queued the notice saw them (a day of margin)
    return assess(seen, day).dpd + 1 >= rule.contact_after_dpd


def _duplicates(facts: Facts) -> list[str]:
    by_address, by_case = _customers(facts)
    seen: dict[tuple[str, str, str, date], int] = defaultdict(int)
    found = []
    for delivery in facts.deliveries:
        loan = _loan_of(delivery, by_address, by_case)
        key = (delivery.channel, delivery.to, delivery.text, _local(delivery.at, loan, facts.settings).date())
        seen[key] += 1
        if seen[key] == 2:
            found.append(f"{_who(delivery, loan)}: the same message twice on {key[3]}")
    return found


def _window(facts: Facts) -> list[str]:
    by_address, by_case = _customers(facts)
    start, end = facts.settings.contact_window_start, facts.settings.contact_window_end
    found = []
    for delivery in facts.deliveries:
        loan = _loan_of(delivery, by_address, by_case)
        local = _local(delivery.at, loan, facts.settings)
        if not start <= local.time() < end:
            found.append(f"{_who(delivery, loan)} at {local:%Y-%m-%d %H:%M} local, outside {start:%H:%M}-{end:%H:%M}")
    return found


def _caps(facts: Facts) -> list[str]:
    by_address, by_case = _customers(facts)
    contacts: dict[str, list[datetime]] = defaultdict(list)
    for delivery in facts.deliveries:
        if delivery.channel in ("sms", "call"):
            loan = _loan_of(delivery, by_address, by_case)
            customer = loan.customer_id if loan is not None else f"unknown {delivery.channel}"
            contacts[customer].append(_local(delivery.at, loan, facts.settings))
    per_day, per_week = facts.settings.max_contacts_per_day, facts.settings.max_contacts_per_7_days
    found = []
    for customer, times in contacts.items():
        times.sort()
        for i, t in enumerate(times):
            day = sum(1 for s in times[: i + 1] if s.date() == t.date())
            week = sum(1 for s in times[: i + 1] if t - timedelta(days=7) < s)
            if day > per_day:
                found.append(f"customer {customer}: {day} contacts on {t.date()} (cap {per_day})")
            if week > per_week:
                found.append(f"customer {customer}: {week} contacts in the 7 days to {t.date()} (cap {per_week})")
    return found


def _audit(facts: Facts) -> list[str]:
    found = []
    for case in facts.cases:
        case_id = case["case_id"]
        if not facts.audit_ok.get(case_id, False):
            found.append(f"case {case_id}: the audit chain does not verify")
        recorded = facts.audit_stages.get(case_id, set())
        for state in facts.entered.get(case_id, []):
            stage = facts.audited_states.get(state)
            if stage is not None and stage not in recorded:
                found.append(f"case {case_id}: entered {state!r} with no stage_entered record")
    return found


def _messages(facts: Facts) -> list[str]:
    found = []
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for message in facts.outbox:
        status, case_id = message.get("status"), str(message["case_id"])
        statuses[str(message["channel"])][str(status)] += 1
        on_record = message["message_id"] in facts.audit_messages.get(case_id, set())
        if status in ("SENT", "UNCONFIRMED") and not case_id.startswith("predue:") and not on_record:
            found.append(f"case {case_id}: {status.lower()} message {message['message_id']} has no audit record")
        lease_end = datetime.fromisoformat(str(message["not_before"]))
        if status == "SENDING" and facts.ended is not None and lease_end <= facts.ended:
            found.append(f"message {message['message_id']} is still claimed after its lease ended ({lease_end})")
    accepted: dict[str, int] = defaultdict(int)
    for delivery in facts.deliveries:
        accepted[delivery.channel] += 1
    for channel in sorted(set(accepted) | set(statuses)):
        counts = statuses[channel]
        low, high = counts["SENT"], counts["SENT"] + counts["UNCONFIRMED"] + counts["SENDING"]
        if not low <= accepted[channel] <= high:
            found.append(f"{channel}: providers accepted {accepted[channel]}, the outbox accounts for {low}..{high}")
    return found


def _baseline(facts: Facts) -> list[str]:
    assert facts.baseline is not None
    outcomes = {case["case_id"]: case.get("outcome", "OPEN") for case in facts.cases}
    found = []
    for case_id in sorted(set(outcomes) | set(facts.baseline)):
        ours, theirs = outcomes.get(case_id, "no case"), facts.baseline.get(case_id, "no case")
        if ours != theirs:
            found.append(f"case {case_id}: {ours} here, {theirs} in the baseline")
    return found
