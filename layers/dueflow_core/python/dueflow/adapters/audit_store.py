"""The audit store on S3 (Object Lock bucket): append-only, retry-safe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from dueflow.domain.audit_chain import AuditRecord
from dueflow.ports import AuditConflictError

__all__ = ["AuditConflictError", "S3AuditStore"]


class S3AuditStore:
    """Writes each record once under its key, with ``If-None-Match: *`` so that nothing is ever
    overwritten. A retry that writes the same bytes again is a success (the first write landed); a
    different record under the same key is a conflict. The bucket's default Object Lock retention
    (COMPLIANCE) then protects every version.

    Only a ``reader`` (the API function, which shows records to staff and auditors) may read a record
    back: the other functions write and list, with no ``s3:GetObject`` on records and no decrypt with
    the audit key. For them a retried write that finds its key taken is the first attempt's write (the
    key holds the chain's sequence number, claimed with its bytes in the cases table first); a different
    object there would break the hash chain, which verification reads from the records themselves."""

    def __init__(self, s3: Any, bucket: str, reader: bool = True) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._reader = reader

    def append(self, record: AuditRecord) -> str:
        """Store ``record``; return its SHA-256 (the new head of the case's chain)."""
        self._put_once(record.key, record.to_bytes(), "record")
        return record.digest

    def read_case(self, loan_id: str, case_id: str) -> list[tuple[str, bytes]]:
        """Every stored object of a case, ``(key, bytes)``, in key order."""
        prefix = f"cases/{loan_id}/{case_id}/"
        return [(key, self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()) for key in self._keys(prefix)]

    def record_keys(self, loan_id: str, case_id: str) -> list[str]:
        """The keys of a case's stored objects, in key order (a listing: no record is read)."""
        return list(self._keys(f"cases/{loan_id}/{case_id}/"))

    def cases(self) -> Iterator[tuple[str, str]]:
        """Every ``(loan_id, case_id)`` that has records."""
        seen: set[tuple[str, str]] = set()
        for key in self._keys("cases/"):
            parts = key.split("/")
            if len(parts) == 4 and (parts[1], parts[2]) not in seen:
                seen.add((parts[1], parts[2]))
                yield parts[1], parts[2]

    def put_seal(self, day: str, body: bytes, signature: bytes) -> None:
        """A day's signed digest, write-once like every record."""
        for key, data in ((f"digests/{day}.json", body), (f"digests/{day}.sig", signature)):
            self._put_once(key, data, "digest")

    def seals(self) -> list[tuple[str, bytes, bytes]]:
        out = []
        for key in self._keys("digests/"):
            if key.endswith(".json"):
                day = key[len("digests/") : -len(".json")]
                body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
                # a digest whose signature is missing reads as unsigned (verification says so)
                out.append((day, body, self.seal_signature(day) or b""))
        return sorted(out)

    def seal_signature(self, day: str) -> bytes | None:
        try:
            return bytes(self._s3.get_object(Bucket=self._bucket, Key=f"digests/{day}.sig")["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def latest_seal(self) -> tuple[str, bytes] | None:
        days = sorted(k[len("digests/") : -len(".json")] for k in self._keys("digests/") if k.endswith(".json"))
        if not days:
            return None
        return days[-1], self._s3.get_object(Bucket=self._bucket, Key=f"digests/{days[-1]}.json")["Body"].read()

    def _put_once(self, key: str, data: bytes, what: str) -> None:
        """Write ``data`` under ``key`` unless something is there (``If-None-Match: *``): the same bytes
        there is a success (a retried write), other bytes an ``AuditConflictError``."""
        content_type = "application/json" if key.endswith(".json") else "application/octet-stream"
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            if key.startswith("cases/") and not self._reader:
                return  # the first attempt's write (see the class docstring)
            if self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read() != data:
                raise AuditConflictError(f"{key} already holds a different {what}") from exc

    def _keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]
