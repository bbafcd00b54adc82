"""The moto world: the AWS adapters on moto, moto's Step Functions interpreter running the definition.

It stands up what the CDK stack deploys (tables from the shared schema, the Object Lock audit bucket,
the PII key, the internal topic, the SES identity, the state machine built by the same
``build_definition``) and points the handlers at it through the same environment variables Lambda gets.
moto routes each Lambda task to the real handler in this process (``lambda_dispatch``). Slow (every
call crosses botocore and moto, three threads per open execution), but it proves the AWS adapters.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import datetime
from typing import Any

import boto3
from moto import mock_aws

from dueflow.adapters.aws import SDK_CONFIG, Resources, aws_services
from dueflow.adapters.schema import LOANS, TABLES, create_table_request
from dueflow.domain.case import continuation_name, execution_name
from dueflow.services.context import reset_default_services
from dueflow.settings import ENV_VAR
from dueflow.workflow.definition import Functions, build_definition
from dueflow_local.lambda_dispatch import dispatching
from dueflow_local.moto_speed import (
    fast_attribute_values,
    faster_bookkeeping,
    parse_once,
    serialized_requests,
    unsigned_requests,
)
from dueflow_local.runtime import FUNCTIONS, Runtime

ACCOUNT = "123456789012"


class MotoRuntime(Runtime):
    backend = "moto"

    def _open(self) -> None:
        self._ended_seen: set[str] = set()
        region = self.settings.region
        self._set_env(
            self._common_env()
            | {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            }
        )
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
        self._use_clock()
        self.resources = self._provision(region)
        self._set_env({ENV_VAR: self.settings.to_env(), **self.resources.to_env()})
        reset_default_services()
        self._stack.append(reset_default_services)
        self.services = aws_services(self.settings, self.resources, self.client)
        self._register_handlers()
        stream_arn = self.client("dynamodb").describe_table(TableName=f"{self.settings.prefix}-{LOANS.suffix}")[
            "Table"
        ]["LatestStreamArn"]
        self._stream_arn = stream_arn
        self._iterators = self._stream_iterators(stream_arn)

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=self.settings.region, config=SDK_CONFIG)

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
        signing_key = self.client("kms").create_key(
            Description="audit digests", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
        )["KeyMetadata"]["Arn"]
        self._same_signing_key_in_every_worker(signing_key)
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
            signing_key_arn=signing_key,
        )

    def _same_signing_key_in_every_worker(self, key_arn: str) -> None:
        """moto makes a fresh ECC key per process; a run's workers are processes, and one deployment has
        one signing key: give moto's key the private half the in-memory world derives from the same
        environment (a local-runtime adjustment of moto's state, like those in moto_speed)."""
        from moto.kms.models import kms_backends

        from dueflow_local.memory import LocalSigner

        key = kms_backends[ACCOUNT][self.settings.region].keys[key_arn.rsplit("/", 1)[-1]]
        key.private_key.private_key = LocalSigner(seed=f"dueflow-{self.settings.environment}")._key  # type: ignore[attr-defined]

    def staff_notices(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][self.settings.region].topics[self.resources.internal_topic_arn]
        return [{"subject": subject, **json.loads(body)} for _, body, subject, _, _ in topic.sent_notifications]

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
                if not self._deliver_ended():
                    return
                continue  # a restarted case moves again
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
                names.append(execution.input_data["case_id"])
        return names

    def execution_statuses(self) -> dict[str, str]:
        """Every execution's status by name (the case id), from moto's state (no API call)."""
        latest = sorted((e for e in self._executions() if e.exec_status is not None), key=lambda e: e.start_date)
        return {e.input_data["case_id"]: e.exec_status.value for e in latest}  # a continued case: its latest

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

    def _take_ended(self) -> list[dict[str, Any]]:
        """From moto's state, as DescribeExecution would answer (no API call: EventBridge's, not ours)."""
        ended = []
        for execution in self._executions():
            status = execution.exec_status.value if execution.exec_status is not None else None
            if status in ("FAILED", "TIMED_OUT", "ABORTED") and execution.exec_arn not in self._ended_seen:
                self._ended_seen.add(execution.exec_arn)
                described = dict(execution.to_describe_output())
                ended.append(described | {"status": status})
        return ended

    def _all_parked(self) -> bool:
        return not self.moving()

    # -- reading results ------------------------------------------------------------------------------
    def _arn(self, name: str) -> str:
        return self.resources.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def _names(self, case_id: str) -> list[str]:
        """The names of the case's executions, first to latest."""
        known = {e.exec_arn.rsplit(":", 1)[-1] for e in self._executions()}
        names = [execution_name(case_id)]
        while (name := continuation_name(case_id, len(names))) in known:
            names.append(name)
        return names

    def execution(self, case_id: str) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        return dict(sfn.describe_execution(executionArn=self._arn(self._names(case_id)[-1])))

    def history(self, case_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for name in self._names(case_id):
            try:
                for page in sfn.get_paginator("get_execution_history").paginate(executionArn=self._arn(name)):
                    events.extend(page["events"])
            except sfn.exceptions.ExecutionDoesNotExist:
                break
        return events

    def loans_table_footprint(self) -> tuple[int, int]:
        pages, size = 0, 0
        for page in self.client("dynamodb").get_paginator("scan").paginate(TableName=f"{self.settings.prefix}-loans"):
            pages += 1
            size += sum(len(json.dumps(item, separators=(",", ":"))) for item in page["Items"])
        return pages, max(-(-size // 8192), pages)


LocalRuntime = MotoRuntime  # the name the first round's tests and tools know it by
