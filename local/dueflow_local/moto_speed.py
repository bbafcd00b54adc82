"""Two adjustments of moto for the local runtime: one request at a time, and a faster serializer.

**One request at a time.** moto's backends are not thread-safe: when the main thread (an API handler)
and an execution's worker thread (a stage task) update the same DynamoDB item at once, moto can mutate
the item while serializing it ("dictionary changed size during iteration"). AWS services apply each
request atomically, so ``serialized_requests`` runs moto's requests one at a time under a process-wide
lock, except Lambda invocations: they run our handlers, whose own requests take the lock in turn.

**Cheaper bookkeeping.** Two moto costs grow with a run: every DynamoDB query first lists the whole
table sorted by hash key, comparing ``DynamoType`` objects (slow), and every request lists the
response class's methods with ``inspect``. ``faster_bookkeeping`` sorts string keys as plain strings
(the same order) and remembers each class's method names (classes do not change).

**One parse per definition.** moto parses the state machine's definition (ANTLR) afresh for every
execution it starts: most of the cost of a StartExecution. ``parse_once`` keeps the syntax tree of
each definition text and builds fresh evaluation components from it for every execution, so no state
is shared between executions.

**No request signing.** moto does not check signatures, and computing SigV4 for every request was a
fifth of the cost of a small call; ``unsigned_requests`` skips it (the account is moto's default
either way), except for S3, where moto treats an unsigned request as anonymous.

**A faster serializer for DynamoDB items.**

moto 5.2 serializes every response by walking the botocore output shape, and for each value of each
DynamoDB attribute it tries half a dozen alias rules across all ten members of ``AttributeValue``. For
the case and loan items this runtime reads thousands of times a day, that walk was most of the wall
time of a simulation. An ``AttributeValue`` held by moto's DynamoDB backend is already in wire form
(``{"S": ...}``, ``{"M": {...}}``, ...), so it can be written as it is; binary values, the one member
the wire form encodes, are base64-encoded on the way out exactly as the shape walk would. Nothing
else changes: other shapes and other services go through moto's serializer untouched, and
``tests/integration/test_moto_speed.py`` checks that responses are identical with and without it.
"""

from __future__ import annotations

import base64
import functools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from unittest.mock import patch

import moto
from botocore.signers import RequestSigner
from moto.core import responses
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

_original = BaseJSONSerializer._serialize_type_structure

# Each adjustment reaches into moto's internals as they are in this version; each has an equivalence test
# (tests/integration/test_moto_speed.py) that shows moto answers the same with and without it. Another
# moto version must be checked by those tests before the adjustments are used with it.
CHECKED_WITH = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the version the adjustments were checked with."""


def check_version(installed: str | None = None) -> None:
    """Refuse to adjust a moto the adjustments were not checked with (names both versions)."""
    installed = installed or moto.__version__
    if installed != CHECKED_WITH:
        raise MotoVersionError(
            f"dueflow_local.moto_speed was checked with moto {CHECKED_WITH}, not {installed}: run "
            "tests/integration/test_moto_speed.py against it and update CHECKED_WITH"
        )


def _b64(value: Any) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return base64.b64encode(data).strip().decode("utf-8")


def wire(value: dict[str, Any]) -> dict[str, Any]:
    """An ``AttributeValue`` in the JSON wire form (binary members base64-encoded, maps and lists too)."""
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if kind == "M":
            out[kind] = {k: wire(v) for k, v in inner.items()}
        elif kind == "L":
            out[kind] = [wire(v) for v in inner]
        elif kind == "B":
            out[kind] = _b64(inner)
        elif kind == "BS":
            out[kind] = [_b64(v) for v in inner]
        elif kind in {"NULL", "BOOL"}:
            out[kind] = bool(inner)
        else:
            out[kind] = inner
    return out


def _fast_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if shape.name == "AttributeValue" and key and isinstance(value, dict):
        serialized[self.get_serialized_name(shape, key)] = wire(value)
        return
    _original(self, serialized, value, shape, key)


def fast_attribute_values() -> AbstractContextManager[Any]:
    """While active, DynamoDB ``AttributeValue`` members skip moto's generic shape walk."""
    check_version()
    return patch.object(BaseJSONSerializer, "_serialize_type_structure", _fast_structure)


_lock = threading.RLock()
_process_request = BotocoreStubber.process_request


def _one_at_a_time(self: Any, request: Any) -> Any:
    if "/invocations" in str(request.url):  # a Lambda invocation runs a handler: do not hold the lock
        return _process_request(self, request)
    with _lock:
        return _process_request(self, request)


def serialized_requests() -> AbstractContextManager[Any]:
    """While active, moto handles one request at a time (Lambda invocations excepted)."""
    check_version()
    return patch.object(BotocoreStubber, "process_request", _one_at_a_time)


_all_items = Table.all_items
_method_names = responses.method_names_from_class  # type: ignore[attr-defined]


def _all_items_by_string_key(self: Any) -> list[Any]:
    if self.range_key_attr or self.hash_key_type != "S":
        return _all_items(self)
    return sorted(self.items.values(), key=lambda item: item.hash_key.value)


@functools.cache
def _cached_method_names(clazz: object) -> list[str]:
    return _method_names(clazz)


@contextmanager
def faster_bookkeeping() -> Iterator[None]:
    """While active, string-keyed tables list their items by plain string order (the order moto's
    comparison gives), and response classes' method names are computed once."""
    check_version()
    with (
        patch.object(Table, "all_items", _all_items_by_string_key),
        patch.object(responses, "method_names_from_class", _cached_method_names),
    ):
        yield


_parse = asl_parser.AmazonStateLanguageParser.parse
_trees: dict[str, Any] = {}
_trees_lock = threading.Lock()


def _parse_once(definition: str) -> tuple[Any, Any]:
    with _trees_lock:
        tree = _trees.get(definition)
    if tree is None:
        _, tree = _parse(definition)  # raises on a syntax error, as before; nothing is kept then
        with _trees_lock:
            _trees[definition] = tree
    return Preprocessor().visit(tree), tree


@contextmanager
def parse_once() -> Iterator[None]:
    """While active, each definition text is parsed once; every execution gets its own components."""
    check_version()
    try:
        with patch.object(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(_parse_once)):
            yield
    finally:
        _trees.clear()


_sign = RequestSigner.sign


def _no_signature(self: Any, *args: Any, **kwargs: Any) -> None:
    if self._service_id.hyphenize() == "s3":  # moto's S3 refuses anonymous reads of private objects
        _sign(self, *args, **kwargs)


def unsigned_requests() -> AbstractContextManager[Any]:
    """While active, botocore sends requests to moto without computing a signature."""
    check_version()
    return patch.object(RequestSigner, "sign", _no_signature)
