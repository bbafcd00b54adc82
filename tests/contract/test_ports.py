"""One contract for every port, run on both worlds: the AWS adapters on moto, and the in-memory adapters.

A fake that drifts from what the AWS adapter does on moto fails here: each test states the behaviour
(conditional failures included) and both worlds must show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from dueflow.adapters.pii import is_sealed
from dueflow.domain.audit_chain import GENESIS, AuditRecord
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.outbox import LEASE, Message
from dueflow.ports import AuditConflictError, PostingConflict, ScanStats
from dueflow.services.context import Services
from dueflow.settings import Settings
from dueflow_local.generate import generate_book

AS_OF = date(2026, 6, 30)
NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "moto"])
def world(request: pytest.FixtureRequest) -> Iterator[Services]:
    settings = Settings(environment="contract", index_shards=4)
    if request.param == "memory":
        from dueflow_local.memory import Wire
        from dueflow_local.memory_runtime import memory_services

        yield memory_services(settings, Wire())
        return
    from dueflow_local.moto_runtime import MotoRuntime

    with MotoRuntime(settings) as rt:
        yield rt.services


def loan(loan_id: str = "L1", **extra: Any) -> Loan:
    record: dict[str, Any] = {
        "loan_id": loan_id,
        "customer_id": f"C-{loan_id}",
        "principal": "12000.00",
        "annual_rate": "0.12",
        "term_months": 12,
        "start_date": "2026-03-15",
        "customer": {
            "name": "王芳",
            "phone": "+8613800138000",
            "email": "wf@example.com",
            "timezone": "Asia/Shanghai",
            "language": "zh-CN",
            "monthly_income": "20000.00",
        },
    }
    return Loan.model_validate(record | extra)


# -- loans ---------------------------------------------------------------------------------------------
def test_a_loan_comes_back_without_pii_and_its_contact_details_open_just_in_time(world: Services) -> None:
    assert world.loans.put([loan()], AS_OF) == 1
    stored = world.loans.get_stored("L1")
    assert stored is not None and stored.loan.customer is not None
    assert stored.loan.customer.name is None and stored.loan.customer.phone is None
    assert stored.loan.customer.timezone == "Asia/Shanghai"
    assert stored.channels == ["sms", "email"]
    assert all(is_sealed(v) for v in stored.sealed.values()) and "王芳" not in str(stored.sealed)
    contact = world.loans.contact("L1")
    assert (contact["name"], contact["phone"], contact["monthly_income"]) == ("王芳", "+8613800138000", "20000.00")
    assert world.loans.get("nope") is None and world.loans.get_stored("nope") is None


def test_a_sealed_value_opens_only_for_its_owner(world: Services) -> None:
    sealed = world.pii.seal("L1", {"phone": "+8613800138000"})
    assert world.pii.open("L1", sealed)["phone"] == "+8613800138000"
    with pytest.raises(Exception):  # noqa: B017 - KMS refuses (InvalidCiphertext) as AES-GCM does (InvalidTag)
        world.pii.open("L2", sealed)


def test_payments_post_once_per_reference_and_a_refused_one_changes_nothing(world: Services) -> None:
    world.loans.put([loan()], AS_OF)
    after = world.loans.add_payment("L1", date(2026, 4, 15), "1066.19", AS_OF, reference="bank-1")
    again = world.loans.add_payment("L1", date(2026, 4, 15), "1066.19", AS_OF, reference="bank-1")
    assert len(after.payments) == len(again.payments) == 1
    with pytest.raises(ValidationError):
        world.loans.add_payment("L1", date(2020, 1, 1), "5.00", AS_OF)  # before the loan began
    assert len(world.loans.get("L1").payments) == 1  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        world.loans.add_payment("nope", date(2026, 4, 15), "1.00", AS_OF)


def test_other_content_under_a_held_reference_is_refused_naming_both(world: Services) -> None:
    world.loans.put([loan()], AS_OF)
    world.loans.add_payment("L1", date(2026, 4, 15), "100.00", AS_OF, reference="bank-1")
    with pytest.raises(PostingConflict, match=r"bank-1 was posted as 100.00 on 2026-04-15; this posting says 200.00"):
        world.loans.add_payment("L1", date(2026, 4, 15), "200.00", AS_OF, reference="bank-1")
    assert [str(p.amount) for p in world.loans.get("L1").payments] == ["100.00"]  # type: ignore[union-attr]


def test_concurrent_postings_both_land(world: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another posting lands between this one's read and its conditional write: the write fails its
    condition, and the posting is applied again to the loan as it now is."""
    world.loans.put([loan()], AS_OF)
    store = world.loans
    read = "get_item" if hasattr(store, "get_item") else "get_stored"
    original = getattr(store, read)
    raced = []

    def racing_read(loan_id: str) -> Any:
        seen = original(loan_id)
        if not raced:
            raced.append(True)
            store.add_payment("L1", date(2026, 4, 16), "50.00", AS_OF, reference="bank-other")
        return seen

    monkeypatch.setattr(store, read, racing_read)
    store.add_payment("L1", date(2026, 4, 15), "100.00", AS_OF, reference="bank-mine")
    monkeypatch.undo()
    held = sorted((p.reference, str(p.amount)) for p in store.get("L1").payments)  # type: ignore[union-attr]
    assert held == [("bank-mine", "100.00"), ("bank-other", "50.00")]


