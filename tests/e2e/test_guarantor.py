"""Guarantor contact where the rule pack allows it, never a third party otherwise: under the cn pack a
guarantor liable with the borrower (连带责任保证, 民法典 第六百八十八条) hears once, from 30 days past due; a
general guarantor (一般保证, 第六百八十七条) and the guarantor of a loan under no pack never do. Checked
against the providers' own logs: who received what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dueflow.settings import Settings
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import NO_TABLE, borrower

JOINT = {"liability": "joint_several", "name": "赵强", "phone": "+8613900000001", "email": "guarantor1@example.org"}
GENERAL = {"liability": "general", "name": "钱伟", "phone": "+8613900000002", "email": "guarantor2@example.org"}
NO_PACK = {"liability": "joint_several", "name": "孙丽", "phone": "+8613900000003", "email": "guarantor3@example.org"}


@pytest.fixture
def rt() -> Iterator[MemoryRuntime]:
    settings = Settings(environment="guarantors", index_shards=2, **NO_TABLE)
    with MemoryRuntime(settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as runtime:
        runtime.load_book(
            [
                borrower("J1", rules="cn", guarantor=JOINT),
                borrower("G1", rules="cn", guarantor=GENERAL),
                borrower("N1", guarantor=NO_PACK),
            ],
            date(2026, 6, 16),
        )
        for offset in range(1, 50):
            runtime.run_day(date(2026, 6, 16) + timedelta(days=offset))
        yield runtime


def delivered(rt: MemoryRuntime) -> list[dict[str, Any]]:
    """(destination, text, day) of every SMS and e-mail the providers accepted."""
    out = []
    for entry in rt.services.notifier.sent:  # type: ignore[attr-defined]
        if entry.get("PhoneNumber"):
            out.append({"to": entry["PhoneNumber"], "text": entry["Message"], "id": entry["id"]})
        elif entry.get("Destination"):
            body = entry["Content"]["Simple"]["Body"]["Text"]["Data"]
            out.append({"to": entry["Destination"]["ToAddresses"][0], "text": body, "id": entry["id"]})
    return out


def test_a_joint_guarantor_hears_once_from_30_days_past_due_and_no_one_else_does(rt: MemoryRuntime) -> None:
    sent = delivered(rt)
    to_joint = [m for m in sent if m["to"] in (JOINT["phone"], JOINT["email"])]
    assert sorted(m["to"] for m in to_joint) == sorted([JOINT["phone"], JOINT["email"]])  # once, both channels
    assert all("连带责任保证" in m["text"] and "赵强" not in m["text"] for m in to_joint)
    assert not [m for m in sent if m["to"] in (GENERAL["phone"], GENERAL["email"], NO_PACK["phone"], NO_PACK["email"])]
    borrowers = {"+8613800138000", "j1@example.com", "g1@example.com", "n1@example.com"}  # the conftest's
    assert {m["to"] for m in sent} <= borrowers | {JOINT["phone"], JOINT["email"]}  # nobody else, ever
    assert not [m for m in sent if m["to"] in borrowers and "连带责任保证" in m["text"]]
    # not before 30 days past due (the first installment fell due on 2026-06-15)
    outbox = [rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all()]
    notices = [m for m in outbox if m is not None and m.template == "guarantor_notice"]
    assert {m.recipient for m in notices} == {"guarantor"} and len(notices) == 2
    assert all(m.sent_at is not None and m.sent_at.date() >= date(2026, 7, 15) for m in notices)


def test_legal_reads_the_joint_guarantor_as_a_co_defendant(rt: MemoryRuntime) -> None:
    from dueflow.services.litigation import open_parties

    stored = rt.services.loans.get_stored("J1")
    assert stored is not None and stored.guarantor_channels == ["sms", "email"]
    loan = stored.loan
    assert loan.guarantor is not None and loan.guarantor.phone is None  # no PII in the stored record
    sealed = {k: v for k, v in stored.sealed.items() if k.startswith("guarantor_")}
    package = {"parties": {"guarantor": {"identity_sealed": sealed, "note": "sealed"}}}
    opened = open_parties(rt.services, "J1", package)["parties"]["guarantor"]
    assert opened == {"identity": {"name": "赵强", "phone": "+8613900000001", "email": "guarantor1@example.org"}}
