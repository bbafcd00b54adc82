"""The outbox dispatcher: sends the messages whose time has come, through the contact policy gate.

Every 15 minutes (EventBridge Scheduler). In AWS the tick fans out: one asynchronous invocation per
shard of the pending-index (messages are sharded by customer, so the contact caps of a customer are
checked by one invocation), each sending at its share of the account's SMS and e-mail rates
(``sms_max_send_per_second``, ``ses_max_send_per_second``) and stopping before its time runs out; what
it leaves is due at the next tick. For each due message: drop it if its case has closed or a
complaint is open (a notice the law requires is held until contact resumes: ``REQUIRED_NOTICES``); ask
the gate (window in the customer's zone, caps, opt-outs, verified contacts);
defer or drop as it says; otherwise claim it (PENDING -> SENDING), open the contact details just in
time, send by SNS (SMS), SES v2 (email) or as an agent call task on the internal topic, and record it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.contact_policy import (
    Channel,
    ContactRules,
    Decision,
    Recipient,
    Verdict,
    decide,
    first_window_moment,
)
from dueflow.domain.messages import call_script, render
from dueflow.domain.outbox import Message
from dueflow.pacing import UNLIMITED, Budget, Pacer
from dueflow.ports import ProviderRefused
from dueflow.retries import attempt
from dueflow.services import audit_log
from dueflow.services.context import Services
from dueflow.services.customers import CustomerRules, customer_rules


@dataclass
class DispatchReport:
    at: str
    sent: int = 0
    deferred: int = 0
    dropped: int = 0
    # messages sent (or settled unconfirmed) by an earlier tick that stopped before their record was
    # complete: completed now
    reconciled: int = 0
    unconfirmed: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # per channel: the provider refused the call
    # how long the oldest message still due after this run has waited (a stuck or slow dispatcher)
    oldest_pending_minutes: int = 0
    stopped_early: bool = False  # the invocation's time ran out before every due message was handled

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SendRates:
    """Per-channel pacers of one invocation (SMS and e-mail: call tasks go to the internal topic)."""

    sms: Pacer | None = None
    email: Pacer | None = None

    @classmethod
    def share(cls, settings: Any, parts: int) -> SendRates:
        """This invocation's share when ``parts`` invocations send at once."""
        return cls(
            sms=Pacer(settings.sms_max_send_per_second / parts), email=Pacer(settings.ses_max_send_per_second / parts)
        )

    def wait(self, channel: str) -> None:
        pacer = self.sms if channel == "sms" else self.email if channel == "email" else None
        if pacer is not None:
            pacer.wait()


