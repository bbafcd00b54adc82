"""A faster path through moto's response serializer for DynamoDB items (local runtime only).

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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.serialize import BaseJSONSerializer

_original = BaseJSONSerializer._serialize_type_structure


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


@contextmanager
def fast_attribute_values() -> Iterator[None]:
    """While active, DynamoDB ``AttributeValue`` members skip moto's generic shape walk."""
    BaseJSONSerializer._serialize_type_structure = _fast_structure  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseJSONSerializer._serialize_type_structure = _original  # type: ignore[method-assign]
