"""A local runtime that fails while it is being set up leaves nothing behind: no patched moto class, no
clock, no environment variable, no default services."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest

from dueflow import clock
from dueflow.services import context
from dueflow_local.moto_runtime import MotoRuntime
from dueflow_local.runtime import open_runtime


def patched_members() -> dict[str, Any]:
    from botocore.signers import RequestSigner
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.table import Table

    return {
        "invoke": LambdaSimpleBackend.invoke,
        "process_request": BotocoreStubber.process_request,
        "serialize": BaseJSONSerializer._serialize_type_structure,
        "all_items": Table.all_items,
        "sign": RequestSigner.sign,
    }


@pytest.mark.parametrize("backend", ["moto", "memory"])
def test_a_failure_while_provisioning_leaves_nothing_patched(backend: str) -> None:
    before = patched_members()
    env_before = dict(os.environ)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    runtime = open_runtime(backend, start=start)  # type: ignore[arg-type]
    where = MotoRuntime if backend == "moto" else type(runtime)
    failing = "_provision" if backend == "moto" else "_register_handlers"
    with (
        mock.patch.object(where, failing, side_effect=RuntimeError("provisioning failed")),
        pytest.raises(RuntimeError, match="provisioning failed"),
        runtime,
    ):
        pass
    assert patched_members() == before
    assert clock.now() != start  # the real clock again
    assert dict(os.environ) == env_before
    assert context._default is None
