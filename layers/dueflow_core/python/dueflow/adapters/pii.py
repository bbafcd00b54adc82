"""Field-level envelope encryption of customer PII with the PII KMS key.

Each item (one customer's contact details) gets one data key from KMS; every field is sealed on its own
with AES-256-GCM under that key, with the loan id and the field name bound as associated data and as
the KMS encryption context. A sealed value is a self-describing string
``dfpii1.<encrypted data key>.<nonce>.<ciphertext>`` (URL-safe base64), so it can sit in a DynamoDB item,
a task payload or an audit record without revealing anything. Only roles with ``kms:Decrypt`` on the
PII key can open it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dueflow.ports import KeyService

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "dfpii1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ".")


class KmsKeys:
    """The ``KeyService`` port on KMS: data keys of the PII key, with the owner and purpose as the
    encryption context. ``key_id`` is the PII key's ARN (decrypt is always by the ARN recorded in the
    encrypted data key, so aliases work for sealing only)."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def generate_data_key(self, owner_id: str) -> tuple[bytes, bytes]:
        key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext={"owner": owner_id, "purpose": "pii"}
        )
        return key["Plaintext"], key["CiphertextBlob"]

    def decrypt(self, wrapped: bytes, owner_id: str) -> bytes:
        key = self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"owner": owner_id, "purpose": "pii"})
        return bytes(key["Plaintext"])


class PiiCipher:
    """Seals and opens PII fields with data keys from ``keys`` (a ``dueflow.ports.KeyService``: KMS in
    AWS, a local key service in the in-memory world; the sealed format is the same)."""

    def __init__(self, keys: KeyService) -> None:
        self._keys = keys

    def seal(self, owner_id: str, fields: Mapping[str, str | None]) -> dict[str, str | None]:
        """Seal every non-empty field of one owner (a loan) with one fresh data key."""
        present = {name: value for name, value in fields.items() if value}
        sealed: dict[str, str | None] = {name: None for name, value in fields.items() if not value}
        if not present:
            return sealed
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only the functions that seal or open

        plaintext, blob = self._keys.generate_data_key(owner_id)
        aead = AESGCM(plaintext)
        wrapped = _b64(blob)
        for name, value in present.items():
            nonce = os.urandom(12)
            ciphertext = aead.encrypt(nonce, value.encode(), f"{owner_id}/{name}".encode())
            sealed[name] = f"{PREFIX}.{wrapped}.{_b64(nonce)}.{_b64(ciphertext)}"
        return sealed

    def open(self, owner_id: str, fields: Mapping[str, str | None]) -> dict[str, str | None]:
        """Open sealed fields of one owner (a value sealed for another owner or field fails)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        plain: dict[str, str | None] = {}
        keys: dict[str, AESGCM] = {}
        for name, value in fields.items():
            if not value:
                plain[name] = None
                continue
            if not is_sealed(value):
                raise ValueError(f"field {name!r} of {owner_id} is not a sealed value")
            _, wrapped, nonce, ciphertext = value.split(".")
            if wrapped not in keys:
                keys[wrapped] = AESGCM(self._keys.decrypt(_unb64(wrapped), owner_id))
            plain[name] = (
                keys[wrapped].decrypt(_unb64(nonce), _unb64(ciphertext), f"{owner_id}/{name}".encode()).decode()
            )
        return plain


class KmsSigner:
    """The ``Signer`` port on a KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY): the private half never
    leaves KMS; the public half is what verifiers pin."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def sign(self, message: bytes) -> bytes:
        answer = self._kms.sign(
            KeyId=self._key_id, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        return bytes(answer["Signature"])

    def public_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        der = self._kms.get_public_key(KeyId=self._key_id)["PublicKey"]
        key = serialization.load_der_public_key(der)
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
