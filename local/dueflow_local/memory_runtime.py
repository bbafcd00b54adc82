"""The in-memory world: every port on its in-memory adapter (``dueflow_local.memory``), the case state
machine on the thread-free executor (``dueflow_local.executor``), all on the simulated clock.

No AWS SDK call is made. The handlers are the very files Lambda runs; they get this world's
``Services`` through ``dueflow.services.context.set_default_services``. Tasks invoke the handlers
through the same ``Dispatcher`` the moto world uses; the loans-table stream is the loan store's list of
changes, delivered to ``payment_stream`` as DynamoDB stream records; timers of the executor (retry
intervals, callback timeouts) fire when the clock passes them.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from dueflow.adapters.pii import PiiCipher
from dueflow.domain.case import continuation_name, execution_name
from dueflow.services.context import Services, reset_default_services, set_default_services
from dueflow.workflow.definition import Functions, build_definition
from dueflow_local.executor import Executor
from dueflow_local.memory import (
    LocalKeys,
    LocalSigner,
    MemoryAuditStore,
    MemoryCaseStore,
    MemoryLoanStore,
    MemoryNotifier,
    MemoryOutbox,
    Wire,
)
from dueflow_local.runtime import FUNCTIONS, Runtime

ARN = "arn:aws:lambda:local:000000000000:function:{}"


def memory_services(settings: Any, wire: Wire, executor: Any = None) -> Services:
    """The ``Services`` of the in-memory world (``executor`` is the case workflow; without one, a
    workflow that refuses to start anything)."""
    pii = PiiCipher(LocalKeys(wire))
    shards = settings.index_shards
    return Services(
        settings=settings,
        loans=MemoryLoanStore(wire, shards, pii, settings.pack_selection()),
        cases=MemoryCaseStore(wire, shards),
        outbox=MemoryOutbox(wire, shards),
        audit_store=MemoryAuditStore(wire),
        workflow=executor if executor is not None else _NoWorkflow(),
        notifier=MemoryNotifier(wire, settings.sender_email),
        pii=pii,
        signer=LocalSigner(wire, seed=f"dueflow-{settings.environment}"),
    )


class WiredWorkflow:
    """The executor as the ``CaseWorkflow`` port of the handlers: each call goes through the wire (counted
    as the Step Functions call it stands for; an injected fault fails it as the SDK's last attempt would)."""

    def __init__(self, executor: Executor, wire: Wire) -> None:
        self._executor = executor
        self._wire = wire

    def start(self, name: str, payload: Any) -> str:
        self._wire.call("stepfunctions", "StartExecution")
        return self._executor.start(name, payload)

    def resume(self, token: str, output: Any) -> None:
        self._wire.call("stepfunctions", "SendTaskSuccess")
        self._executor.resume(token, output)

    def fail(self, token: str, error: str, cause: str) -> None:
        self._wire.call("stepfunctions", "SendTaskFailure")
        self._executor.fail(token, error, cause)

    def status(self, execution: str) -> str:
        self._wire.call("stepfunctions", "DescribeExecution")
        return self._executor.status(execution)


class _NoWorkflow:
    def start(self, name: str, payload: Any) -> str:
        raise RuntimeError("no case workflow in this world")

    def resume(self, token: str, output: Any) -> None:
        raise RuntimeError("no case workflow in this world")

    def fail(self, token: str, error: str, cause: str) -> None:
        raise RuntimeError("no case workflow in this world")

    def status(self, execution: str) -> str:
        raise RuntimeError("no case workflow in this world")


class MemoryRuntime(Runtime):
    backend = "memory"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire = Wire()

    def _open(self) -> None:
        self._set_env(self._common_env())
        self._use_clock()
        self.function_arns = {name: ARN.format(name) for name in FUNCTIONS}
        self.definition = build_definition(
            Functions(stage=self.function_arns["case_stage"], wait=self.function_arns["case_wait"]), self.settings
        )
        self.executor = Executor(
            self.definition,
            self._invoke_task,
            lambda: self.now,
            arn=f"arn:aws:states:local:000000000000:stateMachine:{self.settings.prefix}-cases",
        )
        self.services = memory_services(self.settings, self.wire, WiredWorkflow(self.executor, self.wire))
        self.services.notifier.keep = self.dispatcher.keep_events  # type: ignore[attr-defined]
        set_default_services(self.services)
        self._stack.append(reset_default_services)
        self._register_handlers()
        self._delivered = 0

    def _invoke_task(self, function: str, payload: dict[str, Any]) -> Any:
        # as Lambda hands a task its payload and Step Functions its result: through JSON
        result = self.dispatcher.invoke(function, json.loads(json.dumps(payload)))
        return json.loads(json.dumps(result, default=str))

    # -- time ----------------------------------------------------------------------------------------
    def at(self, when: datetime) -> None:
        """Move the clock to ``when``, firing each executor timer (retry interval, callback timeout) at
        its own time on the way."""
        if when < self.now:
            raise ValueError(f"time cannot go back: {when} < {self.now}")
        while (due := self.executor.next_timer()) is not None and due <= when:
            self.now = max(self.now, due)
            self.executor.fire_next()
            self._check_errors()
            if self.executor.ended:
                self.settle()  # an execution ended at this timer: EventBridge hears of it now
        self.now = when

    # -- the stream ----------------------------------------------------------------------------------
    def _drain_stream(self, deliver: bool) -> int:
        changes = self.services.loans.changes  # type: ignore[attr-defined]
        first = self._delivered
        fresh = list(changes)
        changes.clear()  # a stream's records are gone once read (and old loan versions with them)
        self._delivered += len(fresh)
        if not deliver or not fresh:
            return 0
        records = [self._record(stored, number) for number, stored in enumerate(fresh, start=first + 1)]
        self._deliver(records)
        return len(records)

    def _record(self, stored: Any, number: int) -> dict[str, Any]:
        """A DynamoDB stream record of the loan after a change (``NEW_IMAGE``), as Lambda delivers it."""
        loan = stored.loan
        image: dict[str, Any] = {
            "loan_id": {"S": loan.loan_id},
            "customer_id": {"S": loan.customer_id},
            "record": {
                "S": json.dumps(
                    loan.model_dump(mode="json", exclude={"customer"}, exclude_none=True), separators=(",", ":")
                )
            },
        }
        if loan.customer is not None:
            prefs = {"timezone": loan.customer.timezone, "language": loan.customer.language}
            image["contact_prefs"] = {"M": {k: {"S": v} for k, v in prefs.items()}}
        if stored.sealed:
            image["customer_sealed"] = {"M": {k: {"S": v} for k, v in stored.sealed.items()}}
        return {
            "eventID": f"{number:020d}",
            "eventName": "MODIFY",
            "eventSource": "aws:dynamodb",
            "eventSourceARN": f"arn:aws:dynamodb:local:000000000000:table/{self.settings.prefix}-loans/stream/local",
            "dynamodb": {
                "Keys": {"loan_id": {"S": loan.loan_id}},
                "NewImage": image,
                "SequenceNumber": f"{number:021d}",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "ApproximateCreationDateTime": self.now.timestamp(),
            },
        }

    # -- the workflow --------------------------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        """Run every execution that can move; in this world that is a plain call (no threads)."""
        deadline = time.monotonic() + timeout
        self.executor.run()
        self._check_errors()
        while self._deliver_ended():
            self.executor.run()
            self._check_errors()
        if time.monotonic() > deadline:
            raise TimeoutError("the workflow took longer than the timeout to settle")

    def _check_errors(self) -> None:
        if self.dispatcher.errors:
            name, error = self.dispatcher.errors[0]
            raise RuntimeError(f"handler {name} failed: {error!r}") from error

    def _take_ended(self) -> list[dict[str, Any]]:
        names, self.executor.ended[:] = list(self.executor.ended), []
        return [self.executor.describe(name) for name in names]

    def moving(self) -> list[str]:
        return [self.executor.executions[name].input["case_id"] for name in self.executor.moving()]

    def execution_statuses(self) -> dict[str, str]:
        """Each case's latest execution's status (a continued case has had several executions)."""
        return {e.input["case_id"]: e.status for e in self.executor.executions.values()}  # in start order

    def state_transitions(self) -> int:
        return self.executor.transitions

    def _names(self, case_id: str) -> list[str]:
        """The names of the case's executions, first to latest."""
        names = [execution_name(case_id)]
        while (name := continuation_name(case_id, len(names))) in self.executor.executions:
            names.append(name)
        return names

    def execution(self, case_id: str) -> dict[str, Any]:
        return self.executor.describe(self._names(case_id)[-1])

    def history(self, case_id: str) -> list[dict[str, Any]]:
        return [event for name in self._names(case_id) for event in self.executor.history(name)]

    def staff_notices(self) -> list[dict[str, Any]]:
        sent = self.services.notifier.sent  # type: ignore[attr-defined]
        return [{"subject": m["Subject"], **json.loads(m["Message"])} for m in sent if m.get("TopicArn") == "internal"]

    def loans_table_footprint(self) -> tuple[int, int]:
        size = 0
        for loan in self.services.loans.all():
            stored = self.services.loans.get_stored(loan.loan_id)
            record = loan.model_dump(mode="json", exclude={"customer"}, exclude_none=True)
            item = {
                "loan_id": loan.loan_id,
                "record": json.dumps(record),
                "sealed": dict(stored.sealed if stored else {}),
            }
            size += len(json.dumps(item, separators=(",", ":"))) + 60  # attribute names and type tags
        pages = max(-(-size // (1024 * 1024)), 1)
        return pages, max(-(-size // 8192), pages)
