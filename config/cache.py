"""The Redis cache, failing open.

The cache holds only counters (API throttling, login throttling): losing them for a while is
harmless, answering 500 to every request because Redis is unreachable is not. So when Redis
fails, reads miss and writes are dropped, as if the cache were empty, and every failure is
logged (at most once a minute) and counted (`failures`, shown by /healthz). After a failure
the backend leaves Redis alone for `RETRY_SECONDS` instead of paying a timeout on every call.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
LOG_EVERY_SECONDS = 60.0


@dataclass
class FailureCount:
    """Cache operations of this process that did not reach Redis, since it started."""

    count: int = 0
    last_error: str = ""
    _logged_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, error: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.last_error = error
            due = now - self._logged_at >= LOG_EVERY_SECONDS
            if due:
                self._logged_at = now
        if due:
            logger.warning(
                "Cache unreachable (%s): failing open, throttling is off until it is back "
                "(%d cache operations failed in this process so far)",
                error,
                self.count,
            )


failures = FailureCount()


def _fail_open(fallback):
    """Run the Redis operation; on a Redis failure count it and return `fallback(*args)`."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < self._retry_at:
                failures.record(f"{self._last_error}, not retried yet")
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                self._last_error = exc.__class__.__name__
                self._retry_at = time.monotonic() + RETRY_SECONDS
                failures.record(self._last_error)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _missing_key(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found")  # what incr() says about a key that is not there


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache, answering as an empty cache while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._retry_at = 0.0
        self._last_error = ""

    get = _fail_open(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _fail_open(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _fail_open(lambda *a, **k: False)(RedisCache.has_key)
    add = _fail_open(lambda *a, **k: False)(RedisCache.add)
    set = _fail_open(lambda *a, **k: None)(RedisCache.set)
    set_many = _fail_open(lambda data, *a, **k: list(data))(RedisCache.set_many)
    touch = _fail_open(lambda *a, **k: False)(RedisCache.touch)
    delete = _fail_open(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _fail_open(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _fail_open(_missing_key)(RedisCache.incr)
    clear = _fail_open(lambda *a, **k: False)(RedisCache.clear)

    def ping(self) -> None:
        """Reach Redis now, bypassing fail-open (raises RedisError when it is down)."""
        self._cache.get_client(write=True).ping()


def cache_status() -> str:
    """ "ok", or "degraded: <error>" while Redis is unreachable (for /healthz)."""
    cache = caches["default"]
    if not isinstance(cache, FailOpenRedisCache):
        return "ok"  # process memory (development): nothing to reach
    try:
        cache.ping()
    except RedisError as exc:
        return f"degraded: {exc.__class__.__name__}"
    return "ok"
