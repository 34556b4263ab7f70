"""Clean-up of the Redis side of a queue that a test or a benchmark made for itself."""

import redis


def drop_queue(redis_url: str, queue: str) -> int:
    """Delete every Redis key of ``queue`` (its priority lists, its unacked hash, index and
    mutex, and kombu's bindings ``_kombu.binding*.<queue>``): what a test or a benchmark that
    made the queue leaves behind. How many keys went."""
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{queue}*")) + list(client.scan_iter(f"_kombu.binding*.{queue}*"))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)