def test_ledger_entries_book_once_per_reference_and_move_the_due_index(world: Services) -> None:
    """A restructuring booked on an overdue loan takes it off the overdue part of the due-index until its
    first installment falls due; the same entry again books nothing; a bad one changes nothing."""
    world.loans.put([loan()], AS_OF)
    overdue = [s.loan.loan_id for s in world.loans.due_by(AS_OF, 0)]
    assert overdue == ["L1"]
    plan = {
        "kind": "restructuring",
        "date": AS_OF.isoformat(),
        "installments": [{"due_date": (AS_OF + timedelta(days=20)).isoformat(), "amount": "5000.00"}],
        "approved_by": "agent-1",
        "reference": "case-1:plan:1",
    }
    booked = world.loans.post_entry("L1", plan, AS_OF)
    again = world.loans.post_entry("L1", plan, AS_OF)
    assert len(booked.adjustments) == len(again.adjustments) == 1
    assert world.loans.get("L1").adjustments == booked.adjustments  # type: ignore[union-attr]
    assert [s.loan.loan_id for s in world.loans.due_by(AS_OF, 0)] == []
    assert [s.loan.loan_id for s in world.loans.due_by(AS_OF, 20)] == ["L1"]
    with pytest.raises(ValidationError):
        world.loans.post_entry("L1", plan | {"reference": "case-1:plan:2", "date": "2020-01-01"}, AS_OF)
    assert len(world.loans.get("L1").adjustments) == 1  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        world.loans.post_entry("nope", plan, AS_OF)


def test_the_due_index_holds_exactly_the_loans_due_soon_or_overdue(world: Services) -> None:
    book = list(generate_book(120, seed=5, as_of=AS_OF))
    world.loans.put(book, AS_OF)
    from dueflow.domain.position import FLAG_DUE_SOON, assess

    expected = {x.loan_id for x in book if (p := assess(x, AS_OF)).dpd > 0 or FLAG_DUE_SOON in p.flags}
    stats = ScanStats()
    found = [s.loan.loan_id for s in world.loans.due_by(AS_OF, 3, stats)]
    assert set(found) == expected and len(found) == len(expected)
    assert stats.queries == 4 and stats.returned == len(expected)
    by_shard = [s.loan.loan_id for shard in range(4) for s in world.loans.due_by(AS_OF, 3, shard=shard)]
    assert sorted(by_shard) == sorted(found)
    assert {x.loan_id for x in world.loans.all()} == {x.loan_id for x in book}
    # read on after a position (a scan slice handing over): the rest of the shard, in the same order
    for shard in range(4):
        whole = list(world.loans.due_by(AS_OF, 3, shard=shard))
        keys = [s.due_key for s in whole]
        assert all(k is not None for k in keys) and keys == sorted(keys)  # type: ignore[type-var]
        if len(whole) > 2:
            rest = [s.loan.loan_id for s in world.loans.due_by(AS_OF, 3, shard=shard, after=keys[1])]
            assert rest == [s.loan.loan_id for s in whole[2:]]


# -- cases ---------------------------------------------------------------------------------------------
def case(case_id: str = "L1-2026-06-15", opened: str = "2026-06-16", **extra: Any) -> Case:
    fields = {"case_id": case_id, "loan_id": "L1", "customer_id": "C-L1", "opened_on": opened}
    return Case.model_validate(fields | extra)


