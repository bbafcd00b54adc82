"""Queuing a case's customer messages and agent call tasks in the outbox (the dispatcher sends them).

Message ids are deterministic (``<case>:<tag>:<channel>``), so a retried stage never queues one twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.messages import loan_reference, statement_text
from dueflow.domain.money import fmt
from dueflow.domain.outbox import Message
from dueflow.domain.position import Position
from dueflow.services.context import Services
from dueflow.services.dispatch import first_send_time
from dueflow.settings import Settings


def queue_reminder(
    services: Services, case: Case, loan: Loan, position: Position, template: str, tag: str, at: datetime
) -> int:
    """A reminder by every channel the borrower has, its ids named by ``tag``; how many were queued (0 for
    a retried stage)."""
    values = reminder_values(loan, position, services.settings)
    queued = 0
    for channel in channels(services, loan):
        extra = {}
        if channel == "email" and template == "first_reminder":  # the first e-mail carries the statement
            extra = {"statement": itemised(loan, position, services.settings)}
        queued += queue_message(services, case, loan, channel, template, values | extra, tag, at)
    return queued


def itemised(loan: Loan, position: Position, settings: Settings) -> str:
    """The itemised statement in the customer's language (for the first e-mail)."""
    from dueflow.domain.statement import statement_dict

    language = loan.customer.language if loan.customer else "zh-CN"
    rate = f"{loan.annual_rate * loan.penalty_rate_multiplier:.2%}"
    return statement_text(language, statement_dict(position), rate, settings.payment_instructions)


def queue_message(
    services: Services,
    case: Case,
    loan: Loan,
    channel: str,
    template: str,
    values: dict[str, str],
    tag: str,
    at: datetime,
    recipient: str = "borrower",
    language: str | None = None,
) -> bool:
    """Queue one message for the first moment the contact window allows at or after ``at`` (to the
    borrower, or to the guarantor: their own contact log and caps, keyed ``<customer>~guarantor``)."""
    language = language or (loan.customer.language if loan.customer else "zh-CN")
    message = Message(
        message_id=f"{case.case_id}:{tag}:{channel}",
        case_id=case.case_id,
        loan_id=loan.loan_id,
        customer_id=loan.customer_id if recipient == "borrower" else f"{loan.customer_id}~{recipient}",
        recipient=recipient,
        channel=channel,
        template=template,
        language=language,
        not_before=first_send_time(services, loan, max(clock.now(), at)),
        values=values,
        created_at=clock.now(),
    )
    return services.outbox.enqueue(message)


def reminder_values(loan: Loan, position: Position, settings: Settings) -> dict[str, str]:
    """What a reminder template is filled with (no PII: the loan's short reference, amounts, dates; the
    bank's hotline from the settings)."""
    return {
        "ref": loan_reference(loan.loan_id),
        "amount": fmt(position.total_overdue),
        "currency": loan.currency,
        "due_date": (position.next_due_date or position.as_of).isoformat(),
        "bank_phone": settings.bank_hotline,
        "bank": settings.bank_name,
        "as_of": position.as_of.isoformat(),
        **({"opt_out_line": "yes"} if _pack_requires(loan, "opt_out_notice") else {}),
        **({"complaint_line": "yes"} if _pack_requires(loan, "complaint_route") else {}),
    }


def _pack_requires(loan: Loan, line: str) -> bool:
    if loan.rules is None:
        return False
    from dueflow.domain.rules import load_pack

    return line in load_pack(loan.rules).messages.mandatory_lines


