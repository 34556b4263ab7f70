"""How many voice samples each key has ordered and not yet received: at most
``KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY``, across every API process.

A sample runs at the top priority, ahead of every book's chunks, so a key may not keep more than
a few of them in the queue (429 beyond). The count lives in the broker's Redis, where every API
process (gunicorn workers, several machines) sees it: one sorted set per key, of its orders in
flight, each scored with the time it stops counting. An order is given back as soon as its
request ends (the sample appeared, or the wait timed out and the order was revoked); one whose
API process died stops counting by itself when its time is up.
"""

import hashlib
import threading
import time
from typing import Protocol

# Atomic, so that two API processes never both take a key's last place.
# KEYS[1]: the key's orders; ARGV: now, until (s), limit, order id, expiry of the set (ms)
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class SampleSlots(Protocol):
    def take(self, owner: str, order_id: str, limit: int, hold_s: float) -> bool:
        """Count ``order_id`` as one of ``owner``'s samples in flight for at most ``hold_s``,
        unless it already has ``limit`` of them (False)."""

    def give_back(self, owner: str, order_id: str) -> None:
        """The order no longer counts."""


def owner_digest(owner: str) -> str:
    """A name for the owner in keys of Redis and storage: its id is not spelled out there."""
    return hashlib.sha256(f"kq-owner:{owner}".encode()).hexdigest()[:24]


class RedisSampleSlots:
    """The count in the broker's Redis, under the queue's name (as kombu's own keys are)."""

    def __init__(self, redis_url: str, queue: str):
        import redis  # not at import time: the fast tests' stand-in needs no client

        self._prefix = f"{queue}:sample-orders:"
        # Short timeouts: an unreachable Redis means the sample cannot be queued either
        self._client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._take = self._client.register_script(_TAKE)

    def take(self, owner: str, order_id: str, limit: int, hold_s: float) -> bool:
        now = time.time()
        args = [now, now + hold_s, limit, order_id, int(hold_s * 1000) + 1000]
        return bool(self._take(keys=[self._prefix + owner_digest(owner)], args=args))

    def give_back(self, owner: str, order_id: str) -> None:
        self._client.zrem(self._prefix + owner_digest(owner), order_id)


class SampleSlotsInMemory:
    """The same count in this process alone: a stand-in for tests, where there is no Redis."""

    def __init__(self):
        self.held: dict[str, dict[str, float]] = {}  # owner -> order id -> until (monotonic)
        self._lock = threading.Lock()

    def take(self, owner: str, order_id: str, limit: int, hold_s: float) -> bool:
        now = time.monotonic()
        with self._lock:
            orders = {o: until for o, until in self.held.get(owner, {}).items() if until > now}
            if len(orders) >= limit:
                return False
            orders[order_id] = now + hold_s
            self.held[owner] = orders
            return True

    def give_back(self, owner: str, order_id: str) -> None:
        with self._lock:
            orders = self.held.get(owner, {})
            orders.pop(order_id, None)
            if not orders:
                self.held.pop(owner, None)
