"""The embedded local runtime: the real handlers inside the real state machine, on moto, in-process.

It stands up what the CDK stack deploys (tables from the shared schema, the Object Lock audit bucket,
the PII key, the internal topic, the SES identity, the state machine built by the same
``build_definition``), points the handlers at it through the same environment variables Lambda gets,
and drives time the way AWS would: a clock that moves only when told, the daily scan and the outbox
dispatcher invoked at their scheduled times, and the loans-table stream delivered to its handler after
each write.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from moto import mock_aws

from dueflow import clock
from dueflow.adapters.aws import SDK_CONFIG, Resources, aws_services
from dueflow.adapters.schema import LOANS, TABLES, create_table_request
from dueflow.domain.loan import Loan
from dueflow.services.context import reset_default_services
from dueflow.settings import ENV_VAR, Settings
from dueflow.workflow.definition import Functions, build_definition
from dueflow_local.api_events import api_gateway_event
from dueflow_local.lambda_dispatch import Dispatcher, dispatching
from dueflow_local.moto_speed import (
    fast_attribute_values,
    faster_bookkeeping,
    parse_once,
    serialized_requests,
    unsigned_requests,
)

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
FUNCTIONS = ("scan", "case_stage", "case_wait", "outbox_dispatcher", "payment_stream", "api")


def load_handler(name: str) -> ModuleType:
    """Import ``functions/<name>/handler.py`` (the very file Lambda runs)."""
    path = ROOT / "functions" / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"dueflow_function_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# how often each trigger tries again after a failed invocation, as deployed: Lambda's asynchronous
# invocation retries a function error twice (the schedules' targets), and the loans-table event source
# mapping retries a failed batch five times (infra/stack.py)
SCHEDULED_ATTEMPTS = 3
STREAM_ATTEMPTS = 6
API_STATUS_ON_ERROR = 502  # what API Gateway answers when the integration fails


class LocalRuntime:
    """Use as a context manager. ``now`` is the simulated time (aware UTC).

    By default a handler that raises stops the run (a test wants to see it). With
    ``tolerate_failures`` (a run with injected faults) failures are handled as AWS handles them: the
    scheduled scan and dispatcher are invoked again, a failed stream batch is delivered again, a Step
    Functions task is retried by its ``Retry``, and a failed API call is answered 502."""

    def __init__(
        self, settings: Settings | None = None, start: datetime | None = None, tolerate_failures: bool = False
    ) -> None:
        self.settings = settings or Settings(environment="local", index_shards=4)
        self.now = start or datetime(2026, 7, 1, tzinfo=UTC)
        self.dispatcher = Dispatcher(tolerate=tolerate_failures)
        self._saved_env: dict[str, str | None] = {}
        self._stack: list[Any] = []

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        region = self.settings.region
        env = {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "DueFlow",
            "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would only clutter a local run
        }
        self._set_env(env)
        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})
        mock.start()
        self._stack.append(mock.stop)
        adjustments = (
            fast_attribute_values(),
            serialized_requests(),
            faster_bookkeeping(),
            parse_once(),
            unsigned_requests(),
        )
        for adjustment in adjustments:
            adjustment.__enter__()
            self._stack.append(lambda a=adjustment: a.__exit__(None, None, None))
        patch = dispatching(self.dispatcher)
        patch.__enter__()
        self._stack.append(lambda: patch.__exit__(None, None, None))
        clock.set_clock(lambda: self.now)
        self._stack.append(clock.reset_clock)
        self.resources = self._provision(region)
        self._set_env({ENV_VAR: self.settings.to_env(), **self.resources.to_env()})
        reset_default_services()
        self._stack.append(reset_default_services)
        self.services = aws_services(self.settings, self.resources, self.client)
        for name in FUNCTIONS:
            self.dispatcher.register(name, load_handler(name).handler)
        stream_arn = self.client("dynamodb").describe_table(TableName=f"{self.settings.prefix}-{LOANS.suffix}")[
            "Table"
        ]["LatestStreamArn"]
        self._stream_arn = stream_arn
        self._iterators = self._stream_iterators(stream_arn)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._stack:
            self._stack.pop()()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=self.settings.region, config=SDK_CONFIG)

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _provision(self, region: str) -> Resources:
        prefix = self.settings.prefix
        ddb, s3 = self.client("dynamodb"), self.client("s3")
        for spec in TABLES:
            ddb.create_table(**create_table_request(spec, prefix))
        bucket = f"{prefix}-audit"
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}, ObjectLockEnabledForBucket=True
        )
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365 * self.settings.audit_retention_years}},
            },
        )
        pii_key = self.client("kms").create_key(Description="pii")["KeyMetadata"]["Arn"]
        topic = self.client("sns").create_topic(Name=f"{prefix}-internal")["TopicArn"]
        self.client("sesv2").create_email_identity(EmailIdentity=self.settings.sender_email)
        role = self.client("iam").create_role(RoleName=f"{prefix}-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
        arns = {}
        for name in FUNCTIONS:
            arns[name] = self.client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]
        definition = build_definition(Functions(stage=arns["case_stage"], wait=arns["case_wait"]), self.settings)
        self.definition = definition
        self.function_arns = arns
        machine = self.client("stepfunctions").create_state_machine(
            name=f"{prefix}-cases", definition=json.dumps(definition), roleArn=role
        )["stateMachineArn"]
        return Resources(
            audit_bucket=bucket,
            pii_key_arn=pii_key,
            state_machine_arn=machine,
            internal_topic_arn=topic,
            email_configuration_set=f"{prefix}-email",
        )

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
            method, path, body, user=user, groups=groups, system=system, request_id=f"api-{len(self.dispatcher.calls)}"
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

    # -- the stream -----------------------------------------------------------------------------------
    def _stream_iterators(self, stream_arn: str) -> dict[str, str]:
        streams = self.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        return {
            s["ShardId"]: streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=s["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for s in shards
        }

    def _drain_stream(self, deliver: bool) -> int:
        streams = self.client("dynamodbstreams")
        delivered = 0
        for shard, iterator in list(self._iterators.items()):
            response = streams.get_records(ShardIterator=iterator)
            self._iterators[shard] = response["NextShardIterator"]
            records = response.get("Records", [])
            if deliver and records:
                for record in records:
                    record["eventSourceARN"] = self._stream_arn
                    created = record["dynamodb"].get("ApproximateCreationDateTime")
                    if isinstance(created, datetime):
                        record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
                self._deliver(records)
                delivered += len(records)
        return delivered

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        """One batch to ``payment_stream``; the records it reports failed are delivered again."""
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
            # the event source mapping resumes from the first failed record
            first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
            records = records[first:]
        raise RuntimeError(f"stream records failed {STREAM_ATTEMPTS} times (they would go to the DLQ)")

    # -- settling -------------------------------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every running execution is parked in a callback state (or finished).

        Read from moto's in-process execution state rather than through the API: an execution is parked
        when its newest callback token has no answer yet and the ``case_wait`` invocation that received
        that token has returned (so the token is stored on the case). Anything else (just started, a
        token answered, a task running, between states) is still moving."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dispatcher.errors:
                name, error = self.dispatcher.errors[0]
                raise RuntimeError(f"handler {name} failed: {error!r}") from error
            if self.dispatcher.inflight == 0 and self._all_parked():
                return
            time.sleep(0.002)
        raise TimeoutError(f"the workflow did not settle: {', '.join(self.moving())}")

    def _executions(self) -> list[Any]:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT][self.settings.region]
        return [execution for machine in list(backend.state_machines) for execution in list(machine.executions)]

    def moving(self) -> list[str]:
        """Names of the executions that are running and not parked at a callback."""
        parked = self.dispatcher.parked_tokens
        names = []
        for execution in self._executions():
            if execution.exec_status is None or execution.exec_status.value != "RUNNING":
                continue
            env = getattr(execution.exec_worker, "env", None)
            try:
                pool = env.callback_pool_manager._pool if env is not None else {}
                newest = next(reversed(pool.values()), None) if pool else None
            except RuntimeError:  # the pool changed while we looked: it is moving
                newest = None
            if newest is None or newest.get_outcome() is not None or newest.callback_id not in parked:
                names.append(execution.name)
        return names

    def execution_statuses(self) -> dict[str, str]:
        """Every execution's status by name (the case id), from moto's state (no API call)."""
        return {e.name: e.exec_status.value for e in self._executions() if e.exec_status is not None}

    def running_executions(self) -> int:
        """How many executions (open cases) are running, from moto's state (no API call)."""
        return sum(1 for e in self._executions() if e.exec_status is not None and e.exec_status.value == "RUNNING")

    def state_transitions(self) -> int:
        """State transitions of every execution so far (what Step Functions Standard bills): the
        ``...StateEntered`` events of their histories."""
        sfn = self.client("stepfunctions")
        total = 0
        for execution in self._executions():
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution.exec_arn):
                total += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
        return total

    def _all_parked(self) -> bool:
        return not self.moving()

    # -- reading results ------------------------------------------------------------------------------
    def execution(self, case_id: str) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        arn = self.resources.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        return dict(sfn.describe_execution(executionArn=arn))

    def stages_entered(self, case_id: str) -> list[str]:
        sfn = self.client("stepfunctions")
        arn = self.resources.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        events = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