def test_a_case_is_created_once_and_comes_back_typed(world: Services) -> None:
    plan = {
        "version": 1,
        "proposed_on": "2026-06-18",
        "proposed_by": "ag1",
        "amount": "1066.19",
        "installments": [{"seq": 1, "due_date": "2026-06-25", "amount": "1066.19"}],
    }
    assert world.cases.create(case(dpd_at_open=3, total_overdue_at_open="12.50", plan=plan))
    assert not world.cases.create(case(status="CLOSED"))
    got = world.cases.require("L1-2026-06-15")
    assert (got.status, got.dpd_at_open, got.total_overdue_at_open) == ("OPEN", 3, Decimal("12.50"))
    assert got.opened_on == date(2026, 6, 16) and got.plan is not None
    assert got.plan.installments[0].amount == Decimal("1066.19") and got.plan.accepted_on is None
    with pytest.raises(ValidationError):  # a case is immutable: a change is a write through the store
        got.status = "CLOSED"  # type: ignore[misc]
    with pytest.raises(KeyError):
        world.cases.require("nope")


def test_updates_set_remove_and_hold_only_when_expected_values_do(world: Services) -> None:
    world.cases.create(case(stage="Opening"))
    cid = "L1-2026-06-15"
    assert world.cases.update(cid, {"stage": "First contact", "waived": Decimal("1.50"), "complaints": 2})
    got = world.cases.require(cid)
    assert (got.stage, got.waived, got.complaints) == ("First contact", Decimal("1.50"), 2)
    assert world.cases.update(cid, {"opt_out": {"sms", "email"}, "assigned_to": None})
    assert world.cases.require(cid).opt_out == {"sms", "email"}
    assert world.cases.update(cid, {"closed_on": date(2026, 7, 1)})
    assert world.cases.require(cid).closed_on == date(2026, 7, 1)
    assert world.cases.update(cid, remove=("waived",)) and world.cases.require(cid).waived == 0
    assert not world.cases.update(cid, {"stage": "x"}, expect={"status": "CLOSED"})
    assert not world.cases.update(cid, {"stage": "x"}, expect={"task_token": "t"})  # attribute missing
    assert world.cases.require(cid).stage == "First contact"
    assert world.cases.update(cid, {"stage": "y"}, expect={"status": "OPEN", "complaints": 2})
    assert not world.cases.update("nope", {"stage": "x"}, expect={"status": "OPEN"})
    assert world.cases.get("nope") is None
    with pytest.raises(ValueError, match="no attribute 'stgae'"):
        world.cases.update(cid, {"stgae": "x"})
    with pytest.raises(TypeError):
        world.cases.update(cid, {"stage": 0.5})
    assert world.cases.require(cid).stage == "y"


def test_a_token_is_taken_off_a_case_by_exactly_one_caller(world: Services) -> None:
    world.cases.create(case())
    cid = "L1-2026-06-15"
    world.cases.park(cid, "tok-1", "Await response", date(2026, 6, 23))
    got = world.cases.require(cid)
    assert (got.task_token, got.waiting_state, got.stage, got.wake_on) == (
        "tok-1",
        "Await response",
        "Await response",
        date(2026, 6, 23),
    )
    assert not world.cases.unpark(cid, "tok-other")
    assert world.cases.unpark(cid, "tok-1")
    assert not world.cases.unpark(cid, "tok-1")
    assert world.cases.require(cid).wake_on is None
    world.cases.update(cid, {"status": "CLOSED"})
    world.cases.park(cid, "tok-2", "Await response", None)  # a closed case is not parked
    assert world.cases.require(cid).task_token is None


