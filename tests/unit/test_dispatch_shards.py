"""The dispatcher's slices: one invocation per shard of the pending-index (messages sharded by customer),
each at its share of the sending rates, stopping when its time runs out and leaving the rest due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dueflow import clock
from dueflow.domain.case import Case
from dueflow.domain.loan import Loan
from dueflow.domain.outbox import Message
from dueflow.pacing import Budget, Pacer
from dueflow.services.context import Services
from dueflow.services.dispatch import SendRates, run_dispatch
from dueflow.settings import Settings
from dueflow.sharding import shard_label, shard_of
from dueflow_local.memory import Wire
from dueflow_local.memory_runtime import memory_services

NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SHARDS = 4
VALUES = {
    "ref": "0001",
    "amount": "10.00",
    "currency": "CNY",
    "due_date": "2026-06-15",
    "bank_phone": "400-000-0000",
    "as_of": "2026-07-01",
}


@pytest.fixture
def services() -> Iterator[Services]:
    clock.set_clock(lambda: NOON)
    services = memory_services(Settings(environment="shards", index_shards=SHARDS), Wire())
    for n in range(12):
        loan = Loan.model_validate(
            {
                "loan_id": f"L{n}",
                "customer_id": f"C{n}",
                "principal": "12000.00",
                "annual_rate": "0.12",
                "term_months": 12,
                "start_date": "2026-05-15",
                "customer": {"phone": "+8613800138000", "email": f"c{n}@example.com", "timezone": "Asia/Shanghai"},
            }
        )
        services.loans.put([loan], date(2026, 7, 1))
        case = f"L{n}-2026-06-15"
        services.cases.create(Case(case_id=case, loan_id=f"L{n}", customer_id=f"C{n}", opened_on=date(2026, 6, 16)))
        for channel in ("sms", "email"):
            message = Message(
                f"{case}:first_reminder:{channel}", case, f"L{n}", f"C{n}", channel, "first_reminder", "en", NOON
            )
            message.values = {**VALUES}
            services.outbox.enqueue(message)
    yield services
    clock.reset_clock()


def sent_to(services: Services) -> list[str]:
    sent: list[dict[str, Any]] = services.notifier.sent  # type: ignore[attr-defined]
    return [m.get("PhoneNumber") or m["Destination"]["ToAddresses"][0] for m in sent if "TopicArn" not in m]


def test_each_shard_sends_exactly_its_customers_messages_and_together_all(services: Services) -> None:
    seen: list[int] = []
    for shard in range(SHARDS):
        before = services.outbox.earliest_pending(shard)
        report = run_dispatch(services, NOON, shard=shard)
        customers = {f"C{n}" for n in range(12) if shard_of(f"C{n}", SHARDS) == shard_label(shard, SHARDS)}
        assert report.sent == 2 * len(customers) and (before is None) == (not customers)
        seen.append(report.sent)
    assert sum(seen) == 24 and len(sent_to(services)) == 24
    assert run_dispatch(services, NOON).sent == 0  # nothing twice


def test_each_channel_is_paced_at_the_invocations_share_of_its_rate(services: Services) -> None:
    waits: dict[str, int] = {"sms": 0, "email": 0}

    class Counting(Pacer):
        def __init__(self, channel: str, rate: float) -> None:
            super().__init__(rate, sleep=lambda s: None)
            self.channel, self.rate = channel, rate

        def wait(self) -> None:
            waits[self.channel] += 1

    settings = services.settings
    share = SendRates.share(settings, SHARDS)
    assert share.sms is not None and share.email is not None
    assert share.sms._interval == pytest.approx(SHARDS / settings.sms_max_send_per_second)
    assert share.email._interval == pytest.approx(SHARDS / settings.ses_max_send_per_second)
    report = run_dispatch(services, NOON, rates=SendRates(sms=Counting("sms", 5), email=Counting("email", 3)))
    assert report.sent == 24 and waits == {"sms": 12, "email": 12}


def test_an_invocation_whose_time_runs_out_stops_and_leaves_the_rest_due(services: Services) -> None:
    left = iter([120_000] * 5 + [10_000] * 100)  # five messages' worth of time, then under the reserve
    report = run_dispatch(services, NOON, budget=Budget(lambda: next(left), reserve_s=30))
    assert report.stopped_early and report.sent == 5
    rest = run_dispatch(services, NOON)
    assert rest.sent == 19 and not rest.stopped_early
    assert len(sent_to(services)) == 24