def run_dispatch(
    services: Services,
    now: datetime | None = None,
    shard: int | None = None,
    rates: SendRates | None = None,
    budget: Budget = UNLIMITED,
) -> DispatchReport:
    """Send what is due in ``shard`` (every shard by default), at ``rates``, within ``budget``."""
    now = now or clock.now()
    report = DispatchReport(at=now.isoformat())
    rates = rates or SendRates.share(services.settings, 1)
    # what earlier ticks left unfinished first (a send whose record is incomplete, a lease that ended), so
    # that the contact caps count those contacts before anything new goes to the same customer
    due = [m for m in (services.outbox.get(i) for i in list(services.outbox.due(now, shard))) if m is not None]
    due.sort(key=lambda m: m.status == "PENDING")
    for message in due:
        if budget.exhausted():
            report.stopped_early = True
            break  # the rest is due at the next tick (the oldest-pending alarm watches the backlog)
        if message.status == "SENDING":  # its lease ended: a dispatcher stopped
            report.unconfirmed += _settle_in_doubt(services, message, now)
            continue
        if message.status in ("SENT", "UNCONFIRMED"):  # its record is unfinished
            report.reconciled += _reconcile(services, message)
            continue
        if message.status != "PENDING":
            continue
        outcome = dispatch_one(services, message, now, rates)
        if outcome == "refused":
            report.refused[message.channel] = report.refused.get(message.channel, 0) + 1
            outcome = "deferred"
        setattr(report, outcome, getattr(report, outcome) + 1)
        if outcome == "sent":
            report.by_channel[message.channel] = report.by_channel.get(message.channel, 0) + 1
    earliest = services.outbox.earliest_pending(shard)
    if earliest is not None and earliest < now:
        report.oldest_pending_minutes = int((now - earliest).total_seconds() // 60)
    return report


def dispatch_one(services: Services, message: Message, now: datetime, rates: SendRates | None = None) -> str:
    """Handle one message; returns ``sent``, ``deferred``, ``dropped`` or ``refused`` (the provider refused
    the call: back to PENDING for the next tick)."""
    settings = services.settings
    case = None if message.case_id.startswith("predue:") else services.cases.get(message.case_id)
    if case is not None and not case.is_open:
        return _drop(services, message, case, now, "the case has closed")
    stored = services.loans.get_stored(message.loan_id)
    if stored is None:
        return _drop(services, message, case, now, "the loan is gone")
    loan = stored.loan
    contact = services.loans.contact(message.loan_id, stored)
    if message.recipient == "guarantor":
        if not _guarantor_allowed(loan):
            return _drop(services, message, case, now, "not the borrower, nor a guarantor the rule pack allows")
        contact = {"phone": contact.get("guarantor_phone"), "email": contact.get("guarantor_email")}
    elif message.recipient != "borrower":
        return _drop(services, message, case, now, f"unknown recipient {message.recipient!r}: a third party")
    recipient, rules_of_customer = recipient_for(
        services, loan, case, message.loan_id, message.customer_id, contact, borrower=message.recipient == "borrower"
    )
    rules = contact_rules(settings, loan)
    decision = decide(
        Channel(message.channel), now, recipient, caps_log(loan, case, message.channel, rules_of_customer), rules
    )
    if decision.verdict == Verdict.DEFER and decision.not_before is not None:
        services.outbox.defer(message.message_id, decision.not_before)
        return "deferred"
    if decision.verdict == Verdict.DROP:
        if recipient.complaint_open and _must_reach(message) and not recipient.do_not_contact:
            # a notice the law requires waits out the complaint's pause (looked at again each hour)
            services.outbox.defer(message.message_id, now + HOLD_RECHECK)
            return "deferred"
        return _drop(services, message, case, now, decision.reason)
    if not services.outbox.claim(message.message_id, now):
        return "deferred"  # another dispatcher has it
    if case is not None:
        # a complaint opened (or the case closed) between the gate and the claim: stop here, before
        # anything goes out; the next tick's gate drops it with its reason on the record
        current = services.cases.get(message.case_id)
        if current is None or not current.is_open or current.complaint_open:
            services.outbox.release(message.message_id, now)
            return "deferred"
    if message.channel == "call":  # the agent's script, not the text of the day's SMS
        rendered = call_script(message.template, message.language, message.values)  # type: ignore[arg-type]
    else:
        rendered = render(message.template, message.language, message.values)  # type: ignore[arg-type]
    if rates is not None:
        rates.wait(message.channel)
    try:
        provider_id = _send(services, message, contact, rendered.subject, rendered.text)
    except ProviderRefused:
        # the provider refused the call: nothing went out, so the message goes back to PENDING and the
        # next tick retries it (a crash here, by contrast, leaves it SENDING: never sent twice)
        services.outbox.release(message.message_id, now)
        return "refused"
    services.outbox.sent(message.message_id, now, provider_id)
    message.sent_at, message.provider_id = now, provider_id
    # it went out: its record is tried over a short outage here (a later tick completes it otherwise)
    attempt(lambda: _record_sent(services, message, case, loan, rendered.text, recipient_zone(recipient)))
    return "sent"


def _record_sent(services: Services, message: Message, case: Case | None, loan: Any, text: str, zone: Any) -> None:
    """Everything that follows a send the provider accepted: the customer's contact log, the case's
    record, the limitation period, the credit-report date; then the message leaves the pending-index.
    Each step is idempotent, so a tick that stopped part-way is completed by a later one
    (``_reconcile``): no accepted message is ever missing from the record."""
    at = message.sent_at
    assert at is not None
    if counts_on_customer_log(loan, message.channel):
        services.cases.add_contact(message.customer_id, at, message.message_id)
    if case is not None:
        audit_log.append(
            services,
            message.case_id,
            "message_sent",
            at,
            _record(
                message,
                text,
                provider_id=message.provider_id or "",
                local_time=at.astimezone(zone).strftime("%H:%M"),
            ),
            dedupe=f"sent:{message.message_id}",
        )
        if message.channel in ("sms", "email") and message.recipient == "borrower":
            # a demand on the debtor the provider accepted: it interrupts the period
            from dueflow.services import limitation  # on first use: not in every cold start

            day = at.astimezone(recipient_zone_of(services.settings.time_zone)).date()
            limitation.interrupt(services, case, loan, day, "demand")
        if message.template == "credit_report_prenotice":
            _prenotice_given(services, case, loan, message.values.get("report_from"))
    services.outbox.recorded(message.message_id, "SENT")


def _reconcile(services: Services, message: Message) -> int:
    """A message the provider accepted (SENT) or that may have gone out (UNCONFIRMED) whose record was
    not completed (its dispatcher failed or stopped after the send): complete it now; 1 when done."""
    case = None if message.case_id.startswith("predue:") else services.cases.get(message.case_id)
    if message.status == "UNCONFIRMED":
        _record_unconfirmed(services, message, case)
        return 1
    stored = services.loans.get_stored(message.loan_id)
    loan = stored.loan if stored is not None else None
    if message.channel == "call":
        text = call_script(message.template, message.language, message.values).text  # type: ignore[arg-type]
    else:
        text = render(message.template, message.language, message.values).text  # type: ignore[arg-type]
    zone = recipient_zone_of(
        loan.customer.timezone if loan is not None and loan.customer else services.settings.time_zone
    )
    _record_sent(services, message, case, loan, text, zone)
    return 1


# notices the law requires to reach the customer: a complaint's pause holds them, never drops them (the
# first reminder carries the itemised statement; 12 CFR 1006.34 validation notice; the credit-report
# pre-notice, 征信业管理条例 第十五条 / 12 CFR 1006.30(a)). The cadence's later reminders are dropped with
# the reason on the record: the case, resumed, reminds afresh with the amounts of that day.
REQUIRED_NOTICES = frozenset({"first_reminder", "validation_notice", "credit_report_prenotice"})
HOLD_RECHECK = timedelta(hours=1)


def _must_reach(message: Message) -> bool:
    return message.template in REQUIRED_NOTICES and message.recipient == "borrower"


def _prenotice_given(services: Services, case: Case, loan: Any, named: str | None) -> None:
    """The credit-report pre-notice went out: reporting may start ``days`` after it (and not before the
    day the notice named); recorded once, by the first channel the provider accepted."""
    from dueflow.domain.rules import load_pack

    if case.credit_report_allowed_from is not None or loan.rules is None:
        return
    days = load_pack(loan.rules).credit_report_prenotice_days.days
    allowed = clock.today(services.settings.time_zone) + timedelta(days=days)
    if named:
        allowed = max(allowed, date.fromisoformat(named))
    services.cases.update(case.case_id, {"credit_report_allowed_from": allowed.isoformat()})


def recipient_for(
    services: Services,
    loan: Any,
    case: Case | None,
    loan_id: str,
    customer_id: str,
    contact: dict[str, Any],
    borrower: bool = True,
) -> tuple[Recipient, CustomerRules]:
    """What the contact gate knows about the customer of ``loan`` (``case``: the message's case, None for a
    pre-due reminder): verified channels, opt-outs, pauses, do-not-contact and the quiet after a
    conversation, from the case and the customer's item (one read of it)."""
    verified = {Channel.EMAIL} if contact.get("email") else set()
    if contact.get("phone"):
        verified |= {Channel.SMS, Channel.CALL}
    # a pre-due reminder belongs to no case, but the customer's choices on the loan's open case (an
    # opt-out, a complaint that pauses contact) hold for it too
    governing = services.cases.open_case_for_loan(loan_id) if case is None else case
    # the customer's choices hold for all their loans: opt-outs, a complaint on any case, do-not-contact
    rules_of_customer = customer_rules(services, customer_id)
    # (the case's opt-outs are the borrower's: a guarantor's own choices are on their own item)
    opted_out = {Channel(c) for c in (governing.opt_out if governing is not None and borrower else ())}
    opted_out |= {Channel(c) for c in rules_of_customer.opt_out}
    recipient = Recipient(
        timezone=loan.customer.timezone if loan.customer else services.settings.time_zone,
        verified_channels=frozenset(verified),
        opted_out=frozenset(opted_out),
        complaint_open=(governing is not None and governing.complaint_open) or rules_of_customer.paused,
        do_not_contact=rules_of_customer.do_not_contact is not None,
        do_not_contact_reason=rules_of_customer.do_not_contact,
        calls_quiet_until=_quiet_until(loan, rules_of_customer.last_conversation_at),
    )
    return recipient, rules_of_customer


def call_gate(services: Services, case: Case, stored: Any, at: datetime) -> tuple[Decision, Recipient]:
    """May an agent call the case's customer at ``at``? The gate's answer for a call, with what it knew of
    the customer; the channels are read off the sealed fields' names, nothing is opened."""
    loan = stored.loan
    on_file = {name: "on file" if name in stored.sealed else None for name in ("phone", "email")}
    recipient, customer = recipient_for(services, loan, case, case.loan_id, case.customer_id, on_file)
    rules = contact_rules(services.settings, loan)
    return decide(Channel.CALL, at, recipient, caps_log(loan, case, "call", customer), rules), recipient


def _guarantor_allowed(loan: Any) -> bool:
    """Whether the loan's pack lets its guarantor be contacted at all (their liability is one it names)."""
    if loan.guarantor is None or not getattr(loan, "rules", None):
        return False
    from dueflow.domain.rules import load_pack

    return bool(loan.guarantor.liability in load_pack(loan.rules).guarantors.liabilities)


def _call_caps_per_debt(loan: Any) -> bool:
    """Whether the loan's rule pack caps calls per debt by the dial attempts agents record (us: 7 attempts
    in 7 days per debt, 12 CFR 1006.14(b)(2)(i)) rather than per customer by the contacts sent."""
    if loan is None or not getattr(loan, "rules", None):
        return False
    from dueflow.domain.rules import load_pack

    return load_pack(loan.rules).contact.cap_scope == "debt"


def counts_on_customer_log(loan: Any, channel: str) -> bool:
    """Whether a message sent on ``channel`` goes on the customer's caps log: SMS always; a call task
    unless the pack counts the debt's dial attempts instead (creating a task is not a call)."""
    return channel == "sms" or (channel == "call" and not _call_caps_per_debt(loan))


def caps_log(loan: Any, case: Case | None, channel: str, customer: CustomerRules) -> list[datetime]:
    """The contacts the caps count for a message on ``channel``: the debt's recorded dial attempts for a
    call under a pack that caps calls per debt, else the customer's log (SMS and calls, every loan)."""
    if channel == "call" and _call_caps_per_debt(loan):
        return [datetime.fromisoformat(t) for t in (case.call_attempts if case is not None else ())]
    return list(customer.contacts)


def _quiet_until(loan: Any, last_conversation: datetime | None) -> datetime | None:
    """The end of the loan's rule pack's quiet period for calls after a telephone conversation (us: 7 days,
    12 CFR 1006.14(b)(2)(ii)); None when the pack has none or there was no conversation."""
    if last_conversation is None or loan.rules is None:
        return None
    from dueflow.domain.rules import load_pack

    days = load_pack(loan.rules).contact.quiet_days_after_conversation
    return last_conversation + timedelta(days=days) if days else None


def _record(message: Message, text: str, **extra: str) -> dict[str, str]:
    """The audit body of a message that went out (or may have): what was said, never to which address."""
    return {
        "message_id": message.message_id,
        "channel": message.channel,
        "template": message.template,
        "language": message.language,
        "text": text,
        **extra,
    }


def _settle_in_doubt(services: Services, message: Message, now: datetime) -> int:
    """A message whose dispatcher stopped between claiming and recording it: it may have gone out, so it
    is not sent again; it counts against the caps and goes on the case's record as unconfirmed."""
    if not services.outbox.unconfirmed(message.message_id, now):
        return 0
    message.sent_at = now  # settled now: the time on its record and on the contact log
    case = None if message.case_id.startswith("predue:") else services.cases.get(message.case_id)
    attempt(lambda: _record_unconfirmed(services, message, case))
    return 1


def _record_unconfirmed(services: Services, message: Message, case: Case | None) -> None:
    """An unconfirmed message counts against the caps and goes on the case's record (idempotent), then
    leaves the pending-index."""
    at = message.sent_at
    assert at is not None
    if message.channel in ("sms", "call"):
        services.cases.add_contact(message.customer_id, at, message.message_id)
    if case is not None:
        rendered = render(message.template, message.language, message.values)  # type: ignore[arg-type]
        audit_log.append(
            services,
            message.case_id,
            "message_unconfirmed",
            at,
            _record(
                message,
                rendered.text,
                reason="the dispatcher stopped after claiming it; it may have gone out and is not sent again",
            ),
            dedupe=f"unconfirmed:{message.message_id}",
        )
    services.outbox.recorded(message.message_id, "UNCONFIRMED")


def contact_rules(settings: Any, loan: Any = None) -> ContactRules:
    """The contact window and caps: the loan's rule pack's when it names one (docs/rules.md), else the
    deployment's settings."""
    if loan is not None and getattr(loan, "rules", None):
        from dueflow.domain.rules import load_pack

        pack = load_pack(loan.rules).contact
        return ContactRules(pack.window_start, pack.window_end, pack.max_per_day, pack.max_per_7_days)
    return ContactRules(
        settings.contact_window_start,
        settings.contact_window_end,
        settings.max_contacts_per_day,
        settings.max_contacts_per_7_days,
    )


def first_send_time(services: Services, loan: Any, at: datetime) -> datetime:
    """When a message to ``loan``'s customer queued for ``at`` may first go out: ``at`` or the next
    opening of the contact window in the customer's zone."""
    zone = loan.customer.timezone if loan.customer else services.settings.time_zone
    return first_window_moment(at, zone, contact_rules(services.settings, loan))


def recipient_zone(recipient: Recipient) -> Any:
    return recipient_zone_of(recipient.timezone)


def recipient_zone_of(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _send(services: Services, message: Message, contact: dict[str, str | None], subject: str, text: str) -> str:
    if message.channel == "sms":
        return services.notifier.send_sms(str(contact["phone"]), text)
    if message.channel == "email":
        return services.notifier.send_email(str(contact["email"]), subject, text)
    # an agent call task: the agent looks the case up; no contact details travel on the topic
    return services.notifier.notify_staff(
        "DueFlow: call task", {"type": "call_task", "case_id": message.case_id, "template": message.template}
    )


def _drop(services: Services, message: Message, case: Case | None, now: datetime, reason: str) -> str:
    if services.outbox.drop(message.message_id, reason) and case is not None:
        audit_log.append(
            services,
            message.case_id,
            "message_dropped",
            now,
            {
                "message_id": message.message_id,
                "channel": message.channel,
                "template": message.template,
                "reason": reason,
            },
            dedupe=f"dropped:{message.message_id}",
        )
    return "dropped"
