"""The daily digest: every case's audit-chain head at the end of a day, chained to the day before and
signed, so that the audit records can be verified without trusting the folder or bucket they are read
from (see docs/security.md, "What audit verification proves").

A digest's body is canonical JSON ``{"day", "previous", "heads": [[loan_id, case_id, seq, head], ...]}``
(``previous`` is the SHA-256 of the previous day's body, or ``GENESIS``); what is signed is the short
statement ``{"day", "body_sha256"}`` (ECDSA P-256 with SHA-256: a KMS asymmetric key in AWS, a local key
in the local runtime), short enough for KMS to sign as a raw message. Pure: no keys here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from dueflow.domain.audit_chain import GENESIS


@dataclass(frozen=True, slots=True)
class Digest:
    day: str
    previous: str
    heads: tuple[tuple[str, str, int, str], ...]  # (loan_id, case_id, seq, head)

    def to_bytes(self) -> bytes:
        body = {"day": self.day, "previous": self.previous, "heads": [list(h) for h in self.heads]}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Digest:
        raw = json.loads(data)
        heads = tuple((str(h[0]), str(h[1]), int(h[2]), str(h[3])) for h in raw["heads"])
        return cls(day=str(raw["day"]), previous=str(raw["previous"]), heads=heads)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(day: str, previous_body: bytes | None, heads: Iterable[tuple[str, str, int, str]]) -> Digest:
    """The digest of ``day`` after the one whose body is ``previous_body`` (None for the first)."""
    previous = sha256(previous_body) if previous_body is not None else GENESIS
    return Digest(day=day, previous=previous, heads=tuple(sorted(heads)))


def statement(day: str, body: bytes) -> bytes:
    """What is signed for a digest: its day and its body's SHA-256."""
    return json.dumps({"day": day, "body_sha256": sha256(body)}, sort_keys=True, separators=(",", ":")).encode()
