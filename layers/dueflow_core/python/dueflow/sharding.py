"""How the sparse indexes are sharded (due-index, wake-index, pending-index): the same in every world."""

from __future__ import annotations

import hashlib


def shard_label(shard: int, shards: int) -> str:
    """How shard ``shard`` of ``shards`` is written in a sharded index key (``"07"``)."""
    return f"{shard:0{max(2, len(str(shards - 1)))}d}"


def shard_of(key: str, shards: int) -> str:
    """A stable shard for ``key`` (two or three digits), from its SHA-256."""
    return shard_label(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards, shards)