def queue_validation_notice(services: Services, case: Case, loan: Loan, position: Position, at: datetime) -> int:
    """The validation notice a pack requires within days of the first contact (us: 5 days, 15 U.S.C.
    1692g(a)): by e-mail with the first reminder. Its dispute window (12 CFR 1006.34(b)(5)) ends 30 days
    after the customer is assumed to receive it: the pack's ``assumed_receipt_business_days`` (us: 5,
    excluding legal public holidays, Saturdays and Sundays) after the day it goes out in the customer's
    zone. It names the bank as the creditor when the bank collects its own loan
    (``Settings.collects_own_debt``), else as a debt collector."""
    if not _pack_requires(loan, "validation_notice"):
        return 0
    dispute_by = validation_dispute_by(services, loan, at)
    values = reminder_values(loan, position, services.settings) | {
        "dispute_by": dispute_by.isoformat(),
        "sender_role": "creditor" if services.settings.collects_own_debt else "debt_collector",
    }
    return sum(
        queue_message(services, case, loan, channel, "validation_notice", values, "validation", at)
        for channel in channels(services, loan)
        if channel == "email"
    )


def validation_dispute_by(services: Services, loan: Loan, at: datetime) -> date:
    """The last day of the validation period of a notice queued at ``at`` (12 CFR 1006.34(b)(5)): 30
    days after its assumed receipt, counted from the day it may first go out in the customer's zone."""
    from zoneinfo import ZoneInfo

    from dueflow.domain.rules import business_days_after, load_pack

    assert loan.rules is not None  # only a pack requires the notice
    pack = load_pack(loan.rules)
    zone = loan.customer.timezone if loan.customer else services.settings.time_zone
    sent = first_send_time(services, loan, max(clock.now(), at)).astimezone(ZoneInfo(zone)).date()
    received = business_days_after(sent, pack.messages.assumed_receipt_business_days, pack.calendar.kind)
    return received + timedelta(days=30)


def queue_credit_report_prenotice(services: Services, case: Case, loan: Loan, position: Position, at: datetime) -> int:
    """The notice before adverse information goes to a credit bureau (cn: 征信业管理条例 第十五条, 7 days
    ahead; us: 12 CFR 1006.30(a), 14 days after a communication), by every channel with the first
    reminder. The case records the day reporting may start once the provider accepts it (the dispatcher:
    ``credit_report_allowed_from``), never earlier than the day the notice names."""
    if loan.rules is None:
        return 0
    from dueflow.domain.rules import load_pack

    days = load_pack(loan.rules).credit_report_prenotice_days.days
    if not days:
        return 0
    values = reminder_values(loan, position, services.settings) | {
        "report_from": (position.as_of + timedelta(days=days)).isoformat()
    }
    return sum(
        queue_message(services, case, loan, channel, "credit_report_prenotice", values, "prenotice", at)
        for channel in channels(services, loan)
    )


def guarantor_may_be_asked(loan: Loan, position: Position) -> bool:
    """Whether the loan's rule pack lets the bank ask its guarantor to pay now: a guarantor of a liability
    the pack names, from its days past due on (docs/rules.md, ``guarantors``)."""
    if loan.guarantor is None or loan.rules is None:
        return False
    from dueflow.domain.rules import load_pack

    rule = load_pack(loan.rules).guarantors
    return loan.guarantor.liability in rule.liabilities and position.dpd >= rule.contact_after_dpd


def queue_guarantor_notice(services: Services, case: Case, loan: Loan, position: Position, at: datetime) -> int:
    """The guarantor's notice, once a case, by the guarantor's channels, when the pack allows it."""
    if not guarantor_may_be_asked(loan, position):
        return 0
    stored = services.loans.get_stored(loan.loan_id)
    guarantor = loan.guarantor
    assert guarantor is not None
    values = reminder_values(loan, position, services.settings)
    return sum(
        queue_message(
            services,
            case,
            loan,
            channel,
            "guarantor_notice",
            values,
            "guarantor",
            at,
            recipient="guarantor",
            language=guarantor.language,
        )
        for channel in (stored.guarantor_channels if stored is not None else [])
    )


def channels(services: Services, loan: Loan) -> list[str]:
    """The channels the borrower has contact details for (known without opening them)."""
    stored = services.loans.get_stored(loan.loan_id)
    return stored.channels if stored is not None else []


def require_loan(services: Services, loan_id: str) -> Loan:
    loan = services.loans.get(loan_id)
    if loan is None:
        raise KeyError(f"no loan {loan_id!r}")
    return loan
