"""The audit record and its hash chain (pure: no storage).

Every record of a case is one canonical JSON document carrying ``prev_hash``, the SHA-256 of the bytes
of the case's previous record (64 zeros for the first). Changing, removing or inserting a record breaks
the chain at the next record; the case keeps the hash of its last record (``audit_head``) so that a
change to the last one is caught too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
_TYPE = re.compile(r"^[a-z][a-z_]{1,39}$")
_KEY = re.compile(r"^cases/(?P<loan_id>[^/]+)/(?P<case_id>[^/]+)/(?P<seq>[0-9]{6})-(?P<type>[a-z_]+)\.json$")

RECORD_TYPES = frozenset(
    {
        "case_opened",
        "stage_entered",
        "statement",
        "message_sent",
        "message_unconfirmed",
        "message_dropped",
        "customer_reply",
        "call_attempt",
        "call_outcome",
        "case_assigned",
        "phone_revealed",
        "note",
        "plan_proposed",
        "plan_accepted",
        "waiver_decision",
        "waiver_reinstated",
        "promise_to_pay",
        "promise_kept",
        "promise_broken",
        "payment_received",
        "execution_continued",
        "execution_restarted",
        "complaint_opened",
        "complaint_resolved",
        "complaint_escalated",
        "legal_assessment",
        "limitation_nearing",
        "litigation_package",
        "acceleration_notice",
        "case_closed",
    }
)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One immutable record. ``at`` is timezone-aware; ``body`` holds ids and amounts, never plaintext
    PII (rendered messages are stored encrypted)."""

    loan_id: str
    case_id: str
    seq: int
    type: str
    at: datetime
    body: dict[str, Any]
    prev_hash: str

    def __post_init__(self) -> None:
        if self.type not in RECORD_TYPES:
            raise ValueError(f"unknown audit record type {self.type!r}")
        if self.seq < 1:
            raise ValueError("seq starts at 1")
        if self.at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        if not re.fullmatch(r"[0-9a-f]{64}", self.prev_hash):
            raise ValueError("prev_hash must be a SHA-256 hex digest")

    @property
    def key(self) -> str:
        """Object key: ``cases/<loan_id>/<case_id>/<seq>-<type>.json`` (ids only, no PII)."""
        return f"cases/{self.loan_id}/{self.case_id}/{self.seq:06d}-{self.type}.json"

    def to_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no insignificant white space, UTF-8."""
        document = {
            "loan_id": self.loan_id,
            "case_id": self.case_id,
            "seq": self.seq,
            "type": self.type,
            "at": self.at.isoformat(),
            "body": self.body,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    @property
    def digest(self) -> str:
        return sha256(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditRecord:
        doc = json.loads(data)
        return cls(
            loan_id=doc["loan_id"],
            case_id=doc["case_id"],
            seq=doc["seq"],
            type=doc["type"],
            at=datetime.fromisoformat(doc["at"]),
            body=doc["body"],
            prev_hash=doc["prev_hash"],
        )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def next_record(
    previous: AuditRecord | None,
    *,
    loan_id: str,
    case_id: str,
    type: str,
    at: datetime,
    body: dict[str, Any],
) -> AuditRecord:
    """The record that follows ``previous`` in the case's chain (the first when None)."""
    return AuditRecord(
        loan_id=loan_id,
        case_id=case_id,
        seq=previous.seq + 1 if previous else 1,
        type=type,
        at=at,
        body=body,
        prev_hash=previous.digest if previous else GENESIS,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of verifying one case's chain: ``ok`` and, if not, every problem found."""

    case_id: str
    records: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(case_id: str, objects: Sequence[tuple[str, bytes]], expected_head: str | None = None) -> ChainReport:
    """Verify a case's stored objects ``(key, bytes)``: keys well-formed and matching their content,
    sequence numbers 1..n without gaps, each ``prev_hash`` equal to the SHA-256 of the previous object's
    bytes, and, when given, the last object's hash equal to ``expected_head``."""
    problems: list[str] = []
    ordered = sorted(objects, key=lambda item: item[0])
    previous_hash = GENESIS
    expected_seq = 1
    for key, data in ordered:
        match = _KEY.match(key)
        if not match:
            problems.append(f"{key}: not an audit record key")
            continue
        try:
            record = AuditRecord.from_bytes(data)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{key}: unreadable record ({exc})")
            previous_hash = sha256(data)
            expected_seq = int(match["seq"]) + 1
            continue
        seq = int(match["seq"])
        if seq != expected_seq:
            problems.append(f"{key}: expected record {expected_seq:06d}, found {seq:06d} (missing records)")
        if record.key != key:
            problems.append(f"{key}: content says {record.key}")
        if record.prev_hash != previous_hash:
            problems.append(f"{key}: prev_hash does not match the previous record (altered or removed)")
        previous_hash = sha256(data)
        expected_seq = seq + 1
    if expected_head is not None and ordered and previous_hash != expected_head:
        problems.append(f"{ordered[-1][0]}: last record does not match the case's audit head (altered)")
    if expected_head is not None and expected_head != GENESIS and not ordered:
        problems.append("no records found, but the case has an audit head")
    return ChainReport(case_id=case_id, records=len(ordered), problems=tuple(problems))
