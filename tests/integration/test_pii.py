"""Field-level PII encryption against moto KMS."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from dueflow.adapters.pii import KmsKeys, PiiCipher, is_sealed
from tests.integration.conftest import REGION

FIELDS = {
    "name": "王芳",
    "phone": "+8613800138000",
    "email": "wf@example.com",
    "monthly_income": "9000.00",
    "note": None,
}


@pytest.fixture
def cipher(aws: None) -> PiiCipher:
    kms: Any = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key(Description="pii")["KeyMetadata"]["Arn"]
    return PiiCipher(KmsKeys(kms, key_arn))


def test_sealed_fields_hide_the_plaintext_and_open_again(cipher: PiiCipher) -> None:
    sealed = cipher.seal("L1", FIELDS)
    assert sealed["note"] is None
    for name in ("name", "phone", "email", "monthly_income"):
        value = sealed[name]
        assert is_sealed(value) and FIELDS[name] not in str(value)  # type: ignore[operator]
    assert "王芳".encode() not in str(sealed).encode()
    assert cipher.open("L1", sealed) == FIELDS


def test_each_seal_is_fresh(cipher: PiiCipher) -> None:
    assert cipher.seal("L1", {"phone": "+8613800138000"}) != cipher.seal("L1", {"phone": "+8613800138000"})


def test_a_value_moved_to_another_loan_or_field_does_not_open(cipher: PiiCipher) -> None:
    sealed = cipher.seal("L1", {"phone": "+8613800138000", "email": "wf@example.com"})
    with pytest.raises(ClientError):  # KMS refuses: the encryption context names another owner
        cipher.open("L2", {"phone": sealed["phone"]})
    with pytest.raises(InvalidTag):  # same data key, but the field name is bound as associated data
        cipher.open("L1", {"email": sealed["phone"]})


def test_plaintext_where_a_sealed_value_belongs_is_an_error(cipher: PiiCipher) -> None:
    with pytest.raises(ValueError, match="'phone' of L1 is not a sealed value"):
        cipher.open("L1", {"phone": "+8613800138000"})
