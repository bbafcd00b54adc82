"""The loans table: what the bank's book looks like in DynamoDB, and the due-index the scan reads.

An item holds the validated loan record as JSON (``record``), the customer's contact details sealed
field by field with the PII key (``customer_sealed``), the non-secret contact preferences (time zone,
language) in clear, and the two index attributes: ``due_shard`` and ``next_due_date``, the due date of
the oldest installment not yet fully paid. A loan with nothing left to pay has neither, so it leaves the
index (sparse). Because ``next_due_date`` only changes when a payment lands, the daily scan finds every
loan that is due soon or overdue with one range query per shard, reading nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dueflow.adapters.dynamo import conditional_failed, query_shards
from dueflow.adapters.loan_items import from_item, stored_from_item
from dueflow.adapters.pii import PiiCipher
from dueflow.domain.loan import Loan
from dueflow.domain.position import Position, assess
from dueflow.domain.rules import PackSelection
from dueflow.ports import ScanStats, ServiceUnavailable, StoredLoan
from dueflow.sharding import shard_of
from dueflow.stores import CONCURRENT_ATTEMPTS, pii_fields, posted, with_default_pack, without_pii

__all__ = [
    "DUE_INDEX",
    "LoanRepository",
    "ScanStats",
    "attention_date",
    "from_item",
    "shard_of",
    "stored_from_item",
]

DUE_INDEX = "due-index"


def attention_date(position: Position) -> date | None:
    """The due date of the oldest installment not fully paid, or None when nothing is left to pay."""
    if position.dpd:
        return position.as_of - timedelta(days=position.dpd)
    return position.next_due_date


class LoanRepository:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        shards: int,
        cipher: PiiCipher | None = None,
        default_pack: PackSelection | str | None = None,
    ) -> None:
        self._ddb = dynamodb
        self._table = table
        self._shards = shards
        self._cipher = cipher
        self._default_pack = default_pack

    def to_item(self, loan: Loan, as_of: date) -> dict[str, Any]:
        """The DynamoDB item (low-level attribute values) of ``loan`` as of ``as_of``."""
        item: dict[str, Any] = {
            "loan_id": {"S": loan.loan_id},
            "customer_id": {"S": loan.customer_id},
            "record": {"S": _record_json(loan)},
        }
        if loan.customer is not None:
            prefs = {"timezone": loan.customer.timezone, "language": loan.customer.language}
            item["contact_prefs"] = {"M": {k: {"S": v} for k, v in prefs.items()}}
        fields = pii_fields(loan)
        if any(fields.values()):
            if self._cipher is None:
                raise ValueError(f"loan {loan.loan_id}: customer PII present but no PII cipher configured")
            sealed = self._cipher.seal(loan.loan_id, fields)
            item["customer_sealed"] = {"M": {k: {"S": v} for k, v in sealed.items() if v}}
        return self._index_attributes(loan, as_of, item)

    def put(self, loans: Iterable[Loan], as_of: date) -> int:
        """Write loans (create or replace); returns how many."""
        count = 0
        batch: list[dict[str, Any]] = []
        for given in loans:
            loan = with_default_pack(given, self._default_pack)
            batch.append({"PutRequest": {"Item": self.to_item(loan, as_of)}})
            count += 1
            if len(batch) == 25:
                self._write(batch)
                batch = []
        if batch:
            self._write(batch)
        return count

    def _write(self, batch: list[dict[str, Any]]) -> None:
        request = {self._table: batch}
        for _ in range(8):
            unprocessed = self._ddb.batch_write_item(RequestItems=request).get("UnprocessedItems", {})
            if not unprocessed:
                return
            request = unprocessed
        raise RuntimeError(f"{len(request.get(self._table, []))} loans still unprocessed after retries")

    def get(self, loan_id: str) -> Loan | None:
        item = self.get_item(loan_id)
        return from_item(item) if item else None

    def get_item(self, loan_id: str) -> dict[str, Any] | None:
        """The raw item (with the sealed customer fields)."""
        item: dict[str, Any] | None = self._ddb.get_item(
            TableName=self._table, Key={"loan_id": {"S": loan_id}}, ConsistentRead=True
        ).get("Item")
        return item

    def get_stored(self, loan_id: str) -> StoredLoan | None:
        item = self.get_item(loan_id)
        return stored_from_item(item) if item else None

    def contact(self, loan_id: str, stored: StoredLoan | None = None) -> dict[str, str | None]:
        """The borrower's contact details, opened just in time (needs kms:Decrypt on the PII key); from
        ``stored`` when the caller has just read it."""
        stored = stored if stored is not None else self.get_stored(loan_id)
        sealed = dict(stored.sealed) if stored is not None else {}
        if not sealed:
            return {}
        if self._cipher is None:
            raise ValueError("no PII cipher configured")
        return self._cipher.open(loan_id, sealed)

    def add_payment(self, loan_id: str, paid_on: date, amount: str, as_of: date, reference: str | None = None) -> Loan:
        """Post a payment to a loan (the bank's payment feed); the index attributes follow. The write is
        conditional on the record read, so two concurrent postings cannot lose one another (the loser
        re-applies its posting to the record as it now is); a payment whose ``reference`` the loan
        already holds is not posted again (a retried posting), and other content under it is refused."""
        payment = {"date": paid_on.isoformat(), "amount": amount} | ({"reference": reference} if reference else {})
        return self._change(loan_id, as_of, "payments", payment)

    def post_entry(self, loan_id: str, entry: Mapping[str, Any], as_of: date) -> Loan:
        """Book a ledger entry (a waiver, a restructuring) on a loan, once per ``reference``; conditional
        like a payment."""
        return self._change(loan_id, as_of, "adjustments", dict(entry))

    def _change(self, loan_id: str, as_of: date, field: str, value: dict[str, Any]) -> Loan:
        for _ in range(CONCURRENT_ATTEMPTS):
            item = self.get_item(loan_id)
            if item is None:
                raise KeyError(f"no loan {loan_id!r}")
            loan = from_item(item)
            updated = posted(loan, field, value)
            if updated is None:
                return loan
            new_item = self._index_attributes(updated, as_of, dict(item))
            new_item["record"] = {"S": _record_json(updated)}
            try:
                self._ddb.put_item(
                    TableName=self._table,
                    Item=new_item,
                    ConditionExpression="#r = :old",
                    ExpressionAttributeNames={"#r": "record"},
                    ExpressionAttributeValues={":old": item["record"]},
                )
            except ClientError as exc:
                if conditional_failed(exc):
                    continue  # written meanwhile: apply it again to the record as it is now
                raise
            return updated
        raise ServiceUnavailable("dynamodb", "PutItem", f"loan {loan_id} kept changing under the posting")

    def _index_attributes(self, loan: Loan, as_of: date, item: dict[str, Any]) -> dict[str, Any]:
        """Set (or drop, when nothing is left to pay) the due-index attributes of an item."""
        item.pop("due_shard", None)
        item.pop("next_due_date", None)
        due = attention_date(assess(loan, as_of))
        if due is not None:
            item["due_shard"] = {"S": shard_of(loan.loan_id, self._shards)}
            item["next_due_date"] = {"S": due.isoformat()}
        return item

    def due_by(
        self,
        as_of: date,
        horizon_days: int,
        stats: ScanStats | None = None,
        shard: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> Iterator[StoredLoan]:
        """Every loan whose oldest unpaid installment is due on or before ``as_of + horizon_days``: the
        due-soon and overdue loans, from the sparse due-index, shard by shard (or one ``shard``). The
        index projects the whole item: nothing is re-read."""
        limit = (as_of + timedelta(days=horizon_days)).isoformat()

        def count(page: dict[str, Any]) -> None:
            if stats is not None:
                stats.queries += 1
                stats.scanned += page.get("ScannedCount", 0)
                stats.returned += page.get("Count", 0)

        start = (after[0], "loan_id", after[1]) if after else None
        for item in query_shards(
            self._ddb, self._table, DUE_INDEX, "due_shard", "next_due_date", limit, self._shards, shard, count, start
        ):
            yield replace(stored_from_item(item), due_key=(item["next_due_date"]["S"], item["loan_id"]["S"]))

    def all(self) -> Iterator[Loan]:
        for page in self._ddb.get_paginator("scan").paginate(TableName=self._table):
            for item in page["Items"]:
                yield from_item(item)


def _record_json(loan: Loan) -> str:
    """The loan record in clear: no customer (its preferences are ``contact_prefs``), the guarantor without PII."""
    record = without_pii(loan).model_dump(mode="json", exclude={"customer"}, exclude_none=True)
    return json.dumps(record, separators=(",", ":"))
