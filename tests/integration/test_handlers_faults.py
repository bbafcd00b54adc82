"""Handlers against moto when AWS fails once: a retry ends with exactly one message and one record."""

from __future__ import annotations

import contextlib
import itertools
import json
from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from dueflow import clock
from dueflow.domain.audit_chain import verify_chain
from dueflow.domain.case import Case
from dueflow.services.dispatch import run_dispatch
from dueflow.services.scan import run_scan
from dueflow_local.generate import generate_book

NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b""


def fail_first(client: Any, event: str, status: int = 500) -> list[int]:
    """Make the first matching request fail with ``status`` below botocore's retry handler."""
    calls: list[int] = []

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        calls.append(1)
        if len(calls) == 1:
            return AWSResponse(request.url, status, {}, _Raw())  # type: ignore[arg-type]
        return None

    client.meta.events.register_first(event, hook)
    return calls


def open_case_with_messages(services: Any) -> str:
    clock.set_clock(lambda: NOON)
    loan = next(iter(generate_book(1, seed=3, as_of=date(2026, 7, 1))))
    services.loans.put([loan], date(2026, 7, 1))
    case_id = f"{loan.loan_id}-x"
    services.cases.create(
        Case(case_id=case_id, loan_id=loan.loan_id, customer_id=loan.customer_id, opened_on=date(2026, 7, 1))
    )
    from dueflow.adapters.outbox import Message

    for channel in ("sms", "email"):
        services.outbox.enqueue(
            Message(
                f"{case_id}:first_reminder:{channel}",
                case_id,
                loan.loan_id,
                loan.customer_id,
                channel,
                "first_reminder",
                "en",
                NOON,
                {
                    "ref": "0001",
                    "amount": "10.00",
                    "currency": "CNY",
                    "bank_phone": "400-000-0000",
                    "as_of": "2026-07-01",
                },
            )
        )
    return case_id


def sent_and_records(services: Any, case_id: str, loan_id: str) -> tuple[int, int]:
    sent = sum(1 for m in services.outbox.all() if m["status"] == "SENT")
    objects = services.audit_store.read_case(loan_id, case_id)
    assert verify_chain(case_id, objects, services.cases.require(case_id).audit_head).ok
    return sent, sum(1 for key, _ in objects if key.endswith("-message_sent.json"))


