"""Sealing a day: every case's audit-chain head, chained to the day before, signed, stored write-once
beside the records (``dueflow.domain.digest``). The daily scan seals the day before it runs; a run of the
simulator seals its last day when it ends. Safe to run again: a day is sealed once."""

from __future__ import annotations

from dueflow.domain.digest import build, statement
from dueflow.services import audit_log
from dueflow.services.context import Services


def seal_day(services: Services, day: str) -> bool:
    """Seal ``day`` (ISO date) unless it is sealed already; True when this call sealed it."""
    latest = services.audit_store.latest_seal()
    if latest is not None and services.audit_store.seal_signature(latest[0]) is None:
        # a seal stopped between its digest and its signature: the digest is fixed, sign it now
        services.audit_store.put_seal(latest[0], latest[1], services.signer.sign(statement(latest[0], latest[1])))
    if latest is not None and latest[0] >= day:
        return False  # sealed already (days are sealed in order)
    previous = latest[1] if latest is not None else None
    cases = list(services.cases.all())
    for case in cases:
        if case.audit_pending:
            # a record claimed on the case whose writer stopped before storing it: stored now, so that
            # the digest commits only to records that are in the bucket
            audit_log.finish_pending(services, case)
    heads = [
        (case.loan_id, case.case_id, case.audit_seq, case.audit_head)
        for case in cases
        if case.audit_seq and case.audit_head
    ]
    body = build(day, previous, heads).to_bytes()
    services.audit_store.put_seal(day, body, services.signer.sign(statement(day, body)))
    return True
