"""What the plans soak's APQ documents take in Redis (bench/plans_soak.py --apq): Redis's
memory before and after, and the anonymous client's APQ keys, counted and weighed."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from server.persisted.policy import ANONYMOUS
from server.persisted.store import APQ_PER_CLIENT, apq_index_key, apq_key

MIB = 2**20


def used_memory(url: str) -> int:
    """Redis's `used_memory`, in bytes."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


@dataclass(frozen=True, slots=True)
class RedisUse:
    """Redis before and after a load that stored APQ documents for the anonymous client."""

    before: int
    after: int
    keys: int
    """The client's APQ documents in Redis."""
    key_bytes: int
    """What they take (MEMORY USAGE, summed)."""
    indexed: int
    """The entries of its quota's index."""

    @classmethod
    def read(cls, url: str, before: int) -> RedisUse:
        """Reads Redis now."""
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=apq_key(ANONYMOUS, "*"), count=1000))
            sizes = [client.memory_usage(key) or 0 for key in keys]
            indexed = int(client.zcard(apq_index_key(ANONYMOUS)))
            after = int(client.info("memory")["used_memory"])
        finally:
            client.close()
        return cls(before, after, len(keys), sum(sizes), indexed)

    def row(self) -> str:
        """The summary table's row."""
        return (
            f"| Redis | used_memory {self.before / MIB:.1f} → {self.after / MIB:.1f} MiB; the "
            f"anonymous client's APQ documents: {self.keys:,} keys, "
            f"{self.key_bytes / MIB:.1f} MiB ({self.indexed:,} in its quota's index, at most "
            f"{APQ_PER_CLIENT:,}) |"
        )
