"""In-process Lambda for moto: invocations of named functions run Python callables in this process.

moto executes Step Functions definitions for real (``execute_state_machine``), but without Docker its
Lambda backend only echoes the payload. This routes every invocation of a registered function name to
its handler instead, so the local runtime runs the real handlers inside the real state machine.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


class InvocationError(RuntimeError):
    """A handler raised: surfaced to Step Functions as a failed Lambda invocation."""


class LambdaContext:
    """The bits of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


class Dispatcher:
    """Maps function names to handlers; records every invocation (for tests and reports).

    A handler that raises is an error the runtime stops on (``errors``), unless failures are
    ``tolerated`` (a run with injected faults): then it is a ``failure``, answered as Lambda answers
    one, and retried by whatever invoked it, as on AWS."""

    def __init__(self, tolerate: bool = False, keep_events: bool = True) -> None:
        self.tolerate = tolerate
        self.keep_events = keep_events  # a long simulation keeps only the counts
        self.invocations: Counter[str] = Counter()
        self.failures: list[tuple[str, str]] = []
        self.handlers: dict[str, Handler] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._count = 0
        self.inflight = 0
        self.errors: list[tuple[str, BaseException]] = []
        self.parked_tokens: set[str] = set()  # callback tokens whose ``case_wait`` invocation returned
        self._running = threading.local()

    def in_handler(self) -> bool:
        """Is the calling thread running a handler? (Faults are injected only there: the runtime's own
        calls stand in for AWS's machinery, which is not under test.)"""
        return getattr(self._running, "depth", 0) > 0

    def current(self) -> str | None:
        """The function whose handler the calling thread is running (the innermost), or None."""
        names = getattr(self._running, "names", None)
        return names[-1] if names else None

    def register(self, function_name: str, handler: Handler) -> None:
        self.handlers[function_name] = handler

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        name = function_name.rsplit(":", 1)[-1]
        handler = self.handlers.get(name)
        if handler is None:
            raise InvocationError(f"no local handler registered for Lambda function {name!r}")
        with self._lock:
            self._count += 1
            self.inflight += 1
            request_id = f"local-{self._count:08d}"
            self.invocations[name] += 1
            if self.keep_events:
                self.calls.append((name, event))
        self._running.depth = getattr(self._running, "depth", 0) + 1
        if not hasattr(self._running, "names"):
            self._running.names = []
        self._running.names.append(name)
        try:
            result = handler(event, LambdaContext(name, request_id))
            token = event.get("token") if name == "case_wait" else None
            if isinstance(token, str):
                with self._lock:
                    self.parked_tokens.add(token)
            return result
        except Exception as exc:
            if self.tolerate:
                self.failures.append((name, f"{type(exc).__name__}: {exc}"))
            else:
                self.errors.append((name, exc))
            raise
        finally:
            self._running.depth -= 1
            self._running.names.pop()
            with self._lock:
                self.inflight -= 1


@contextmanager
def dispatching(dispatcher: Dispatcher) -> Iterator[Dispatcher]:
    """While active, moto's Lambda invocations go to ``dispatcher``."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        try:
            result = dispatcher.invoke(function_name, event)
        except Exception as exc:  # as Lambda reports an unhandled error: status 200, X-Amz-Function-Error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result, default=str).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    try:
        yield dispatcher
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
