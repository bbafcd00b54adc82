"""The ports: what the services need from the world, and nothing about how it is provided.

Two worlds implement every port:

- ``dueflow.adapters`` (boto3): DynamoDB tables, the Object Lock bucket, Step Functions, SNS and SES v2,
  KMS. Lambda handlers build this world (``dueflow.services.context.Services.from_env``).
- ``dueflow_local.memory`` (in-process): dicts and sorted indexes with the same semantics (conditional
  writes, sparse sharded indexes, write-once audit objects, the same sealed-PII format, the same errors),
  and a thread-free executor of the same state machine on the simulated clock.

One contract suite (``tests/contract``) runs every port operation, conditional failures included, on both
worlds (moto standing in for AWS), so a fake that drifts from the AWS adapter fails it.

Services import these types and never ``boto3`` or ``botocore`` (a test asserts it). A case is a
``dueflow.domain.case.Case``; writes name its attributes (a store refuses any other name).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dueflow.domain.audit_chain import AuditRecord
    from dueflow.domain.case import Case
    from dueflow.domain.loan import Loan
    from dueflow.domain.outbox import Message


# -- errors -------------------------------------------------------------------------------------------
class PortError(Exception):
    """A port operation failed for a reason the caller may act on."""


class ServiceUnavailable(PortError):
    """The provider failed the call on every attempt (throttling, 5xx). Nothing is known to have changed;
    the caller's work is safe to run again."""

    def __init__(self, service: str, operation: str, detail: str = "") -> None:
        super().__init__(f"{service}:{operation} failed on every attempt{': ' + detail if detail else ''}")
        self.service = service
        self.operation = operation


class ProviderRefused(PortError):
    """SES, SNS or the internal topic refused a message: nothing went out, it may be sent again."""


class ExecutionAlreadyExists(PortError):
    """A case execution with this name was started before (a re-run scan)."""


class TokenNotWaiting(PortError):
    """The task token is no longer answerable: already answered, timed out, or its execution ended
    (Step Functions' InvalidToken, TaskTimedOut, TaskDoesNotExist)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class PostingConflict(PortError):
    """A posting (a payment, a ledger entry) reuses a reference the loan holds with other content: the
    first stands, this one is refused (the bank must look at both)."""

    def __init__(self, loan_id: str, reference: str, stored: str, given: str) -> None:
        super().__init__(f"loan {loan_id}: reference {reference} was posted as {stored}; this posting says {given}")
        self.reference = reference


class AuditConflictError(PortError):
    """A different record already sits under the key: the chain was written by someone else."""


# -- stored loans -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredLoan:
    """A loan as the loan store holds it: the validated loan (its customer's contact preferences in
    clear, no PII) and the customer's contact details, each sealed with the PII key."""

    loan: Loan
    sealed: Mapping[str, str] = field(default_factory=dict)
    # where it sits in the due-index (next_due_date, loan_id): a scan that stops hands over after it
    due_key: tuple[str, str] | None = None

    @property
    def channels(self) -> list[str]:
        """The channels the borrower has contact details for (known without opening them)."""
        return [channel for channel, name in (("sms", "phone"), ("email", "email")) if name in self.sealed]

    @property
    def guarantor_channels(self) -> list[str]:
        """The channels the loan's guarantor has contact details for."""
        return [c for c, name in (("sms", "guarantor_phone"), ("email", "guarantor_email")) if name in self.sealed]


@dataclass
class ScanStats:
    """What a due-index read cost: items read (``scanned``) and returned, and queries made."""

    scanned: int = 0
    returned: int = 0
    queries: int = 0


# -- the ports ----------------------------------------------------------------------------------------
class KeyService(Protocol):
    """Data keys for envelope encryption (KMS): a fresh key with its wrapped form, and unwrapping."""

    def generate_data_key(self, owner_id: str) -> tuple[bytes, bytes]:
        """``(plaintext key, wrapped key)``: AES-256, bound to ``owner_id``."""
        ...

    def decrypt(self, wrapped: bytes, owner_id: str) -> bytes:
        """The plaintext of a wrapped data key (fails for another owner)."""
        ...