def test_the_wake_index_returns_what_is_due_in_date_order(world: Services) -> None:
    for n, wake in enumerate(["2026-06-20", "2026-06-25", "2026-06-18", "2026-07-02"]):
        cid = f"L{n}-2026-06-15"
        world.cases.create(case(cid))
        world.cases.park(cid, f"tok-{n}", "Await response", date.fromisoformat(wake))
    due = list(world.cases.wakeups_due(date(2026, 6, 25)))
    assert sorted(due) == ["L0-2026-06-15", "L1-2026-06-15", "L2-2026-06-15"]
    per_shard = [list(world.cases.wakeups_due(date(2026, 6, 25), shard=s)) for s in range(4)]
    assert sorted(c for shard in per_shard for c in shard) == sorted(due)
    world.cases.unpark("L0-2026-06-15", "tok-0")
    assert "L0-2026-06-15" not in list(world.cases.wakeups_due(date(2026, 6, 25)))
    # read on after a position: (wake_on, case_id) order, even after the entry at the position left
    for shard in range(4):
        ids = list(world.cases.wakeups_due(date(2026, 7, 5), shard=shard))
        for index, cid in enumerate(ids):
            position = (world.cases.require(cid).wake_on.isoformat(), cid)  # type: ignore[union-attr]
            assert list(world.cases.wakeups_due(date(2026, 7, 5), shard=shard, after=position)) == ids[index + 1 :]
    everyone = sorted(
        ((c.wake_on.isoformat(), c.case_id) for c in world.cases.all() if c.wake_on),  # type: ignore[union-attr]
    )
    first = everyone[0]
    shard = next(s for s in range(4) if first[1] in list(world.cases.wakeups_due(date(2026, 7, 5), shard=s)))
    later = list(world.cases.wakeups_due(date(2026, 7, 5), shard=shard, after=first))
    token = next(f"tok-{n}" for n in range(4) if first[1] == f"L{n}-2026-06-15")
    world.cases.unpark(first[1], token)
    assert list(world.cases.wakeups_due(date(2026, 7, 5), shard=shard, after=first)) == later


def test_the_limitation_index_holds_open_cases_by_the_day_their_warning_begins(world: Services) -> None:
    from dueflow.sharding import shard_of

    for n, warn in enumerate(["2027-01-10", "2026-12-01", "2028-03-01"]):
        cid = f"L{n}-2026-06-15"
        world.cases.create(case(cid))
        world.cases.update(cid, {"limitation_warn_on": warn, "limitation_shard": shard_of(cid, 4)})
    assert sorted(world.cases.limitations_due(date(2027, 1, 10))) == ["L0-2026-06-15", "L1-2026-06-15"]
    per_shard = [list(world.cases.limitations_due(date(2027, 1, 10), shard=s)) for s in range(4)]
    assert sorted(c for shard in per_shard for c in shard) == ["L0-2026-06-15", "L1-2026-06-15"]
    world.cases.update("L1-2026-06-15", {"status": "CLOSED"}, remove=("limitation_shard",))  # off the index
    assert list(world.cases.limitations_due(date(2027, 1, 10))) == ["L0-2026-06-15"]
    assert world.cases.require("L0-2026-06-15").limitation_warn_on == date(2027, 1, 10)


def test_the_open_and_queue_indexes_hold_open_cases_and_each_agents(world: Services) -> None:
    from dueflow.sharding import shard_of

    for n, agent in enumerate(["ag1", "ag2", "ag1"]):
        cid = f"L{n}-2026-06-15"
        world.cases.create(case(cid, open_shard=shard_of(cid, 4)))
        world.cases.update(cid, {"assigned_to": agent, "queue_of": agent})
    assert sorted(c.case_id for c in world.cases.open_cases()) == ["L0-2026-06-15", "L1-2026-06-15", "L2-2026-06-15"]
    assert sorted(c.case_id for c in world.cases.queue_of("ag1")) == ["L0-2026-06-15", "L2-2026-06-15"]
    assert (world.cases.queue_size("ag1"), world.cases.queue_size("ag2"), world.cases.queue_size("x")) == (2, 1, 0)
    world.cases.update("L0-2026-06-15", {"status": "CLOSED"}, remove=("open_shard", "queue_of"))
    assert world.cases.queue_size("ag1") == 1
    assert "L0-2026-06-15" not in [c.case_id for c in world.cases.open_cases()]
    # closed cases by outcome, newest first
    for cid, closed_on in (("L0-2026-06-15", "2026-09-01"), ("L1-2026-06-15", "2026-09-20")):
        world.cases.update(cid, {"status": "CLOSED", "closed_on": closed_on, "closed_outcome": "LITIGATION"})
    assert [c.case_id for c in world.cases.closed_cases("LITIGATION")] == ["L1-2026-06-15", "L0-2026-06-15"]
    assert list(world.cases.closed_cases("SETTLED")) == []


def test_a_loans_cases_newest_first_and_the_open_one(world: Services) -> None:
    world.cases.create(case("L1-2026-04-15", opened="2026-04-16", status="CLOSED"))
    world.cases.create(case("L1-2026-06-15", opened="2026-06-16"))
    world.cases.create(case("L1-2026-05-15", opened="2026-05-16", status="CLOSED"))
    assert world.cases.latest_case_for_loan("L1").case_id == "L1-2026-06-15"  # type: ignore[union-attr]
    assert world.cases.open_case_for_loan("L1").case_id == "L1-2026-06-15"  # type: ignore[union-attr]
    world.cases.update("L1-2026-06-15", {"status": "CLOSED"})
    assert world.cases.open_case_for_loan("L1") is None
    assert world.cases.latest_case_for_loan("L2") is None
    assert sorted(c.case_id for c in world.cases.all()) == ["L1-2026-04-15", "L1-2026-05-15", "L1-2026-06-15"]


