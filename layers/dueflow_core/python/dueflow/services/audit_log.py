"""Appending to a case's audit chain, safely under retries, crashes and concurrent writers.

The case item is the serialisation point. An append (1) finishes any record another writer claimed but
did not store, (2) claims the next sequence number on the case in one conditional write that also
records the new head, the record's bytes (``audit_pending``) and the caller's dedupe key, (3) stores the
record in the Object Lock bucket, (4) clears ``audit_pending``. A crash after (2) is repaired by the
next append of any writer, from the bytes on the case; a retry of the same logical append finds its
dedupe key and writes nothing new. So the chain never forks, never stalls and never holds a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dueflow.domain.audit_chain import GENESIS, AuditRecord, sha256
from dueflow.domain.case import Case
from dueflow.services.context import Services

_ATTEMPTS = 8


def append(services: Services, case_id: str, record_type: str, at: datetime, body: dict[str, Any], dedupe: str) -> int:
    """Append one record; return its sequence number. ``dedupe`` names the logical event (for example
    ``"<execution>:<state>:<entered>:stage_entered"``): appending the same ``dedupe`` again is a no-op."""
    for _ in range(_ATTEMPTS):
        case = services.cases.require(case_id)
        if case.audit_pending:
            finish_pending(services, case)
            continue
        if dedupe in case.audit_keys:
            return case.audit_seq  # a retry of an append that already happened
        seq = case.audit_seq
        record = AuditRecord(
            loan_id=case.loan_id,
            case_id=case_id,
            seq=seq + 1,
            type=record_type,
            at=at,
            body=body,
            prev_hash=case.audit_head or GENESIS,
        )
        data = record.to_bytes()
        if not _claim(services, case_id, seq, record, data, dedupe):
            continue  # someone else appended meanwhile: start again from the new head
        services.audit_store.append(record)
        _clear_pending(services, case_id, record.key)
        return record.seq
    raise RuntimeError(f"could not append a {record_type} record to case {case_id} after {_ATTEMPTS} attempts")


def _claim(services: Services, case_id: str, seq: int, record: AuditRecord, data: bytes, dedupe: str) -> bool:
    return services.cases.claim_audit(case_id, seq, record.seq, sha256(data), record.key, data.decode(), dedupe)


def finish_pending(services: Services, case: Case) -> None:
    """Store the record another writer claimed (the bytes are on the case), then clear the claim."""
    record = AuditRecord.from_bytes((case.audit_pending_body or "").encode())
    services.audit_store.append(record)
    _clear_pending(services, case.case_id, str(case.audit_pending))


def _clear_pending(services: Services, case_id: str, key: str) -> None:
    services.cases.update(
        case_id,
        remove=("audit_pending", "audit_pending_body"),
        expect={"audit_pending": key},
    )
