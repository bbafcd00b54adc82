"""Appending to a case's chain: retries write nothing twice, a crash mid-append is repaired."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

import pytest

from dueflow.domain.audit_chain import verify_chain
from dueflow.domain.case import Case
from dueflow.services import audit_log

T = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def case_id(services: Any) -> str:
    services.cases.create(Case(case_id="L1-2026-06-15", loan_id="L1", opened_on=date(2026, 7, 1)))
    return "L1-2026-06-15"


def chain(services: Any, case_id: str) -> Any:
    case = services.cases.require(case_id)
    return verify_chain(case_id, services.audit_store.read_case("L1", case_id), case.audit_head)


def test_appends_build_a_verifiable_chain(services: Any, case_id: str) -> None:
    for n, kind in enumerate(["case_opened", "stage_entered", "statement"]):
        assert audit_log.append(services, case_id, kind, T, {"n": n}, dedupe=f"e{n}") == n + 1
    report = chain(services, case_id)
    assert report.ok and report.records == 3


def test_a_retried_append_writes_nothing_new(services: Any, case_id: str) -> None:
    audit_log.append(services, case_id, "case_opened", T, {}, dedupe="open")
    assert audit_log.append(services, case_id, "case_opened", T, {}, dedupe="open") == 1
    assert chain(services, case_id).records == 1


def test_a_crash_between_claim_and_store_is_repaired_by_the_next_append(services: Any, case_id: str) -> None:
    audit_log.append(services, case_id, "case_opened", T, {}, dedupe="open")
    # Given a writer that claimed seq 2 on the case and died before storing the record in S3
    with (
        mock.patch.object(services.audit_store, "append", side_effect=ConnectionError("lost")),
        pytest.raises(ConnectionError),
    ):
        audit_log.append(services, case_id, "stage_entered", T, {"stage": "x"}, dedupe="stage-x")
    assert chain(services, case_id).records == 1  # the record is missing from S3 for now
    # When any writer appends next, Then the claimed record is stored first and the chain stays whole
    audit_log.append(services, case_id, "statement", T, {}, dedupe="statement")
    report = chain(services, case_id)
    assert report.ok and report.records == 3
    # and the crashed writer's retry does not write its record again
    assert audit_log.append(services, case_id, "stage_entered", T, {"stage": "x"}, dedupe="stage-x") == 3
    assert chain(services, case_id).records == 3
