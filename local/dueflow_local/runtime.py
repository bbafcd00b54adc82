"""The embedded local runtime: the real handlers inside the real state machine, in-process.

Two worlds run the same handlers and the same definition (``build_definition``):

- ``MemoryRuntime`` (``dueflow_local.memory_runtime``, the default): the in-memory adapters of every
  port and the thread-free executor (``dueflow_local.executor``) on the simulated clock.
- ``MotoRuntime`` (``dueflow_local.moto_runtime``): the AWS adapters on moto, moto's own Step Functions
  interpreter; it proves the AWS adapters and is the simulator's fidelity mode.

Both drive time the way AWS would: a clock that moves only when told, the daily scan and the outbox
dispatcher invoked at their scheduled times, the loans-table stream delivered to its handler after each
write, and the REST API called as API Gateway calls it. ``open_runtime`` picks one by name.
"""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from dueflow import clock
from dueflow.domain.loan import Loan
from dueflow.observability import service_name
from dueflow.services.context import Services
from dueflow.settings import Settings
from dueflow_local.api_events import api_gateway_event
from dueflow_local.lambda_dispatch import Dispatcher

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("scan", "case_stage", "case_wait", "outbox_dispatcher", "payment_stream", "api", "execution_ended")
Backend = Literal["memory", "moto"]
BACKENDS: tuple[Backend, ...] = ("memory", "moto")

_handlers: dict[str, ModuleType] = {}


