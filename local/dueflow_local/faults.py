"""Fault injection for the local runtime: AWS calls that fail, and a handler that crashes mid-way.

A plan such as ``ses:SendEmail=0.2,sns:Publish=0.2,s3:PutObject=0.1,dynamodb:*=0.05,
states:SendTaskSuccess=0.1`` makes that fraction of the *attempts* of each matching call fail as AWS
fails them: half with throttling (HTTP 400 ``ThrottlingException``, ``Throttling`` or S3's 503
``SlowDown``), half with HTTP 503. The failure is produced where moto would answer the request (a
wrap of moto's ``BotocoreStubber``), so botocore parses it and its retry policy (standard mode, three
attempts: ``dueflow.adapters.aws.SDK_CONFIG``) retries it exactly as it would retry AWS; only calls
whose every attempt fails reach the handler as a ``ClientError``. Services are named by their IAM
prefix (``states``, ``ses``) or botocore's (``sfn``, ``sesv2``).

``crash:after_send=R`` makes the outbox dispatcher crash, with probability R, right after the provider
accepted a customer message (SMS or email) and before the outbox recorded it: the next DynamoDB write
of that thread raises ``InjectedCrash``, which nothing catches, as a Lambda that runs out of time or
memory would stop there.

In a simulation, faults are injected only into the calls the handlers make (``only_when``): the
runtime's own calls (delivering the stream, ticking the dispatcher, routing a day's events to the API)
stand in for AWS's machinery and the bank's systems, which are not what is under test.

While injecting, backoff sleeps (botocore's between attempts, Step Functions' ``Retry`` intervals) are
skipped: time in the local runtime is simulated, and the backoff would only make the run slower.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from dueflow.ports import ServiceUnavailable

ALIASES = {"states": "sfn", "ses": "sesv2", "stepfunctions": "sfn", "email": "sesv2"}
QUERY_PROTOCOL = {"sns", "sqs", "iam", "sts"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class InjectedCrash(Exception):
    """A handler stopped part-way (injected)."""


@dataclass(frozen=True)
class FaultRule:
    service: str  # botocore's service id in event names: dynamodb, s3, sns, sesv2, sfn
    operation: str  # an operation name, or * for all
    rate: float

    def matches(self, service: str, operation: str) -> bool:
        return self.service == service and self.operation in ("*", operation)

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}={self.rate}"


@dataclass(frozen=True)
class FaultPlan:
    rules: tuple[FaultRule, ...] = ()
    crash_after_send: float = 0.0

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """``service:Operation=rate,...``; ``crash:after_send=rate``. A bad entry is a ValueError naming it."""
        rules: list[FaultRule] = []
        crash = 0.0
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            target, sep, value = entry.partition("=")
            service, colon, operation = target.strip().partition(":")
            if not sep or not colon or not service or not operation:
                raise ValueError(f"fault {entry!r}: expected service:Operation=rate")
            try:
                rate = float(value)
            except ValueError:
                raise ValueError(f"fault {entry!r}: rate {value!r} is not a number") from None
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault {entry!r}: rate must be between 0 and 1")
            if service == "crash":
                if operation != "after_send":
                    raise ValueError(f"fault {entry!r}: the crash point is after_send")
                crash = rate
                continue
            rules.append(FaultRule(ALIASES.get(service.lower(), service.lower()), operation.strip(), rate))
        return cls(tuple(rules), crash)

    def __bool__(self) -> bool:
        return bool(self.rules) or self.crash_after_send > 0

    def __str__(self) -> str:
        parts = [str(rule) for rule in self.rules]
        if self.crash_after_send:
            parts.append(f"crash:after_send={self.crash_after_send}")
        return ",".join(parts)


@dataclass
class FaultInjector:
    """Use ``with injecting(plan, seed) as injector``; counts what it injected."""

    plan: FaultPlan
    seed: int = 0
    only_when: Callable[[], bool] | None = None  # inject only while this holds (e.g. inside a handler)
    injected: Counter[str] = field(default_factory=Counter)  # "service:Operation" -> failed attempts
    crashes: int = 0
    backoff_skipped_s: float = 0.0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _after_send: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _draw(self, rate: float) -> float | None:
        """A uniform draw if ``rate`` could fire, else None (no draw: a zero rate changes no sequence)."""
        if rate <= 0:
            return None
        with self._lock:
            return self._rng.random()

    def decide(self, event_name: str, request: Any) -> Any:
        """A failure response for this attempt, or None to let moto answer. May raise InjectedCrash."""
        _, service, operation = event_name.split(".", 2)
        failure = self.attempt_fails(service, operation)
        return _failure(request.url, service, throttle=failure == "throttle") if failure else None

    def attempt_fails(self, service: str, operation: str) -> str | None:
        """Whether this attempt of ``service:operation`` fails (``"throttle"`` or ``"unavailable"``), or
        None. May raise InjectedCrash."""
        if self.only_when is not None and not self.only_when():
            return None
        armed = getattr(self._after_send, "armed", False)
        if armed and self.plan.crash_after_send and service == "dynamodb" and operation in WRITES:
            self._after_send.armed = False
            draw = self._draw(self.plan.crash_after_send)
            if draw is not None and draw < self.plan.crash_after_send:
                with self._lock:
                    self.crashes += 1
                raise InjectedCrash(f"injected crash before {operation}, after a message went out")
        for rule in self.plan.rules:
            if rule.matches(service, operation):
                draw = self._draw(rule.rate)
                if draw is not None and draw < rule.rate:
                    with self._lock:
                        self.injected[f"{service}:{operation}"] += 1
                    return "throttle" if draw < rule.rate / 2 else "unavailable"
                break
        return None

    def answered(self, event_name: str, request: Any, response: Any) -> None:
        """moto answered: if a customer message was accepted, arm the crash point of this thread."""
        if not self.plan.crash_after_send or response is None or response.status_code >= 300:
            return
        _, service, operation = event_name.split(".", 2)
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        self.delivered(service, operation, sms=b"PhoneNumber=" in body)

    def delivered(self, service: str, operation: str, sms: bool) -> None:
        """A provider accepted a call: a customer message arms the crash point of this thread."""
        if not self.plan.crash_after_send:
            return
        if (service, operation) == ("sesv2", "SendEmail") or ((service, operation) == ("sns", "Publish") and sms):
            self._after_send.armed = True

    def summary(self) -> dict[str, Any]:
        return {
            "plan": str(self.plan),
            "seed": self.seed,
            "injected": dict(sorted(self.injected.items())),
            "injected_total": sum(self.injected.values()),
            "crashes_after_send": self.crashes,
        }


def _failure(url: str, service: str, throttle: bool) -> Any:
    """An error response in the service's own wire format (what botocore parses and retries)."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    if service == "s3":
        status, code = 503, "SlowDown" if throttle else "ServiceUnavailable"
        body = f"<Error><Code>{code}</Code><Message>injected</Message><RequestId>fault</RequestId></Error>"
        headers = {"Content-Type": "application/xml"}
    elif service in QUERY_PROTOCOL:
        status, code = (400, "Throttling") if throttle else (503, "ServiceUnavailable")
        body = (
            f"<ErrorResponse><Error><Type>{'Sender' if throttle else 'Receiver'}</Type><Code>{code}</Code>"
            "<Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml"}
    else:
        status, code = (400, "ThrottlingException") if throttle else (503, "ServiceUnavailableException")
        body = f'{{"__type": "{code}", "message": "injected"}}'
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return AWSResponse(url, status, headers, MockRawResponse(body))