def test_ses_refusing_once_sends_the_email_exactly_once_on_the_next_tick(
    services: Any, aws_clients: dict[str, Any]
) -> None:
    case_id = open_case_with_messages(services)
    loan_id = services.cases.require(case_id).loan_id
    real = aws_clients["sesv2"].send_email
    attempts: list[int] = []

    def refuse_once(**kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail")
        return real(**kwargs)

    with mock.patch.object(aws_clients["sesv2"], "send_email", side_effect=refuse_once):
        first = run_dispatch(services, NOON)
        assert (first.sent, first.deferred) == (1, 1)  # the SMS went, the email waits for the next tick
        second = run_dispatch(services, NOON)
        assert (second.sent, second.deferred) == (1, 0)
        third = run_dispatch(services, NOON)
        assert third.sent == 0
    assert sent_and_records(services, case_id, loan_id) == (2, 2)
    clock.reset_clock()


def test_sns_and_s3_failing_once_are_retried_by_the_sdk_with_one_message_and_one_record(
    services: Any, aws_clients: dict[str, Any]
) -> None:
    case_id = open_case_with_messages(services)
    loan_id = services.cases.require(case_id).loan_id
    sns_calls = fail_first(aws_clients["sns"], "before-send.sns.Publish", 500)
    s3_calls = fail_first(aws_clients["s3"], "before-send.s3.PutObject", 503)
    report = run_dispatch(services, NOON)
    assert report.sent == 2 and len(sns_calls) >= 2 and len(s3_calls) >= 2
    assert sent_and_records(services, case_id, loan_id) == (2, 2)
    clock.reset_clock()


def test_a_crash_after_sending_is_never_sent_again_and_goes_on_record_as_unconfirmed(services: Any) -> None:
    """The dispatcher stops between the provider accepting the SMS and the outbox recording it: the
    message stays claimed until its lease ends, then is settled as UNCONFIRMED, recorded, counted."""
    import pytest

    from dueflow.adapters.outbox import LEASE
    from dueflow_local.faults import FaultPlan, InjectedCrash, injecting

    case_id = open_case_with_messages(services)
    loan = services.cases.require(case_id)
    with injecting(FaultPlan.parse("crash:after_send=1.0")), pytest.raises(InjectedCrash):
        run_dispatch(services, NOON)  # one message goes (the SMS or the e-mail), then the crash
    ids = [f"{case_id}:first_reminder:{channel}" for channel in ("sms", "email")]
    (doubt,) = [i for i in ids if services.outbox.get(i).status == "SENDING"]  # the one in doubt
    retry = run_dispatch(services, NOON)  # inside the lease: the other goes, the one in doubt is left alone
    assert (retry.sent, retry.unconfirmed) == (1, 0)
    later = NOON + LEASE
    clock.set_clock(lambda: later)
    settled = run_dispatch(services, later)
    assert (settled.sent, settled.unconfirmed) == (0, 1)
    assert services.outbox.get(doubt).status == "UNCONFIRMED"
    assert run_dispatch(services, later).unconfirmed == 0  # settled once
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    texts = [m for m in sns_backends[DEFAULT_ACCOUNT_ID][services.settings.region].sms_messages.values()]
    assert len(texts) == 1  # the customer got the SMS once
    objects = services.audit_store.read_case(loan.loan_id, case_id)
    kinds = [key.rsplit("/", 1)[-1].split("-", 1)[1] for key, _ in objects]
    assert kinds.count("message_unconfirmed.json") == 1 and kinds.count("message_sent.json") == 1
    assert verify_chain(case_id, objects, services.cases.require(case_id).audit_head).ok
    assert len(services.cases.contacts(loan.customer_id)) == 1  # the SMS counts against the caps
    clock.reset_clock()


def test_the_scan_is_safe_to_run_again_after_a_failure(services: Any, aws_clients: dict[str, Any]) -> None:
    from dueflow.services.scan import ItemsFailed

    clock.set_clock(lambda: NOON)
    clock.set_sleep(lambda seconds: None)
    book = list(generate_book(60, seed=4, as_of=date(2026, 7, 1)))
    services.loans.put(book, date(2026, 7, 1))
    with (
        mock.patch.object(
            aws_clients["stepfunctions"],
            "start_execution",
            side_effect=ClientError({"Error": {"Code": "ThrottlingException", "Message": "rate"}}, "StartExecution"),
        ),
        contextlib.suppress(ClientError, ItemsFailed),
    ):
        run_scan(services, date(2026, 7, 1))
    with (
        mock.patch.object(
            aws_clients["stepfunctions"], "start_execution", return_value={"executionArn": "arn:x"}
        ) as start,
        mock.patch.object(aws_clients["stepfunctions"], "describe_execution", return_value={"status": "RUNNING"}),
    ):
        report = run_scan(services, date(2026, 7, 1))
        again = run_scan(services, date(2026, 7, 1))
    opened = report.cases_opened + report.cases_already_open
    assert opened > 0 and again.cases_opened == 0
    # every overdue loan got exactly one case, and the execution was (re)started for the first one
    cases = list(services.cases.all())
    assert len(cases) == opened == len({c.loan_id for c in cases})
    # the cases whose execution failed to start the first time got it started on the rerun, once
    assert start.call_count == len(cases)
    assert all(c.execution_arn for c in cases)
    clock.reset_clock()
    clock.set_sleep(None)


def test_the_scheduled_scan_fans_out_two_invocations_per_shard(services: Any) -> None:
    from dueflow.adapters.fanout import invoke_async
    from dueflow.services.scan import shard_events

    lambda_client = mock.Mock()
    events = shard_events({"time": "2026-07-01T18:00:00Z"}, 4)
    assert invoke_async("dueflow-test-scan", events, lambda_client) == 8
    payloads = sorted(
        (json.loads(c.kwargs["Payload"])["shard"], json.loads(c.kwargs["Payload"])["part"])
        for c in lambda_client.invoke.call_args_list
    )
    assert payloads == [(shard, part) for shard in range(4) for part in ("due", "wake")]
    assert all(c.kwargs["InvocationType"] == "Event" for c in lambda_client.invoke.call_args_list)


def test_the_pacer_keeps_start_executions_under_the_rate() -> None:
    from dueflow.pacing import Pacer

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(10, sleep=sleep, now=lambda: now[0])
    calls = []
    for _ in range(5):
        pacer.wait()
        calls.append(now[0])
    # five calls at 10 per second, asked for at once: spaced a tenth of a second apart
    assert [round(b - a, 6) for a, b in itertools.pairwise(calls)] == [0.1] * 4
    assert len(slept) == 4
