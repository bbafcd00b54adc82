"""Everything a service needs: the settings and one adapter per port (``dueflow.ports``).

Built once per Lambda container from the environment (the AWS world, ``dueflow.adapters.aws``), or by
the local runtime for either world (AWS adapters on moto, or the in-memory world).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dueflow import clock
from dueflow.adapters.pii import PiiCipher
from dueflow.domain.loan import Loan
from dueflow.ports import AuditStore, CaseStore, CaseWorkflow, LoanStore, Notifier, OutboxStore, Signer
from dueflow.settings import Settings


@dataclass
class Services:
    settings: Settings
    loans: LoanStore
    cases: CaseStore
    outbox: OutboxStore
    audit_store: AuditStore
    workflow: CaseWorkflow
    notifier: Notifier
    pii: PiiCipher
    signer: Signer


_default: Services | None = None


def default_services() -> Services:
    """The container's Services, built on first use from the environment (handlers call this)."""
    global _default  # noqa: PLW0603 - one per Lambda container, reused across invocations
    if _default is None:
        from dueflow.adapters.aws import services_from_env

        _default = services_from_env()
    return _default


def set_default_services(services: Services | None) -> None:
    """Use ``services`` for the handlers from now on (the local runtime's world); None forgets them."""
    global _default  # noqa: PLW0603
    _default = services


def reset_default_services() -> None:
    """Forget the cached Services (the local runtime calls this when it starts a new world)."""
    set_default_services(None)


def loan_zone(loan: Loan, settings: Settings) -> str:
    """The loan's own time zone, the contract's: its customer's (the bank's when it names no customer).
    Its calendar decides when an installment is overdue (docs/formulas.md, "Which day it is")."""
    return loan.customer.timezone if loan.customer is not None else settings.time_zone


def loan_date(loan: Loan, settings: Settings, at: datetime | None = None) -> date:
    """The date on the loan's own calendar at ``at`` (now by default): the day its position is taken
    as of, so that a New York customer's loan is not overdue in the afternoon of its due date there."""
    from zoneinfo import ZoneInfo

    return (at or clock.now()).astimezone(ZoneInfo(loan_zone(loan, settings))).date()


def scan_moment(as_of: date, settings: Settings) -> datetime:
    """When the daily scan of the business date ``as_of`` runs (``scan_time`` in the bank's zone): the
    moment each loan's position is taken at, whatever time a retry of the scan runs."""
    from zoneinfo import ZoneInfo

    return datetime.combine(as_of, settings.scan_time, tzinfo=ZoneInfo(settings.time_zone))
