"""The in-memory world: every port of ``dueflow.ports`` on Python dicts, with the AWS world's semantics.

- Stores hold values as DynamoDB would give them back (None left out, whole numbers as ``int``, other
  numbers as ``Decimal``, floats refused, sets as sets, empty sets left out) and hand out copies, so a
  caller that changes what it read changes nothing stored.
- Conditional writes behave as their DynamoDB expressions: ``update(expect=...)`` fails when an
  attribute is missing or differs; ``claim_audit`` is ``(attribute_not_exists(audit_seq) OR audit_seq =
  :seq) AND attribute_not_exists(audit_pending) AND NOT contains(audit_keys, :dedupe)``; an update of a
  missing item creates it (UpdateItem upserts).
- The sparse sharded indexes (due-index, wake-index, pending-index) and the loan-index are kept sorted
  (``sortedcontainers``), so a query costs what it returns, not the size of the table. Items with equal
  sort keys come back in primary-key order.
- Audit objects are written once (a different body under a key is ``AuditConflictError``, as the
  ``If-None-Match: *`` put is on S3) and never deleted.
- PII is sealed in exactly the AWS world's format (``dueflow.adapters.pii``), with data keys wrapped by
  a local key (AES-GCM, the owner bound as associated data) instead of KMS.

Every operation goes through ``Wire``: it is counted under the AWS operation it stands for (the meter
prices a run in either world) and may be failed by an injected fault (``ServiceUnavailable``, or
``ProviderRefused`` for a message).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sortedcontainers import SortedList

from dueflow.adapters.pii import PiiCipher
from dueflow.domain.audit_chain import AuditRecord
from dueflow.domain.case import Case, check_attributes, item_value
from dueflow.domain.loan import Loan
from dueflow.domain.outbox import KEEP_DAYS, Message
from dueflow.domain.position import assess
from dueflow.domain.rules import PackSelection
from dueflow.ports import AuditConflictError, ProviderRefused, ScanStats, ServiceUnavailable, StoredLoan
from dueflow.sharding import shard_label, shard_of
from dueflow.stores import (
    CONCURRENT_ATTEMPTS,
    CaseParking,
    MessageLifecycle,
    contact_log,
    pii_fields,
    posted,
    with_default_pack,
    without_pii,
)

CONTACT_LOG_PREFIX = "customer#"

Hook = Callable[[str, str, Mapping[str, Any]], None]


@dataclass
class Wire:
    """What stands between a port and its in-memory store: ``before`` hooks (the meter counts, a fault
    plan may raise ``ServiceUnavailable``) and ``after`` hooks (the meter keeps what a provider accepted)."""

    before: list[Hook] = field(default_factory=list)
    after: list[Hook] = field(default_factory=list)

    def call(self, service: str, operation: str, params: Mapping[str, Any] | None = None) -> None:
        for hook in self.before:
            hook(service, operation, params or {})

    def done(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        for hook in self.after:
            hook(service, operation, params)


# -- values as DynamoDB keeps them ---------------------------------------------------------------------
def stored_value(value: Any) -> Any:
    """``value`` as it would come back from DynamoDB (``dueflow.adapters.dynamo.to_item`` then
    ``from_item``), or None when it would be left out."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not stored: use Decimal")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        if number == number.to_integral_value() and number.as_tuple().exponent >= 0:  # type: ignore[operator]
            return int(number)
        return number.normalize() if number.as_tuple().exponent < 0 else number  # type: ignore[operator]
    if isinstance(value, dict):
        return {str(k): v for k, v in ((k, stored_value(v)) for k, v in value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [stored_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {stored_value(v) for v in value} if value else None
    raise TypeError(f"Unsupported type {type(value)!r} for value {value!r}")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


class _Index:
    """A sparse global secondary index: (partition, sort key, primary key) kept sorted."""

    def __init__(self, partition: str, sort: str) -> None:
        self.partition = partition
        self.sort = sort
        self._entries: dict[str, tuple[str, str, str]] = {}
        self._sorted: SortedList = SortedList()

    def put(self, key: str, item: Mapping[str, Any]) -> None:
        entry = None
        if isinstance(item.get(self.partition), str) and isinstance(item.get(self.sort), str):
            entry = (item[self.partition], item[self.sort], key)
        old = self._entries.get(key)
        if old == entry:
            return
        if old is not None:
            self._sorted.remove(old)
            del self._entries[key]
        if entry is not None:
            self._sorted.add(entry)
            self._entries[key] = entry

    def query(
        self,
        partition: str,
        upper: str | None = None,
        newest_first: bool = False,
        after: tuple[str, str] | None = None,
    ) -> list[str]:
        """Primary keys with this partition (and sort key <= ``upper``), in sort-key order (after the
        entry (sort key, primary key) ``after``, as DynamoDB's ExclusiveStartKey)."""
        if after is not None:
            start = self._sorted.bisect_right((partition, after[0], after[1]))
        else:
            start = self._sorted.bisect_left((partition,))
        stop = self._sorted.bisect_left((partition, upper + "\x00")) if upper is not None else None
        if stop is None:
            stop = self._sorted.bisect_left((partition + "\x00",))
        keys = [entry[2] for entry in self._sorted.islice(start, stop)]
        return keys[::-1] if newest_first else keys

    def __len__(self) -> int:
        return len(self._sorted)


class _Table:
    """Items by primary key, with their indexes; reads hand out copies."""

    def __init__(self, wire: Wire, service_key: str, indexes: Iterable[_Index] = ()) -> None:
        self.wire = wire
        self.key = service_key
        self.items: dict[str, dict[str, Any]] = {}
        self.indexes = list(indexes)
        self.lock = threading.Lock()  # one request at a time, as DynamoDB applies each atomically

    def read(self, key: str) -> dict[str, Any] | None:
        item = self.items.get(key)
        return _copy(item) if item is not None else None

    def write(self, key: str, item: dict[str, Any]) -> None:
        self.items[key] = item
        for index in self.indexes:
            index.put(key, item)


# -- loans ---------------------------------------------------------------------------------------------
class LocalKeys:
    """The ``KeyService`` port without KMS: data keys wrapped with a local AES-256 key, the owner bound as
    associated data (a key wrapped for one owner does not open for another, as KMS's encryption context)."""

    def __init__(self, wire: Wire | None = None, master: bytes | None = None) -> None:
        self._wire = wire or Wire()
        self._master = AESGCM(master or AESGCM.generate_key(bit_length=256))

    def generate_data_key(self, owner_id: str) -> tuple[bytes, bytes]:
        self._wire.call("kms", "GenerateDataKey")
        plaintext = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        return plaintext, nonce + self._master.encrypt(nonce, plaintext, f"pii/{owner_id}".encode())

    def decrypt(self, wrapped: bytes, owner_id: str) -> bytes:
        self._wire.call("kms", "Decrypt")
        return self._master.decrypt(wrapped[:12], wrapped[12:], f"pii/{owner_id}".encode())


class LocalSigner:
    """The ``Signer`` port without KMS: an ECDSA P-256 key derived from ``seed`` (a run's key is the same
    each time it is replayed; a bank's verifier pins its public half)."""

    def __init__(self, wire: Wire | None = None, seed: str = "dueflow-local") -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._wire = wire or Wire()
        secret = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (2**255) + 1
        self._key = ec.derive_private_key(secret, ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        self._wire.call("kms", "Sign")
        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        self._wire.call("kms", "GetPublicKey")
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class MemoryLoanStore:
    """The loans table. Each change is also appended to ``changes`` (the table's stream: the loan after
    the write, as ``NEW_IMAGE`` would show it), which the local runtime delivers to ``payment_stream``."""

    def __init__(
        self, wire: Wire, shards: int, cipher: PiiCipher, default_pack: PackSelection | str | None = None
    ) -> None:
        self._wire = wire
        self._shards = shards
        self._cipher = cipher
        self._default_pack = default_pack
        self._due = _Index("due_shard", "next_due_date")
        self._table = _Table(wire, "loan_id", [self._due])
        self.changes: list[StoredLoan] = []

    def put(self, loans: Iterable[Loan], as_of: date) -> int:
        count = 0
        for given in loans:
            loan = with_default_pack(given, self._default_pack)
            if count % 25 == 0:
                self._wire.call("dynamodb", "BatchWriteItem")
            sealed: dict[str, str] = {}
            fields = pii_fields(loan)
            if any(fields.values()):
                sealed = {k: v for k, v in self._cipher.seal(loan.loan_id, fields).items() if v}
            public = without_pii(loan)
            with self._table.lock:
                self._table.write(loan.loan_id, self._item(public, sealed, as_of))
            count += 1
        return count

    def _item(self, loan: Loan, sealed: Mapping[str, str], as_of: date) -> dict[str, Any]:
        item: dict[str, Any] = {"loan_id": loan.loan_id, "loan": loan, "sealed": dict(sealed)}
        position = assess(loan, as_of)
        due = as_of - timedelta(days=position.dpd) if position.dpd else position.next_due_date
        if due is not None:
            item["due_shard"] = shard_of(loan.loan_id, self._shards)
            item["next_due_date"] = due.isoformat()
        return item

    def get(self, loan_id: str) -> Loan | None:
        stored = self.get_stored(loan_id)
        return stored.loan if stored is not None else None

    def get_stored(self, loan_id: str) -> StoredLoan | None:
        self._wire.call("dynamodb", "GetItem")
        item = self._table.items.get(loan_id)
        return StoredLoan(item["loan"], dict(item["sealed"])) if item is not None else None

    def contact(self, loan_id: str, stored: StoredLoan | None = None) -> dict[str, str | None]:
        stored = stored if stored is not None else self.get_stored(loan_id)
        sealed = dict(stored.sealed) if stored is not None else {}
        return self._cipher.open(loan_id, sealed) if sealed else {}

    def add_payment(self, loan_id: str, paid_on: date, amount: str, as_of: date, reference: str | None = None) -> Loan:
        payment = {"date": paid_on.isoformat(), "amount": amount} | ({"reference": reference} if reference else {})
        return self._change(loan_id, as_of, "payments", payment)

    def post_entry(self, loan_id: str, entry: Mapping[str, Any], as_of: date) -> Loan:
        return self._change(loan_id, as_of, "adjustments", dict(entry))

    def _change(self, loan_id: str, as_of: date, field: str, value: dict[str, Any]) -> Loan:
        """Append ``value`` to the loan's ``field`` list unless it is there already; the write is
        conditional on the record read, and retried on the record as it then is (concurrent postings)."""
        for _ in range(CONCURRENT_ATTEMPTS):
            stored = self.get_stored(loan_id)
            if stored is None:
                raise KeyError(f"no loan {loan_id!r}")
            loan = stored.loan
            updated = posted(loan, field, value)  # the loan's rules: a refused change raises, nothing changes
            if updated is None:
                return loan
            self._wire.call("dynamodb", "PutItem")
            with self._table.lock:
                if self._table.items[loan_id]["loan"] is not loan:  # ConditionExpression "#r = :old"
                    continue  # written meanwhile: apply it again to the record as it is now
                self._table.write(loan_id, self._item(updated, stored.sealed, as_of))
            self.changes.append(StoredLoan(updated, dict(stored.sealed)))
            return updated
        raise ServiceUnavailable("dynamodb", "PutItem", f"loan {loan_id} kept changing under the posting")

    def due_by(
        self,
        as_of: date,
        horizon_days: int,
        stats: ScanStats | None = None,
        shard: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> Iterator[StoredLoan]:
        upper = (as_of + timedelta(days=horizon_days)).isoformat()
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            keys = self._due.query(shard_label(current, self._shards), upper, after=after)
            if stats is not None:
                stats.queries += 1
                stats.scanned += len(keys)
                stats.returned += len(keys)
            for key in keys:
                item = self._table.items.get(key)
                if item is not None:
                    yield StoredLoan(item["loan"], dict(item["sealed"]), (item["next_due_date"], key))

    def all(self) -> Iterator[Loan]:
        for item in list(self._table.items.values()):
            yield item["loan"]


# -- cases ---------------------------------------------------------------------------------------------
class MemoryCaseStore(CaseParking):
    """The cases table. Items are kept as DynamoDB would give them back; each item's ``Case`` is parsed
    once per write (a ``Case`` is immutable, so every reader may share it)."""

    def __init__(self, wire: Wire, shards: int) -> None:
        self._wire = wire
        self._shards = shards
        self._by_loan = _Index("loan_id", "opened_on")
        self._wake = _Index("wake_shard", "wake_on")
        self._complaints = _Index("complaint_shard", "complaint_deadline")
        self._limitations = _Index("limitation_shard", "limitation_warn_on")
        self._open = _Index("open_shard", "opened_on")
        self._queues = _Index("queue_of", "opened_on")
        self._closed = _Index("closed_outcome", "closed_on")
        indexes = [
            self._by_loan,
            self._wake,
            self._complaints,
            self._limitations,
            self._open,
            self._queues,
            self._closed,
        ]
        self._table = _Table(wire, "case_id", indexes)
        self._parsed: dict[str, Case] = {}

    def _write(self, case_id: str, item: dict[str, Any]) -> None:
        self._table.write(case_id, item)
        self._parsed.pop(case_id, None)

    def _case(self, case_id: str) -> Case | None:
        if case_id.startswith(CONTACT_LOG_PREFIX):
            return None
        case = self._parsed.get(case_id)
        if case is None:
            item = self._table.items.get(case_id)
            if item is None:
                return None
            case = self._parsed[case_id] = Case.model_validate(item)
        return case

    def create(self, case: Case) -> bool:
        self._wire.call("dynamodb", "PutItem")
        item = stored_value(case.to_item())
        with self._table.lock:
            if case.case_id in self._table.items:
                return False
            self._write(case.case_id, item)
        return True

    def get(self, case_id: str) -> Case | None:
        self._wire.call("dynamodb", "GetItem")
        return self._case(case_id)

    def require(self, case_id: str) -> Case:
        case = self.get(case_id)
        if case is None:
            raise KeyError(f"no case {case_id!r}")
        return case

    def update(
        self,
        case_id: str,
        set_values: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        check_attributes([*(set_values or {}), *remove, *(expect or {})], case_id)
        values = {k: v for k, v in (set_values or {}).items() if v is not None}
        if not values and not remove:
            return True
        self._wire.call("dynamodb", "UpdateItem")
        prepared = {k: stored_value(item_value(v)) for k, v in values.items()}
        if any(v is None for v in prepared.values()):
            raise ServiceUnavailable("dynamodb", "UpdateItem", "ValidationException: an empty set")
        with self._table.lock:
            current = self._table.items.get(case_id)
            if expect:
                if current is None:
                    return False
                for key, value in expect.items():
                    if key not in current or current[key] != stored_value(item_value(value)):
                        return False
            item = _copy(current) if current is not None else {"case_id": case_id}
            item.update(prepared)
            for key in remove:
                item.pop(key, None)
            self._write(case_id, item)
        return True

    def claim_audit(self, case_id: str, seq: int, record_seq: int, head: str, key: str, body: str, dedupe: str) -> bool:
        self._wire.call("dynamodb", "UpdateItem")
        with self._table.lock:
            current = self._table.items.get(case_id)
            item = _copy(current) if current is not None else {"case_id": case_id}
            if "audit_seq" in item and item["audit_seq"] != seq:
                return False
            if "audit_pending" in item or dedupe in item.get("audit_keys", set()):
                return False
            item.update(audit_seq=record_seq, audit_head=head, audit_pending=key, audit_pending_body=body)
            item["audit_keys"] = set(item.get("audit_keys", set())) | {dedupe}
            self._write(case_id, item)
        return True

    def open_case_for_loan(self, loan_id: str) -> Case | None:
        self._wire.call("dynamodb", "Query")
        for case_id in self._by_loan.query(loan_id, newest_first=True):
            case = self.get(case_id)
            if case is not None and case.is_open:
                return case
        return None

    def latest_case_for_loan(self, loan_id: str) -> Case | None:
        self._wire.call("dynamodb", "Query")
        cases = [self._case(key) for key in self._by_loan.query(loan_id)]
        return max(
            (c for c in cases if c is not None), key=lambda c: (c.episode, c.opened_on or date.min), default=None
        )

    def wakeups_due(self, as_of: date, shard: int | None = None, after: tuple[str, str] | None = None) -> Iterator[str]:
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            yield from self._wake.query(shard_label(current, self._shards), as_of.isoformat(), after=after)

    def complaints_due(self, deadline_by: date, shard: int | None = None) -> Iterator[str]:
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            yield from self._complaints.query(shard_label(current, self._shards), deadline_by.isoformat())

    def open_cases(self, shard: int | None = None) -> Iterator[Case]:
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            for key in self._open.query(shard_label(current, self._shards)):
                case = self._case(key)
                if case is not None:
                    yield case

    def queue_of(self, agent: str) -> Iterator[Case]:
        self._wire.call("dynamodb", "Query")
        for key in self._queues.query(agent):
            case = self._case(key)
            if case is not None:
                yield case

    def closed_cases(self, outcome: str) -> Iterator[Case]:
        self._wire.call("dynamodb", "Query")
        for key in self._closed.query(outcome, newest_first=True):
            case = self._case(key)
            if case is not None:
                yield case

    def queue_size(self, agent: str) -> int:
        self._wire.call("dynamodb", "Query")
        return len(self._queues.query(agent))

    def limitations_due(self, warn_by: date, shard: int | None = None) -> Iterator[str]:
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            yield from self._limitations.query(shard_label(current, self._shards), warn_by.isoformat())

    def contacts(self, customer_id: str) -> list[datetime]:
        self._wire.call("dynamodb", "GetItem")
        item = self._table.items.get(CONTACT_LOG_PREFIX + customer_id)
        return [datetime.fromisoformat(t) for t in (item or {}).get("contacts", [])]

    def add_contact(self, customer_id: str, at: datetime, ref: str | None = None) -> None:
        log = contact_log(self.customer(customer_id), at, ref)
        if log is not None:
            self.update_customer(customer_id, log)

    def customer(self, customer_id: str) -> dict[str, Any]:
        self._wire.call("dynamodb", "GetItem")
        return dict(_copy(self._table.items.get(CONTACT_LOG_PREFIX + customer_id) or {}))

    def update_customer(
        self, customer_id: str, values: Mapping[str, Any] | None = None, remove: tuple[str, ...] = ()
    ) -> None:
        self._wire.call("dynamodb", "UpdateItem")
        key = CONTACT_LOG_PREFIX + customer_id
        with self._table.lock:
            item = _copy(self._table.items.get(key) or {"case_id": key})
            item.update({k: stored_value(item_value(v)) for k, v in (values or {}).items() if v is not None})
            for name in remove:
                item.pop(name, None)
            self._write(key, item)

    def all(self) -> Iterator[Case]:
        self._wire.call("dynamodb", "Scan")  # one page: a 1 MB page holds a few thousand cases
        for key in list(self._table.items):
            case = self._case(key)
            if case is not None:
                yield case


# -- outbox --------------------------------------------------------------------------------------------
class MemoryOutbox(MessageLifecycle):
    def __init__(self, wire: Wire, shards: int) -> None:
        self._wire = wire
        self._shards = shards
        self._pending = _Index("pending_shard", "not_before")
        self._table = _Table(wire, "message_id", [self._pending])

    def enqueue(self, message: Message) -> bool:
        self._wire.call("dynamodb", "PutItem")
        item = stored_value(
            message.to_dict()
            | {
                "pending_shard": shard_of(message.customer_id, self._shards),
                "expires_at": int((message.not_before + timedelta(days=KEEP_DAYS)).timestamp()),
            }
        )
        with self._table.lock:
            if message.message_id in self._table.items:
                return False
            self._table.write(message.message_id, item)
        return True

    def get(self, message_id: str) -> Message | None:
        self._wire.call("dynamodb", "GetItem")
        item = self._table.read(message_id)
        return Message.from_dict(item) if item is not None else None

    def due(self, now: datetime, shard: int | None = None) -> Iterator[str]:
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            yield from self._pending.query(shard_label(current, self._shards), now.isoformat())

    def earliest_pending(self, shard: int | None = None) -> datetime | None:
        earliest: datetime | None = None
        for current in range(self._shards) if shard is None else [shard]:
            self._wire.call("dynamodb", "Query")
            keys = self._pending.query(shard_label(current, self._shards))
            if keys:
                when = datetime.fromisoformat(self._table.items[keys[0]]["not_before"])
                earliest = when if earliest is None or when < earliest else earliest
        return earliest

    def _transition(
        self,
        message_id: str,
        from_status: str,
        to_status: str,
        extra: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
    ) -> bool:
        self._wire.call("dynamodb", "UpdateItem")
        with self._table.lock:
            current = self._table.items.get(message_id)
            if current is None or current.get("status") != from_status:
                return False
            item = dict(current)
            item.update(stored_value({"status": to_status, **(extra or {})}))
            for key in remove:
                item.pop(key, None)
            self._table.write(message_id, item)
        return True

    def all(self) -> Iterator[dict[str, Any]]:
        for key in list(self._table.items):
            item = self._table.read(key)
            if item is not None:
                yield item


# -- audit ---------------------------------------------------------------------------------------------
class MemoryAuditStore:
    """Write-once objects by key (``If-None-Match: *``); nothing is ever deleted or replaced."""

    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self._objects: dict[str, bytes] = {}
        self._by_case: dict[tuple[str, str], SortedList] = {}
        self._lock = threading.Lock()

    def append(self, record: AuditRecord) -> str:
        data = record.to_bytes()
        self._wire.call("s3", "PutObject")
        with self._lock:
            existing = self._objects.get(record.key)
            if existing is None:
                self._objects[record.key] = data
                self._by_case.setdefault((record.loan_id, record.case_id), SortedList()).add(record.key)
                return record.digest
        self._wire.call("s3", "GetObject")
        if existing != data:
            raise AuditConflictError(f"{record.key} already holds a different record")
        return record.digest

    def read_case(self, loan_id: str, case_id: str) -> list[tuple[str, bytes]]:
        self._wire.call("s3", "ListObjectsV2")
        keys = list(self._by_case.get((loan_id, case_id), ()))
        for _ in keys:
            self._wire.call("s3", "GetObject")
        return [(key, self._objects[key]) for key in keys]

    def record_keys(self, loan_id: str, case_id: str) -> list[str]:
        self._wire.call("s3", "ListObjectsV2")
        return list(self._by_case.get((loan_id, case_id), ()))

    def cases(self) -> Iterator[tuple[str, str]]:
        self._wire.call("s3", "ListObjectsV2")
        yield from sorted(self._by_case)

    def objects(self) -> dict[str, bytes]:
        """Every object by key (what the bucket holds)."""
        return dict(self._objects)

    def put_seal(self, day: str, body: bytes, signature: bytes) -> None:
        for key, data in ((f"digests/{day}.json", body), (f"digests/{day}.sig", signature)):
            self._wire.call("s3", "PutObject")
            with self._lock:
                existing = self._objects.setdefault(key, data)
            if existing != data:
                raise AuditConflictError(f"{key} already holds a different digest")

    def _digest_days(self) -> list[str]:
        self._wire.call("s3", "ListObjectsV2")
        keys = [k for k in self._objects if k.startswith("digests/") and k.endswith(".json")]
        return sorted(k[len("digests/") : -len(".json")] for k in keys)

    def seal_signature(self, day: str) -> bytes | None:
        self._wire.call("s3", "GetObject")
        return self._objects.get(f"digests/{day}.sig")

    def latest_seal(self) -> tuple[str, bytes] | None:
        days = self._digest_days()
        if not days:
            return None
        self._wire.call("s3", "GetObject")
        return days[-1], self._objects[f"digests/{days[-1]}.json"]

    def seals(self) -> list[tuple[str, bytes, bytes]]:
        days = self._digest_days()
        return [(d, self._objects[f"digests/{d}.json"], self._objects.get(f"digests/{d}.sig", b"")) for d in days]


# -- what goes out -------------------------------------------------------------------------------------
class MemoryNotifier:
    """SMS, e-mail and staff notices, kept as the providers' logs would keep them (``sent``)."""

    def __init__(self, wire: Wire, sender: str) -> None:
        self._wire = wire
        self._sender = sender
        self._count = 0
        self._lock = threading.Lock()
        self.keep = True  # keep every message in ``sent`` (a long simulation counts them only)
        self.sent: list[dict[str, Any]] = []

    def _deliver(self, service: str, operation: str, params: dict[str, Any]) -> str:
        try:
            self._wire.call(service, operation, params)
        except ServiceUnavailable as exc:
            raise ProviderRefused(str(exc)) from exc
        with self._lock:
            self._count += 1
            message_id = f"local-{service}-{self._count:08d}"
            if self.keep:
                self.sent.append({"service": service, "operation": operation, "id": message_id, **params})
        self._wire.done(service, operation, params)
        return message_id

    def send_sms(self, phone: str, text: str) -> str:
        return self._deliver("sns", "Publish", {"PhoneNumber": phone, "Message": text})

    def send_email(self, to: str, subject: str, text: str) -> str:
        content = {"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}}
        return self._deliver(
            "sesv2",
            "SendEmail",
            {"FromEmailAddress": self._sender, "Destination": {"ToAddresses": [to]}, "Content": content},
        )

    def notify_staff(self, subject: str, body: Mapping[str, Any]) -> str:
        return self._deliver(
            "sns", "Publish", {"TopicArn": "internal", "Subject": subject, "Message": json.dumps(body)}
        )
