"""Everything a service needs: the settings and one adapter per port (``dueflow.ports``).

Built once per Lambda container from the environment (the AWS world, ``dueflow.adapters.aws``), or by
the local runtime for either world (AWS adapters on moto, or the in-memory world).
"""

from __future__ import annotations

from dataclasses import dataclass

from dueflow.adapters.pii import PiiCipher
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