class _NoSleep:
    """Stands in for the ``time`` module where backoff sleeps are taken; counts what it skipped."""

    def __init__(self, injector: FaultInjector) -> None:
        self._injector = injector

    def sleep(self, seconds: float) -> None:
        self._injector.backoff_skipped_s += float(seconds)


@contextmanager
def injecting(plan: FaultPlan, seed: int = 0, only_when: Callable[[], bool] | None = None) -> Iterator[FaultInjector]:
    """While active, calls matching ``plan`` fail at its rates (reproducible from ``seed`` for a given
    order of calls), only while ``only_when()`` holds if given."""
    import botocore.endpoint
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    injector = FaultInjector(plan, seed, only_when)
    original = BotocoreStubber.__call__

    def call(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        failure = injector.decide(event_name, request)
        if failure is not None:
            return failure
        response = original(self, event_name, request, **kwargs)
        injector.answered(event_name, request, response)
        return response

    with ExitStack() as stack:
        stack.enter_context(patch.object(BotocoreStubber, "__call__", call))
        no_sleep = _NoSleep(injector)
        stack.enter_context(patch.object(botocore.endpoint, "time", no_sleep))
        stack.enter_context(patch.object(retrier_decl, "time", SimpleNamespace(sleep=no_sleep.sleep)))
        yield injector


SDK_ATTEMPTS = 3  # botocore's standard mode, as configured (dueflow.adapters.aws.SDK_CONFIG)


@contextmanager
def injecting_memory(
    plan: FaultPlan, wire: Any, seed: int = 0, only_when: Callable[[], bool] | None = None
) -> Iterator[FaultInjector]:
    """The same plan on the in-memory world: each call through ``wire`` (a ``dueflow_local.memory.Wire``)
    is attempted as the SDK would (three attempts), each attempt failing at the plan's rate; a call whose
    every attempt fails raises ``ServiceUnavailable`` (a message: ``ProviderRefused``), the error types the
    AWS adapters raise. ``crash:after_send`` works as on moto."""
    injector = FaultInjector(plan, seed, only_when)
    aliases = {"stepfunctions": "sfn"}

    def before(service: str, operation: str, params: Any) -> None:
        service = aliases.get(service, service)
        for _ in range(SDK_ATTEMPTS):
            if injector.attempt_fails(service, operation) is None:
                return
        raise ServiceUnavailable(service, operation, "injected")

    def after(service: str, operation: str, params: Any) -> None:
        injector.delivered(service, operation, sms=bool(params.get("PhoneNumber")))

    wire.before.insert(0, before)
    wire.after.append(after)
    try:
        yield injector
    finally:
        wire.before.remove(before)
        wire.after.remove(after)
