"""Asynchronous invocations of a function by itself: a scheduled run splits its work, one invocation per
slice (a shard, or the rest of a shard that did not fit one invocation)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def invoke_async(function_name: str, events: Iterable[dict[str, Any]], client: Any = None) -> int:
    """Invoke ``function_name`` once per event (``InvocationType=Event``: Lambda retries a failed
    asynchronous invocation twice, then keeps it in the function's dead-letter queue)."""
    if client is None:
        import boto3

        from dueflow.adapters.aws import SDK_CONFIG

        client = boto3.client("lambda", config=SDK_CONFIG)
    sent = 0
    for event in events:
        client.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode())
        sent += 1
    return sent
