"""The audit hash chain: building records, and catching every alteration, removal and insertion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dueflow.domain.audit_chain import GENESIS, AuditRecord, next_record, sha256, verify_chain

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def chain(n: int = 4) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    types = ["case_opened", "stage_entered", "statement", "message_sent", "stage_entered", "case_closed"]
    for i in range(n):
        records.append(
            next_record(
                records[-1] if records else None,
                loan_id="L1",
                case_id="L1-2026-06-15",
                type=types[i % len(types)],
                at=T0 + timedelta(hours=i),
                body={"step": i, "amount": "100.00"},
            )
        )
    return records


def stored(records: list[AuditRecord]) -> list[tuple[str, bytes]]:
    return [(r.key, r.to_bytes()) for r in records]


def test_records_link_by_the_hash_of_the_previous_bytes() -> None:
    records = chain()
    assert records[0].prev_hash == GENESIS and records[0].seq == 1
    for before, after in pairwise(records):
        assert after.prev_hash == sha256(before.to_bytes()) and after.seq == before.seq + 1
    assert records[1].key == "cases/L1/L1-2026-06-15/000002-stage_entered.json"


def test_canonical_bytes_round_trip() -> None:
    record = chain(1)[0]
    assert AuditRecord.from_bytes(record.to_bytes()) == record
    assert record.to_bytes() == AuditRecord.from_bytes(record.to_bytes()).to_bytes()


def test_an_intact_chain_verifies() -> None:
    records = chain()
    report = verify_chain("L1-2026-06-15", stored(records), expected_head=records[-1].digest)
    assert report.ok and report.records == 4


def test_an_altered_record_is_caught_at_the_next_link() -> None:
    objects = stored(chain())
    key, data = objects[1]
    objects[1] = (key, data.replace(b'"amount":"100.00"', b'"amount":"1.00"'))
    report = verify_chain("c", objects)
    assert not report.ok
    assert any("000003-statement.json: prev_hash does not match" in p for p in report.problems)


def test_a_removed_record_is_caught() -> None:
    objects = stored(chain())
    del objects[2]
    report = verify_chain("c", objects)
    assert any("expected record 000003, found 000004" in p for p in report.problems)


def test_an_altered_last_record_is_caught_by_the_head() -> None:
    records = chain()
    objects = stored(records)
    key, data = objects[-1]
    objects[-1] = (key, data.replace(b"100.00", b"999.00"))
    assert verify_chain("c", objects).ok  # no successor to notice...
    report = verify_chain("c", objects, expected_head=records[-1].digest)
    assert any("audit head" in p for p in report.problems)  # ...but the case's head does


def test_a_missing_tail_is_caught_by_the_head_and_an_empty_case_with_a_head_too() -> None:
    records = chain()
    assert not verify_chain("c", stored(records[:-1]), expected_head=records[-1].digest).ok
    assert not verify_chain("c", [], expected_head=records[-1].digest).ok


def test_garbage_under_a_record_key_is_reported_not_raised() -> None:
    objects = stored(chain(2))
    objects[0] = (objects[0][0], b"not json")
    report = verify_chain("c", objects)
    assert any("unreadable record" in p for p in report.problems)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "gossip"}, "unknown audit record type"),
        ({"seq": 0}, "seq starts at 1"),
        ({"prev_hash": "x"}, "SHA-256"),
    ],
)
def test_bad_records_are_refused(changes: dict[str, object], message: str) -> None:
    fields = {
        "loan_id": "L",
        "case_id": "C",
        "seq": 1,
        "type": "case_opened",
        "at": T0,
        "body": {},
        "prev_hash": GENESIS,
    }
    with pytest.raises(ValueError, match=message):
        AuditRecord(**(fields | changes))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditRecord(**(fields | {"at": datetime(2026, 1, 1)}))  # type: ignore[arg-type]