def load_handler(name: str) -> ModuleType:
    """Import ``functions/<name>/handler.py`` (the very file Lambda runs); once per process, as a Lambda
    container keeps its module between invocations."""
    if name not in _handlers:
        path = ROOT / "functions" / name / "handler.py"
        spec = importlib.util.spec_from_file_location(f"dueflow_function_{name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _handlers[name] = module
    return _handlers[name]


# how often each trigger tries again after a failed invocation, as deployed: Lambda's asynchronous
# invocation retries a function error twice (the schedules' targets), and the loans-table event source
# mapping retries a failed batch five times (infra/stack.py)
SCHEDULED_ATTEMPTS = 3
STREAM_ATTEMPTS = 6
API_STATUS_ON_ERROR = 502  # what API Gateway answers when the integration fails


class Runtime:
    """What both local worlds share. Use as a context manager; ``now`` is the simulated time (aware UTC).

    By default a handler that raises stops the run (a test wants to see it). With
    ``tolerate_failures`` (a run with injected faults) failures are handled as AWS handles them: the
    scheduled scan and dispatcher are invoked again, a failed stream batch is delivered again, a Step
    Functions task is retried by its ``Retry``, and a failed API call is answered 502."""

    backend: str = "abstract"
    services: Services
    definition: dict[str, Any]
    function_arns: dict[str, str]

    def __init__(
        self,
        settings: Settings | None = None,
        start: datetime | None = None,
        tolerate_failures: bool = False,
        keep_events: bool = True,
        emit_metrics: bool = False,
    ) -> None:
        self.settings = settings or Settings(environment="local", index_shards=4)
        # print each handler's metrics as the deployed function would (EMF on stdout, with the function's
        # service): the test of the dashboard and alarms reads them. The in-memory world only: the service
        # is set in the environment around each invocation, which moto's threads would share.
        self.emit_metrics = emit_metrics
        self.now = start or datetime(2026, 7, 1, tzinfo=UTC)
        self.dispatcher = Dispatcher(tolerate=tolerate_failures, keep_events=keep_events)
        self._saved_env: dict[str, str | None] = {}
        self._stack: list[Any] = []
        self._delivering_ended = False
        self.dead_letters: list[str] = []  # stream records given up on (the failure queue's messages)

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        try:
            self._open()
        except BaseException:
            self.__exit__(None, None, None)  # a failure while provisioning leaves nothing patched behind
            raise
        return self

    def _open(self) -> None:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        while self._stack:
            self._stack.pop()()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _common_env(self) -> dict[str, str]:
        return {
            "AWS_DEFAULT_REGION": self.settings.region,
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "dueflow-local",
            "POWERTOOLS_METRICS_NAMESPACE": "DueFlow",
            # EMF lines would only clutter a local run, unless asked for
            "POWERTOOLS_METRICS_DISABLED": "false" if self.emit_metrics else "true",
        }

    def _use_clock(self) -> None:
        """Handlers read the simulated clock; pacing sleeps are skipped (time here is simulated)."""
        clock.set_clock(lambda: self.now)
        self._stack.append(clock.reset_clock)
        clock.set_sleep(lambda seconds: None)
        self._stack.append(lambda: clock.set_sleep(None))

    def _register_handlers(self) -> None:
        for name in FUNCTIONS:
            handler = load_handler(name).handler
            # each function's service as deployed (its log lines and metrics); the in-memory world only:
            # it is set in the environment around each invocation, which moto's threads would share
            self.dispatcher.register(name, _as_service(self, name, handler) if self.backend == "memory" else handler)

    # -- what each world provides ----------------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        """Let the workflow run until every execution is parked at a callback (or finished)."""
        raise NotImplementedError

    def _drain_stream(self, deliver: bool) -> int:
        raise NotImplementedError

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        """One batch to ``payment_stream``, as the event source mapping delivers it: the records it reports
        failed are delivered again, from the first failed one."""
        for _ in range(STREAM_ATTEMPTS):
            try:
                result = self.dispatcher.invoke("payment_stream", {"Records": records})
            except Exception:
                if not self.dispatcher.tolerate:
                    raise
                continue
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            if not failed:
                return
            if not self.dispatcher.tolerate:
                raise RuntimeError(f"stream records failed: {sorted(failed)}")
            first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
            records = records[first:]
        if not self.dispatcher.tolerate:
            raise RuntimeError(f"stream records failed {STREAM_ATTEMPTS} times (they would go to the DLQ)")
        # as the event source mapping does: the batch goes to the failure queue, the stream reads on (the
        # payments are on the loans table; their cases hear of them at the next wake-up or re-evaluation)
        self.dead_letters.extend(r["dynamodb"]["SequenceNumber"] for r in records)

    def _take_ended(self) -> list[dict[str, Any]]:
        """Executions that ended FAILED, TIMED_OUT or ABORTED since last asked, as DescribeExecution
        answers (each once)."""
        raise NotImplementedError

    def _deliver_ended(self) -> bool:
        """EventBridge's part: each execution that ended without succeeding goes to ``execution_ended``
        as a "Step Functions Execution Status Change" event (retried as an asynchronous invocation is).
        True when something was delivered (the workflow has moved: settle again)."""
        if self._delivering_ended:
            return False  # a failed delivery settles before it tries again: not from inside it
        ended = self._take_ended()
        if not ended:
            return False
        self._delivering_ended = True
        try:
            for described in ended:
                self._scheduled("execution_ended", status_change_event(described, self.now, self.settings.region))
        finally:
            self._delivering_ended = False
        return True

    def moving(self) -> list[str]:
        """Names of the executions that are running and not parked at a callback."""
        raise NotImplementedError

    def execution_statuses(self) -> dict[str, str]:
        """Every execution's status by name (the case id)."""
        raise NotImplementedError

    def running_executions(self) -> int:
        """How many executions (open cases) are running."""
        return sum(1 for status in self.execution_statuses().values() if status == "RUNNING")

    def state_transitions(self) -> int:
        """State transitions of every execution so far (what Step Functions Standard bills)."""
        raise NotImplementedError

    def execution(self, case_id: str) -> dict[str, Any]:
        """The case's execution as DescribeExecution answers."""
        raise NotImplementedError

    def history(self, case_id: str) -> list[dict[str, Any]]:
        """The case's execution history as GetExecutionHistory answers (``id``, ``timestamp``, ``type``,
        and the details of the event: ``stateEnteredEventDetails`` and so on)."""
        raise NotImplementedError

    def stages_entered(self, case_id: str) -> list[str]:
        """The state names the case's execution entered, in order (its history)."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(case_id) if "stateEnteredEventDetails" in e]

    def staff_notices(self) -> list[dict[str, Any]]:
        """Every notice published to the internal topic so far (``subject`` and the JSON body's keys),
        as the topic received them."""
        raise NotImplementedError

    def loans_table_footprint(self) -> tuple[int, int]:
        """(pages, read units) of one full-table Scan of the loans table as it is now (eventually
        consistent: half a unit per 4 KB of items read; a page is at most 1 MB)."""
        raise NotImplementedError

    # -- time and triggers ----------------------------------------------------------------------------
    def local(self, day: date, hhmm: str) -> datetime:
        """A bank-local wall-clock time as aware UTC."""
        hour, minute = (int(part) for part in hhmm.split(":"))
        return datetime(
            day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(self.settings.time_zone)
        ).astimezone(UTC)

    def at(self, when: datetime) -> None:
        if when < self.now:
            raise ValueError(f"time cannot go back: {when} < {self.now}")
        self.now = when

    def load_book(self, loans: list[Loan], as_of: date) -> int:
        count = self.services.loans.put(loans, as_of)
        self._drain_stream(deliver=False)  # loading the book is not a payment
        return count

    def scan(self, day: date) -> dict[str, Any]:
        """The daily scan at its scheduled local time on ``day``, then let the workflow settle."""
        self.at(self.local(day, self.settings.scan_time.strftime("%H:%M")))
        result = self._scheduled("scan", {"time": self.now.isoformat().replace("+00:00", "Z")})
        self.settle()
        return result

    def dispatch(self) -> dict[str, Any]:
        result = self._scheduled("outbox_dispatcher", {"time": self.now.isoformat()})
        self.settle()
        return result

    def _scheduled(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """A scheduled invocation, tried again after a failure as Lambda's asynchronous invocation does."""
        for attempt in range(1, SCHEDULED_ATTEMPTS + 1):
            try:
                return dict(self.dispatcher.invoke(function, event))
            except Exception:
                if not self.dispatcher.tolerate:
                    raise
                self.settle()  # what the failed attempt started runs on
                if attempt == SCHEDULED_ATTEMPTS:
                    return {"failed": True}
        raise AssertionError("unreachable")

    def dispatch_through(self, until: datetime) -> list[dict[str, Any]]:
        """Run the dispatcher at each of its ticks from now until ``until``."""
        reports = []
        step = timedelta(minutes=self.settings.dispatcher_every_minutes)
        tick = self.now + step - timedelta(seconds=self.now.timestamp() % step.total_seconds())
        while tick <= until:
            earliest = self.services.outbox.earliest_pending()
            if earliest is None or earliest > until:
                break  # nothing will be due before ``until``: the ticks in between would find nothing
            if earliest > tick:  # skip the ticks that would find nothing due
                tick += step * int((earliest - tick) / step)
                if earliest > tick:
                    tick += step
                continue
            self.at(tick)
            reports.append(self.dispatch())
            tick += step
        self.at(max(until, self.now))
        return reports

    def run_day(self, day: date, events: list[tuple[str, Any]] | None = None) -> None:
        """A whole simulated day: the scan at its time, the dispatcher every tick, and ``events``
        (``(HH:MM, callable)``) at their local times."""
        self.scan(day)
        pending = sorted(events or [], key=lambda pair: pair[0])
        for hhmm, action in pending:
            self.dispatch_through(self.local(day, hhmm))
            action()
            self.settle()
        self.dispatch_through(self.local(day, "23:59"))

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Invoke one handler as Lambda would, then deliver stream records and let the workflow settle."""
        result = self.dispatcher.invoke(function, event)
        self._drain_stream(deliver=True)
        self.settle()
        return result

    def post_payment(self, loan_id: str, paid_on: date, amount: str) -> None:
        """A payment from the bank's feed: written to the loans table, then the stream delivers it."""
        self.services.loans.add_payment(loan_id, paid_on, amount, clock.today(self.settings.time_zone))
        self._drain_stream(deliver=True)
        self.settle()

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | str | None = None,
        *,
        user: str | None = None,
        groups: tuple[str, ...] = (),
        system: bool = False,
    ) -> tuple[int, Any]:
        """Call the REST API as API Gateway would: a staff ``user`` in Cognito ``groups``, or a bank
        ``system`` signing with IAM. Returns (status, parsed body); payments reach the stream."""
        event = api_gateway_event(
            method,
            path,
            body,
            user=user,
            groups=groups,
            system=system,
            request_id=f"api-{self.dispatcher.invocations.total()}",
        )
        try:
            response = self.dispatcher.invoke("api", event)
        except Exception:
            if not self.dispatcher.tolerate:
                raise
            response = {"statusCode": API_STATUS_ON_ERROR, "body": json.dumps({"message": "Internal server error"})}
        if method == "POST" and path.endswith("/payments"):
            self._drain_stream(deliver=True)
        self.settle()
        payload = json.loads(response["body"]) if response.get("body") else None
        return int(response["statusCode"]), payload


def status_change_event(described: dict[str, Any], now: datetime, region: str) -> dict[str, Any]:
    """The EventBridge event Step Functions emits when an execution's status changes (its ``detail`` is
    DescribeExecution's answer, times in epoch milliseconds)."""

    def millis(value: Any) -> int | None:
        return int(value.timestamp() * 1000) if isinstance(value, datetime) else None

    arn = str(described["executionArn"])
    return {
        "version": "0",
        "id": f"status-{described['name']}",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": arn.split(":")[4],
        "time": now.isoformat().replace("+00:00", "Z"),
        "region": region,
        "resources": [arn],
        "detail": {
            "executionArn": arn,
            "stateMachineArn": described["stateMachineArn"],
            "name": described["name"],
            "status": described["status"],
            "startDate": millis(described.get("startDate")),
            "stopDate": millis(described.get("stopDate")),
            "input": described.get("input"),
            "output": described.get("output"),
            "error": described.get("error"),
            "cause": described.get("cause"),
        },
    }


def _as_service(rt: Runtime, name: str, handler: Any) -> Any:
    """``handler`` run with the deployed function's Powertools service (its metrics' ``service``)."""
    service = service_name(rt.settings.prefix, name)

    def run(event: dict[str, Any], context: Any) -> Any:
        saved = os.environ.get("POWERTOOLS_SERVICE_NAME")
        os.environ["POWERTOOLS_SERVICE_NAME"] = service
        try:
            return handler(event, context)
        finally:
            if saved is None:
                os.environ.pop("POWERTOOLS_SERVICE_NAME", None)
            else:
                os.environ["POWERTOOLS_SERVICE_NAME"] = saved

    return run


def open_runtime(
    backend: Backend = "memory",
    settings: Settings | None = None,
    start: datetime | None = None,
    tolerate_failures: bool = False,
    keep_events: bool = True,
    emit_metrics: bool = False,
) -> Runtime:
    """A runtime of the named world (not yet entered). Without ``keep_events`` the dispatcher counts
    invocations instead of keeping every event (a long simulation); with ``emit_metrics`` (in-memory
    world only) handlers print their metrics as EMF, as on Lambda."""
    if backend == "memory":
        from dueflow_local.memory_runtime import MemoryRuntime

        return MemoryRuntime(settings, start, tolerate_failures, keep_events, emit_metrics)
    if emit_metrics:
        raise ValueError("emit_metrics needs the in-memory world (moto runs handlers on shared threads)")
    if backend == "moto":
        from dueflow_local.moto_runtime import MotoRuntime

        return MotoRuntime(settings, start, tolerate_failures, keep_events)
    raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