def test_the_audit_claim_is_conditional_on_seq_pending_and_dedupe(world: Services) -> None:
    world.cases.create(case())
    cid = "L1-2026-06-15"
    assert world.cases.claim_audit(cid, 0, 1, "h1", "k1", "b1", "d1")
    assert not world.cases.claim_audit(cid, 1, 2, "h2", "k2", "b2", "d2")  # k1 is still pending
    world.cases.update(cid, remove=("audit_pending", "audit_pending_body"), expect={"audit_pending": "k1"})
    assert not world.cases.claim_audit(cid, 0, 2, "h2", "k2", "b2", "d2")  # seq moved on
    assert not world.cases.claim_audit(cid, 1, 2, "h2", "k2", "b2", "d1")  # d1 appended already
    assert world.cases.claim_audit(cid, 1, 2, "h2", "k2", "b2", "d2")
    got = world.cases.require(cid)
    assert (got.audit_seq, got.audit_head, got.audit_pending) == (2, "h2", "k2")
    assert got.audit_keys == {"d1", "d2"}


def test_the_contact_log_keeps_a_week_and_is_not_a_case(world: Services) -> None:
    for days_ago in (9, 3, 0):
        world.cases.add_contact("C-L1", NOON - timedelta(days=days_ago))
    assert world.cases.contacts("C-L1") == [NOON - timedelta(days=3), NOON]
    assert world.cases.contacts("C-none") == []
    assert list(world.cases.all()) == [] and world.cases.get("customer#C-L1") is None


# -- outbox --------------------------------------------------------------------------------------------
def message(message_id: str, not_before: datetime) -> Message:
    return Message(message_id, "case-1", "L1", "C-L1", "sms", "first_reminder", "en", not_before, {"ref": "0001"})


def test_a_message_moves_through_its_states_by_conditional_writes(world: Services) -> None:
    assert world.outbox.enqueue(message("m1", NOON))
    assert not world.outbox.enqueue(message("m1", NOON + timedelta(hours=1)))
    assert world.outbox.get("m1").not_before == NOON  # type: ignore[union-attr]
    assert world.outbox.claim("m1", NOON) and not world.outbox.claim("m1", NOON)
    assert world.outbox.get("m1").status == "SENDING"  # type: ignore[union-attr]
    assert list(world.outbox.due(NOON)) == []  # leased
    assert list(world.outbox.due(NOON + LEASE)) == ["m1"]
    assert world.outbox.release("m1", NOON) and world.outbox.get("m1").status == "PENDING"  # type: ignore[union-attr]
    assert not world.outbox.sent("m1", NOON, "p-1")  # not claimed
    assert world.outbox.claim("m1", NOON) and world.outbox.sent("m1", NOON, "p-1")
    sent = world.outbox.get("m1")
    assert sent is not None and (sent.status, sent.provider_id, sent.sent_at) == ("SENT", "p-1", NOON)
    # on the pending-index until its record is complete (a dispatcher that stopped is followed up)
    assert list(world.outbox.due(NOON)) == ["m1"]
    assert not world.outbox.recorded("m1", "UNCONFIRMED") and world.outbox.recorded("m1", "SENT")
    assert list(world.outbox.due(NOON + timedelta(days=1))) == []  # out of the pending-index
    assert world.outbox.get("m1").status == "SENT"  # type: ignore[union-attr]
    assert not world.outbox.drop("m1", "late") and not world.outbox.unconfirmed("m1", NOON)


