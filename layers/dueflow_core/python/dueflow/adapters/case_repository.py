"""The cases table: one item per collection case, plus one contact-log item per customer.

A case waiting in a callback state carries its task token, the state's name and, when it has one, a
wake-up date in the sparse sharded ``wake-index``; resuming it removes them in one conditional write,
so a case is never resumed twice with the same token. The audit chain's head (``audit_seq``,
``audit_head``) lives on the case and advances only by conditional writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from dueflow.adapters.dynamo import conditional_failed, from_item, put_if_absent, query_shards, to_item, values
from dueflow.domain.case import Case, check_attributes, item_value
from dueflow.stores import CaseParking, contact_log

LOAN_INDEX = "loan-index"
WAKE_INDEX = "wake-index"
COMPLAINT_INDEX = "complaint-index"
LIMITATION_INDEX = "limitation-index"
OPEN_INDEX = "open-index"
QUEUE_INDEX = "queue-index"
CLOSED_INDEX = "closed-index"
CONTACT_LOG_PREFIX = "customer#"


class CaseRepository(CaseParking):
    def __init__(self, dynamodb: Any, table: str, shards: int) -> None:
        self._ddb = dynamodb
        self._table = table
        self._shards = shards

    # -- cases ---------------------------------------------------------------------------------------
    def create(self, case: Case) -> bool:
        """Store a new case; False when a case with this id exists already (a re-run scan)."""
        return put_if_absent(self._ddb, self._table, case.to_item(), "case_id")

    def get(self, case_id: str) -> Case | None:
        if case_id.startswith(CONTACT_LOG_PREFIX):
            return None  # a customer's contact log shares the table; it is not a case
        item = self._item(case_id)
        return Case.model_validate(item) if item is not None else None

    def _item(self, case_id: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(TableName=self._table, Key={"case_id": {"S": case_id}}, ConsistentRead=True).get(
            "Item"
        )
        return from_item(item) if item else None

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
        """Set and remove attributes; with ``expect`` only when each named attribute holds its value
        (False when one does not)."""
        check_attributes([*(set_values or {}), *remove, *(expect or {})], case_id)
        set_values = {k: item_value(v) for k, v in (set_values or {}).items() if v is not None}
        names: dict[str, str] = {}
        parts: list[str] = []
        expression_values: dict[str, Any] = {}
        if set_values:
            assignments = []
            for index, (key, value) in enumerate(set_values.items()):
                names[f"#s{index}"] = key
                assignments.append(f"#s{index} = :s{index}")
                expression_values.update(values(**{f"s{index}": value}))
            parts.append("SET " + ", ".join(assignments))
        if remove:
            for index, key in enumerate(remove):
                names[f"#r{index}"] = key
            parts.append("REMOVE " + ", ".join(f"#r{index}" for index in range(len(remove))))
        if not parts:
            return True
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"case_id": {"S": case_id}},
            "UpdateExpression": " ".join(parts),
            "ExpressionAttributeNames": names,
        }
        if expect:
            conditions = []
            for index, (key, value) in enumerate(expect.items()):
                names[f"#c{index}"] = key
                conditions.append(f"#c{index} = :c{index}")
                expression_values.update(values(**{f"c{index}": value}))
            request["ConditionExpression"] = " AND ".join(conditions)
        if expression_values:
            request["ExpressionAttributeValues"] = expression_values
        try:
            self._ddb.update_item(**request)
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def claim_audit(self, case_id: str, seq: int, record_seq: int, head: str, key: str, body: str, dedupe: str) -> bool:
        """The audit chain's claim (``dueflow.ports.CaseStore.claim_audit``): ADD to a set and NOT contains,
        which the generic ``update`` does not express."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"case_id": {"S": case_id}},
                UpdateExpression=(
                    "SET audit_seq = :next, audit_head = :head, audit_pending = :key, audit_pending_body = :body "
                    "ADD audit_keys :dedupe"
                ),
                ConditionExpression=(
                    "(attribute_not_exists(audit_seq) OR audit_seq = :seq) AND attribute_not_exists(audit_pending) "
                    "AND NOT contains(audit_keys, :dedupe_one)"
                ),
                ExpressionAttributeValues=values(
                    next=record_seq, head=head, key=key, body=body, seq=seq, dedupe={dedupe}, dedupe_one=dedupe
                ),
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def all(self) -> Iterator[Case]:
        """Every case (a full Scan; the contact logs left out)."""
        for page in self._ddb.get_paginator("scan").paginate(TableName=self._table):
            for item in page["Items"]:
                if not item["case_id"]["S"].startswith(CONTACT_LOG_PREFIX):
                    yield Case.model_validate(from_item(item))

    def open_case_for_loan(self, loan_id: str) -> Case | None:
        """The loan's open case, if any (newest first)."""
        pages = self._ddb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=LOAN_INDEX,
            KeyConditionExpression="loan_id = :l",
            ExpressionAttributeValues=values(l=loan_id),
            ScanIndexForward=False,
        )
        for page in pages:
            for item in page.get("Items", []):
                case = self.get(item["case_id"]["S"])
                if case is not None and case.is_open:
                    return case
        return None

    def latest_case_for_loan(self, loan_id: str) -> Case | None:
        """The loan's latest case, open or closed: the highest episode (a loan has a handful of cases, and
        two may share an opening date, which the index does not order)."""
        pages = self._ddb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=LOAN_INDEX,
            KeyConditionExpression="loan_id = :l",
            ExpressionAttributeValues=values(l=loan_id),
        )
        cases = [self.get(item["case_id"]["S"]) for page in pages for item in page.get("Items", [])]
        return max(
            (c for c in cases if c is not None), key=lambda c: (c.episode, c.opened_on or date.min), default=None
        )

    # -- waiting -------------------------------------------------------------------------------------
    def wakeups_due(self, as_of: date, shard: int | None = None, after: tuple[str, str] | None = None) -> Iterator[str]:
        """Case ids whose wake-up date is on or before ``as_of``, from the sparse wake-index."""
        start = (after[0], "case_id", after[1]) if after else None
        for item in query_shards(
            self._ddb,
            self._table,
            WAKE_INDEX,
            "wake_shard",
            "wake_on",
            as_of.isoformat(),
            self._shards,
            shard,
            after=start,
        ):
            yield item["case_id"]["S"]

    def complaints_due(self, deadline_by: date, shard: int | None = None) -> Iterator[str]:
        """Case ids of open complaints whose deadline is on or before ``deadline_by`` (complaint-index)."""
        for item in query_shards(
            self._ddb,
            self._table,
            COMPLAINT_INDEX,
            "complaint_shard",
            "complaint_deadline",
            deadline_by.isoformat(),
            self._shards,
            shard,
        ):
            yield item["case_id"]["S"]

    def limitations_due(self, warn_by: date, shard: int | None = None) -> Iterator[str]:
        """Case ids whose limitation warning begins on or before ``warn_by`` (limitation-index)."""
        for item in query_shards(
            self._ddb,
            self._table,
            LIMITATION_INDEX,
            "limitation_shard",
            "limitation_warn_on",
            warn_by.isoformat(),
            self._shards,
            shard,
        ):
            yield item["case_id"]["S"]

    def open_cases(self, shard: int | None = None) -> Iterator[Case]:
        """Every open case (open-index, whole items), shard by shard."""
        for item in query_shards(
            self._ddb, self._table, OPEN_INDEX, "open_shard", "opened_on", "9999-12-31", self._shards, shard
        ):
            yield Case.model_validate(from_item(item))

    def _pages(self, index: str, key: str, value: str, **extra: Any) -> Iterator[dict[str, Any]]:
        """The pages of a query of ``index`` for ``key`` = ``value``."""
        return iter(
            self._ddb.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=index,
                KeyConditionExpression=f"{key} = :v",
                ExpressionAttributeValues=values(v=value),
                **extra,
            )
        )

    def queue_of(self, agent: str) -> Iterator[Case]:
        """The agent's open cases (queue-index, whole items)."""
        for page in self._pages(QUEUE_INDEX, "queue_of", agent):
            yield from (Case.model_validate(from_item(item)) for item in page.get("Items", []))

    def closed_cases(self, outcome: str) -> Iterator[Case]:
        """Closed cases of one outcome, newest first (closed-index, whole items)."""
        for page in self._pages(CLOSED_INDEX, "closed_outcome", outcome, ScanIndexForward=False):
            yield from (Case.model_validate(from_item(item)) for item in page.get("Items", []))

    def queue_size(self, agent: str) -> int:
        """How many open cases the agent has (a COUNT query of the queue-index)."""
        return sum(int(page.get("Count", 0)) for page in self._pages(QUEUE_INDEX, "queue_of", agent, Select="COUNT"))

    # -- customer contact log (for the contact caps) --------------------------------------------------
    def contacts(self, customer_id: str) -> list[datetime]:
        item = self._item(CONTACT_LOG_PREFIX + customer_id)
        return [datetime.fromisoformat(t) for t in (item or {}).get("contacts", [])]

    def add_contact(self, customer_id: str, at: datetime, ref: str | None = None) -> None:
        """Record an SMS or call to the customer (``ref``: the message, counted once), keeping only the
        last week (the caps' horizon)."""
        log = contact_log(self.customer(customer_id), at, ref)
        if log is not None:
            self.update_customer(customer_id, log)

    # -- what holds for a customer across all their loans (opt-outs, complaint pauses, do-not-contact) -
    def customer(self, customer_id: str) -> dict[str, Any]:
        return self._item(CONTACT_LOG_PREFIX + customer_id) or {}

    def update_customer(
        self, customer_id: str, values: Mapping[str, Any] | None = None, remove: tuple[str, ...] = ()
    ) -> None:
        """SET ``values`` and REMOVE ``remove`` on the customer's item (created on the first write)."""
        values = {k: v for k, v in (values or {}).items() if v is not None}
        names = {f"#n{i}": name for i, name in enumerate([*values, *remove])}
        by_name = {name: alias for alias, name in names.items()}
        parts = []
        if values:
            parts.append("SET " + ", ".join(f"{by_name[k]} = :v{i}" for i, k in enumerate(values)))
        if remove:
            parts.append("REMOVE " + ", ".join(by_name[k] for k in remove))
        if not parts:
            return
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"case_id": {"S": CONTACT_LOG_PREFIX + customer_id}},
            "UpdateExpression": " ".join(parts),
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = {
                f":v{i}": to_item({"v": v})["v"] for i, v in enumerate(values.values())
            }
        self._ddb.update_item(**request)
