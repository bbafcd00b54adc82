"""The S3 audit store on moto: append-only, retry-safe, locked against overwrite and deletion."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dueflow.adapters.audit_store import AuditConflictError, S3AuditStore
from dueflow.domain.audit_chain import next_record, verify_chain
from tests.unit.domain.test_audit_chain import T0, chain


def test_appended_records_read_back_as_a_verifiable_chain(s3: Any, audit_bucket: str) -> None:
    store = S3AuditStore(s3, audit_bucket)
    records = chain(5)
    heads = [store.append(r) for r in records]
    assert heads[-1] == records[-1].digest
    objects = store.read_case("L1", "L1-2026-06-15")
    assert [k for k, _ in objects] == [r.key for r in records]
    assert verify_chain("L1-2026-06-15", objects, expected_head=heads[-1]).ok
    assert list(store.cases()) == [("L1", "L1-2026-06-15")]


def test_a_retried_append_of_the_same_record_is_a_no_op(s3: Any, audit_bucket: str) -> None:
    store = S3AuditStore(s3, audit_bucket)
    record = chain(1)[0]
    assert store.append(record) == store.append(record)
    versions = s3.list_object_versions(Bucket=audit_bucket, Prefix=record.key).get("Versions", [])
    assert len(versions) == 1  # no second version was written


def test_a_different_record_under_the_same_key_is_a_conflict(s3: Any, audit_bucket: str) -> None:
    store = S3AuditStore(s3, audit_bucket)
    first = chain(1)[0]
    store.append(first)
    rival = next_record(None, loan_id="L1", case_id="L1-2026-06-15", type="case_opened", at=T0, body={"other": True})
    with pytest.raises(AuditConflictError):
        store.append(rival)
    assert s3.get_object(Bucket=audit_bucket, Key=first.key)["Body"].read() == first.to_bytes()


def test_locked_records_cannot_be_deleted(s3: Any, audit_bucket: str) -> None:
    store = S3AuditStore(s3, audit_bucket)
    record = chain(1)[0]
    store.append(record)
    (version,) = s3.list_object_versions(Bucket=audit_bucket, Prefix=record.key)["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=audit_bucket, Key=record.key, VersionId=version["VersionId"])
    assert s3.get_object(Bucket=audit_bucket, Key=record.key)["Body"].read() == record.to_bytes()


def test_records_are_locked_in_compliance_mode_and_no_bypass_deletes_them(s3: Any, audit_bucket: str) -> None:
    """(moto accepts a shortened COMPLIANCE retention, which S3 refuses; so only the lock and the
    refused deletes are checked here.)"""
    from datetime import UTC, datetime

    store = S3AuditStore(s3, audit_bucket)
    record = chain(1)[0]
    store.append(record)
    head = s3.head_object(Bucket=audit_bucket, Key=record.key)
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
    (version,) = s3.list_object_versions(Bucket=audit_bucket, Prefix=record.key)["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(
            Bucket=audit_bucket, Key=record.key, VersionId=version["VersionId"], BypassGovernanceRetention=True
        )
    assert s3.get_object(Bucket=audit_bucket, Key=record.key)["Body"].read() == record.to_bytes()


def test_an_edited_or_hidden_record_keeps_its_locked_original_and_fails_verification(
    s3: Any, audit_bucket: str
) -> None:
    """What the bucket policy denies on AWS (an unconditional overwrite, a delete marker), done here
    anyway: the original versions survive, locked, and the chain no longer verifies."""
    store = S3AuditStore(s3, audit_bucket)
    records = chain(3)
    head = ""
    for r in records:
        head = store.append(r)
    edited, hidden = records[1], records[2]
    original = s3.list_object_versions(Bucket=audit_bucket, Prefix=edited.key)["Versions"][0]["VersionId"]
    s3.put_object(Bucket=audit_bucket, Key=edited.key, Body=edited.to_bytes().replace(b"L1", b"L9"))
    s3.delete_object(Bucket=audit_bucket, Key=hidden.key)  # a delete marker, no version removed
    report = verify_chain("L1-2026-06-15", store.read_case("L1", "L1-2026-06-15"), expected_head=head)
    assert not report.ok and report.problems
    kept = s3.get_object(Bucket=audit_bucket, Key=edited.key, VersionId=original)["Body"].read()
    assert kept == edited.to_bytes()
    versions = s3.list_object_versions(Bucket=audit_bucket, Prefix=hidden.key)["Versions"]
    assert [v["Key"] for v in versions] == [hidden.key]  # the hidden record's version is still there
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=audit_bucket, Key=edited.key, VersionId=original)


def test_a_writer_that_may_not_read_takes_a_taken_key_for_its_first_write_and_never_overwrites(
    s3: Any, audit_bucket: str
) -> None:
    """The stage, wait, stream and dispatcher functions have no s3:GetObject on records: a retried write
    that finds its key taken does not read it back, and the object there stays as it was."""
    writer = S3AuditStore(s3, audit_bucket, reader=False)
    first = chain(1)[0]
    writer.append(first)
    gets: list[str] = []
    s3.meta.events.register("before-call.s3.GetObject", lambda **kw: gets.append(kw["model"].name))
    rival = next_record(None, loan_id="L1", case_id="L1-2026-06-15", type="case_opened", at=T0, body={"other": True})
    assert writer.append(first) == first.digest
    writer.append(rival)  # not detected by the writer: the chain's verification catches such an object
    assert gets == []
    assert S3AuditStore(s3, audit_bucket).read_case("L1", "L1-2026-06-15")[0][1] == first.to_bytes()