def test_pending_messages_come_due_in_time_order_and_are_deferred_or_dropped(world: Services) -> None:
    for n, hours in enumerate([5, 1, 3]):
        world.outbox.enqueue(message(f"m{n}", NOON + timedelta(hours=hours)))
    assert world.outbox.earliest_pending() == NOON + timedelta(hours=1)
    assert sorted(world.outbox.due(NOON + timedelta(hours=3))) == ["m1", "m2"]
    assert world.outbox.defer("m1", NOON + timedelta(hours=9))
    assert list(world.outbox.due(NOON + timedelta(hours=3))) == ["m2"]
    assert world.outbox.drop("m2", "opted out") and not world.outbox.drop("m2", "again")
    assert world.outbox.get("m2").reason == "opted out"  # type: ignore[union-attr]
    assert world.outbox.earliest_pending() == NOON + timedelta(hours=5)
    world.outbox.claim("m0", NOON + timedelta(hours=5))
    assert world.outbox.unconfirmed("m0", NOON + timedelta(hours=6))
    assert {m["message_id"]: m["status"] for m in world.outbox.all()} == {
        "m0": "UNCONFIRMED",
        "m1": "PENDING",
        "m2": "DROPPED",
    }
    assert world.outbox.get("nope") is None


# -- audit ---------------------------------------------------------------------------------------------
def record(seq: int, body: dict[str, Any], case_id: str = "case-1") -> AuditRecord:
    return AuditRecord("L1", case_id, seq, "statement", NOON, body, GENESIS)


def test_audit_objects_are_written_once(world: Services) -> None:
    first = record(1, {"a": 1})
    assert world.audit_store.append(first) == first.digest
    assert world.audit_store.append(first) == first.digest  # a retry of the same bytes
    with pytest.raises(AuditConflictError):
        world.audit_store.append(record(1, {"a": 2}))
    world.audit_store.append(record(2, {"b": 1}))
    world.audit_store.append(record(1, {"c": 1}, case_id="case-2"))
    keys = [key for key, _ in world.audit_store.read_case("L1", "case-1")]
    assert keys == [record(1, {}).key, record(2, {}).key]
    assert world.audit_store.record_keys("L1", "case-1") == keys  # the listing alone, no record read
    assert world.audit_store.read_case("L1", "case-1")[0][1] == first.to_bytes()
    assert sorted(world.audit_store.cases()) == [("L1", "case-1"), ("L1", "case-2")]
    assert world.audit_store.read_case("L9", "none") == []


# -- what goes out -------------------------------------------------------------------------------------
def test_the_notifier_answers_each_message_with_a_provider_id(world: Services) -> None:
    ids = [
        world.notifier.send_sms("+8613800138000", "您好"),
        world.notifier.send_email("wf@example.com", "Reminder", "Hello"),
        world.notifier.notify_staff("DueFlow: call task", {"type": "call_task", "case_id": "case-1"}),
    ]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 3


def test_the_customer_item_keeps_its_choices_beside_the_contact_log(world: Services) -> None:
    """Opt-outs, complaint pauses and do-not-contact per customer; logging a contact keeps them."""
    assert world.cases.customer("C7") == {}
    world.cases.update_customer("C7", {"opt_out": {"sms"}, "paused_by": {"case-1"}, "dnc_reason": "letter"})
    world.cases.add_contact("C7", NOON)
    item = world.cases.customer("C7")
    assert (set(item["opt_out"]), set(item["paused_by"]), item["dnc_reason"]) == ({"sms"}, {"case-1"}, "letter")
    assert world.cases.contacts("C7") == [NOON]
    world.cases.update_customer("C7", remove=("paused_by", "dnc_reason"))
    item = world.cases.customer("C7")
    assert "paused_by" not in item and "dnc_reason" not in item and set(item["opt_out"]) == {"sms"}
    assert [c.case_id for c in world.cases.all()] == []  # a customer's item is not a case


@pytest.mark.parametrize("backend", ["memory", "moto"])
def test_a_loan_naming_no_pack_is_kept_under_the_deployments_default(backend: str) -> None:
    """Settings.rule_pack: a stored loan without ``rules`` gets it, in both worlds; one naming its own
    keeps it."""
    settings = Settings(environment="contract", index_shards=4, rule_pack="cn")
    own = loan("L2").model_copy(update={"rules": "us"})
    if backend == "memory":
        from dueflow_local.memory import Wire
        from dueflow_local.memory_runtime import memory_services

        services = memory_services(settings, Wire())
        services.loans.put([loan("L1"), own], AS_OF)
        assert (services.loans.get("L1").rules, services.loans.get("L2").rules) == ("cn", "us")  # type: ignore[union-attr]
        return
    from dueflow_local.moto_runtime import MotoRuntime

    with MotoRuntime(settings) as rt:
        rt.services.loans.put([loan("L1"), own], AS_OF)
        assert (rt.services.loans.get("L1").rules, rt.services.loans.get("L2").rules) == ("cn", "us")  # type: ignore[union-attr]
