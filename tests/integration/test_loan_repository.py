"""The loans table on moto: items carry no plaintext PII, and the due-index returns exactly the loans
that are due soon or overdue, reading nothing else."""

from __future__ import annotations

from datetime import date
from typing import Any

import boto3
import pytest

from dueflow.adapters.loan_repository import DUE_INDEX, LoanRepository, ScanStats
from dueflow.adapters.pii import KmsKeys, PiiCipher
from dueflow.domain.position import FLAG_DUE_SOON, assess
from dueflow.sharding import shard_of
from dueflow_local.generate import generate_book
from tests.integration.conftest import REGION

AS_OF = date(2026, 6, 30)


@pytest.fixture
def repo(aws: None) -> tuple[LoanRepository, Any]:
    ddb: Any = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="loans",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("loan_id", "due_shard", "next_due_date")
        ],
        KeySchema=[{"AttributeName": "loan_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": DUE_INDEX,
                "KeySchema": [
                    {"AttributeName": "due_shard", "KeyType": "HASH"},
                    {"AttributeName": "next_due_date", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    kms: Any = boto3.client("kms", region_name=REGION)
    cipher = PiiCipher(KmsKeys(kms, kms.create_key()["KeyMetadata"]["Arn"]))
    return LoanRepository(ddb, "loans", shards=4, cipher=cipher), ddb


def test_the_due_index_holds_exactly_the_loans_needing_action(repo: tuple[LoanRepository, Any]) -> None:
    repository, _ = repo
    book = list(generate_book(300, seed=5, as_of=AS_OF))
    repository.put(book, AS_OF)
    expected = {loan.loan_id for loan in book if (p := assess(loan, AS_OF)).dpd > 0 or FLAG_DUE_SOON in p.flags}
    stats = ScanStats()
    found = {stored.loan.loan_id for stored in repository.due_by(AS_OF, 3, stats)}
    assert found == expected and expected
    assert stats.scanned == stats.returned == len(expected)  # read amplification 1.0
    assert stats.queries == 4  # one per shard


def test_items_keep_no_plaintext_pii_and_the_loan_reads_back(repo: tuple[LoanRepository, Any]) -> None:
    repository, ddb = repo
    loan = next(iter(generate_book(1, seed=9, as_of=AS_OF)))
    assert loan.customer is not None and loan.customer.phone and loan.customer.name
    repository.put([loan], AS_OF)
    item = ddb.get_item(TableName="loans", Key={"loan_id": {"S": loan.loan_id}})["Item"]
    text = str(item)
    for secret in (loan.customer.name, loan.customer.phone, loan.customer.email):
        assert secret and secret not in text
    back = repository.get(loan.loan_id)
    assert back is not None and back.payments == loan.payments and back.principal == loan.principal
    assert back.customer is not None and back.customer.timezone == loan.customer.timezone
    assert back.customer.phone is None  # PII stays sealed in the item


def test_a_paid_off_loan_leaves_the_index(repo: tuple[LoanRepository, Any]) -> None:
    repository, _ = repo
    loan = next(iter(generate_book(1, seed=9, as_of=AS_OF)))
    record = loan.model_dump()
    record["payments"] = [*record["payments"], {"date": AS_OF, "amount": "99999999.00"}]
    paid = type(loan).model_validate(record)
    item = repository.to_item(paid, AS_OF)
    assert "due_shard" not in item and "next_due_date" not in item


def test_shards_are_stable_and_spread() -> None:
    assert shard_of("L00000001", 16) == shard_of("L00000001", 16)
    spread = {shard_of(f"L{i:08d}", 16) for i in range(500)}
    assert spread == {f"{i:02d}" for i in range(16)}