class LoanStore(Protocol):
    def put(self, loans: Iterable[Loan], as_of: date) -> int:
        """Write loans (create or replace), sealing their customers' PII; returns how many."""
        ...

    def get(self, loan_id: str) -> Loan | None: ...

    def get_stored(self, loan_id: str) -> StoredLoan | None:
        """The loan with its sealed contact details (consistent read)."""
        ...

    def contact(self, loan_id: str, stored: StoredLoan | None = None) -> dict[str, str | None]:
        """The borrower's contact details and income, opened just in time."""
        ...

    def add_payment(self, loan_id: str, paid_on: date, amount: str, as_of: date, reference: str | None = None) -> Loan:
        """Post a payment (once per ``reference``: the same again is a no-op, other content under it a
        ``PostingConflict``); the due-index follows. Concurrent postings both land (the conditional write
        is retried on the record as it now is). KeyError for no such loan; pydantic's ValidationError
        when the loan's rules refuse it (nothing stored changes)."""
        ...

    def post_entry(self, loan_id: str, entry: Mapping[str, Any], as_of: date) -> Loan:
        """Book a ledger entry (``dueflow.domain.loan.Waiver`` or ``Restructuring`` as JSON) on a loan,
        once per ``reference``; PostingConflict, KeyError and ValidationError as for ``add_payment``."""
        ...

    def due_by(
        self,
        as_of: date,
        horizon_days: int,
        stats: ScanStats | None = None,
        shard: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> Iterator[StoredLoan]:
        """Loans whose oldest unpaid installment is due on or before ``as_of + horizon_days`` (the
        sparse due-index), shard by shard or one ``shard``, in index order, after the ``due_key``
        ``after`` when given (one shard); a query costs what it returns."""
        ...

    def all(self) -> Iterator[Loan]:
        """Every loan (a full read, for reports; never on a handler's path)."""
        ...


class CaseStore(Protocol):
    def create(self, case: Case) -> bool:
        """Store a new case; False when one with this id exists already."""
        ...

    def get(self, case_id: str) -> Case | None: ...

    def require(self, case_id: str) -> Case: ...

    def update(
        self,
        case_id: str,
        set_values: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """Set and remove attributes in one write; with ``expect`` (attribute -> value) only when each
        attribute holds that value (False otherwise: nothing changes)."""
        ...

    def claim_audit(self, case_id: str, seq: int, record_seq: int, head: str, key: str, body: str, dedupe: str) -> bool:
        """The audit chain's serialisation point, one conditional write: when the case's ``audit_seq``
        is ``seq`` (or absent at 0), no record is pending and ``dedupe`` is not among ``audit_keys``, set
        ``audit_seq``, ``audit_head``, ``audit_pending`` (``key``), ``audit_pending_body`` and add
        ``dedupe`` to ``audit_keys``. False when the condition does not hold."""
        ...

    def open_case_for_loan(self, loan_id: str) -> Case | None: ...

    def latest_case_for_loan(self, loan_id: str) -> Case | None: ...

    def park(self, case_id: str, token: str, state: str, wake_on: date | None) -> None: ...

    def unpark(self, case_id: str, token: str) -> bool:
        """Take the token off the case; True for exactly one caller per token."""
        ...

    def wakeups_due(self, as_of: date, shard: int | None = None, after: tuple[str, str] | None = None) -> Iterator[str]:
        """Case ids whose wake-up date is on or before ``as_of``, in index order (wake_on, case_id),
        after ``after`` when given (one shard)."""
        ...

    def complaints_due(self, deadline_by: date, shard: int | None = None) -> Iterator[str]:
        """Case ids of open complaints whose resolution deadline is on or before ``deadline_by``."""
        ...

    def open_cases(self, shard: int | None = None) -> Iterator[Case]:
        """Every open case, shard by shard (the workbench's queues)."""
        ...

    def queue_of(self, agent: str) -> Iterator[Case]:
        """The agent's open cases."""
        ...

    def queue_size(self, agent: str) -> int:
        """How many open cases the agent has."""
        ...

    def closed_cases(self, outcome: str) -> Iterator[Case]:
        """Closed cases of one outcome, newest first."""
        ...

    def limitations_due(self, warn_by: date, shard: int | None = None) -> Iterator[str]:
        """Case ids whose limitation period's warning begins on or before ``warn_by``."""
        ...

    def watch_complaint(self, case_id: str, opened_on: date, deadline: date) -> None: ...

    def close_complaint(self, case_id: str, resolved_on: date) -> None: ...

    def contacts(self, customer_id: str) -> list[datetime]: ...

    def add_contact(self, customer_id: str, at: datetime, ref: str | None = None) -> None:
        """Record a contact at ``at`` (``ref``: the message, counted once however often recorded)."""
        ...

    def customer(self, customer_id: str) -> dict[str, Any]:
        """What holds for a customer across all their loans: ``contacts`` (the caps' log), ``opt_out``
        (channels), ``paused_by`` (case ids with an open complaint), ``dnc_reason`` / ``dnc_by`` /
        ``dnc_on`` (do not contact). Empty when nothing was ever recorded."""
        ...

    def update_customer(
        self, customer_id: str, values: Mapping[str, Any] | None = None, remove: tuple[str, ...] = ()
    ) -> None: ...

    def all(self) -> Iterator[Case]:
        """Every case (not the contact logs), for reports."""
        ...


class OutboxStore(Protocol):
    def enqueue(self, message: Message) -> bool: ...

    def get(self, message_id: str) -> Message | None: ...

    def due(self, now: datetime, shard: int | None = None) -> Iterator[str]: ...

    def earliest_pending(self, shard: int | None = None) -> datetime | None: ...

    def claim(self, message_id: str, now: datetime) -> bool: ...

    def release(self, message_id: str, now: datetime) -> bool: ...

    def sent(self, message_id: str, at: datetime, provider_id: str) -> bool: ...

    def unconfirmed(self, message_id: str, at: datetime) -> bool: ...

    def recorded(self, message_id: str, status: str) -> bool:
        """A SENT or UNCONFIRMED message's record is complete: off the pending-index."""
        ...

    def defer(self, message_id: str, not_before: datetime) -> bool: ...

    def drop(self, message_id: str, reason: str) -> bool: ...

    def all(self) -> Iterator[dict[str, Any]]:
        """Every message as a plain dict (status included), for reports."""
        ...


class AuditStore(Protocol):
    def append(self, record: AuditRecord) -> str:
        """Store ``record`` once under its key; the same bytes again is a success, different bytes an
        ``AuditConflictError``. Returns the record's SHA-256."""
        ...

    def record_keys(self, loan_id: str, case_id: str) -> list[str]:
        """The keys of a case's stored objects, in key order, without reading them."""
        ...

    def read_case(self, loan_id: str, case_id: str) -> list[tuple[str, bytes]]: ...

    def cases(self) -> Iterator[tuple[str, str]]: ...

    def put_seal(self, day: str, body: bytes, signature: bytes) -> None:
        """Store a day's signed digest once (``digests/<day>.json`` and ``.sig``, write-once like every
        record); the same bytes again is a success, different bytes an ``AuditConflictError``."""
        ...

    def seals(self) -> list[tuple[str, bytes, bytes]]:
        """Every stored digest, ``(day, body, signature)``, by day (for verification)."""
        ...

    def seal_signature(self, day: str) -> bytes | None:
        """The signature of ``day``'s digest, or None when it is missing."""
        ...

    def latest_seal(self) -> tuple[str, bytes] | None:
        """The last day sealed and its digest's body (what the next digest chains to)."""
        ...


class Signer(Protocol):
    """An asymmetric signing key (ECDSA P-256, SHA-256): a KMS key in AWS, a local key otherwise. The
    private half never leaves it."""

    def sign(self, message: bytes) -> bytes:
        """The DER signature of ``message`` (at most 4,096 bytes, as KMS signs raw messages)."""
        ...

    def public_key_pem(self) -> bytes: ...


class CaseWorkflow(Protocol):
    """The case state machine's executions (Step Functions Standard, or the local executor)."""

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start an execution named ``name``; its id. ``ExecutionAlreadyExists`` when started before."""
        ...

    def resume(self, token: str, output: Mapping[str, Any]) -> None:
        """Answer a callback task. ``TokenNotWaiting`` when the token cannot be answered."""
        ...

    def fail(self, token: str, error: str, cause: str) -> None:
        """Fail a callback task with ``error``. ``TokenNotWaiting`` as for ``resume``."""
        ...

    def status(self, execution: str) -> str:
        """An execution's status (``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``TIMED_OUT``, ``ABORTED``), by the
        id ``start`` returned."""
        ...


class Notifier(Protocol):
    """What goes out: SMS (SNS), e-mail (SES v2) and notices on the internal topic (call tasks,
    litigation packages, complaints). ``ProviderRefused`` when nothing went out."""

    def send_sms(self, phone: str, text: str) -> str: ...

    def send_email(self, to: str, subject: str, text: str) -> str: ...

    def notify_staff(self, subject: str, body: Mapping[str, Any]) -> str: ...
