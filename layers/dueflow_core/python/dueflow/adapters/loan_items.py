"""A loans-table item (or a stream record's ``NEW_IMAGE``) read as the loan store's ``StoredLoan``.

Only the attributes a loan needs, read from their DynamoDB attribute values directly: no SDK import, so
the payment-stream handler starts without loading boto3.
"""

from __future__ import annotations

import json
from typing import Any

from dueflow.domain.loan import Loan
from dueflow.ports import StoredLoan


def stored_from_item(item: dict[str, Any]) -> StoredLoan:
    """A loans-table item (or a stream record's NEW_IMAGE) as the loan store's ``StoredLoan``."""
    sealed = {k: v["S"] for k, v in item.get("customer_sealed", {}).get("M", {}).items()}
    return StoredLoan(from_item(item), sealed)


def from_item(item: dict[str, Any]) -> Loan:
    """The loan of an item, without its customer's PII (which stays sealed in the item)."""
    record = json.loads(item["record"]["S"])
    prefs = item.get("contact_prefs", {}).get("M")
    if prefs:
        record["customer"] = {k: v["S"] for k, v in prefs.items()}
    return Loan.model_validate(record)
