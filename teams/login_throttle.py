"""Login throttling, per username and per client address.

After `LOGIN_FAILURES_PER_USER` failed sign-ins for one username, or `LOGIN_FAILURES_PER_IP`
from one address, within `LOGIN_THROTTLE_SECONDS`, every further attempt for that username (or
from that address) is refused until the window that began with the first failure ends, even
with the right password. The per-address limit is higher because an office shares one address.
A successful sign-in clears its username's count (not its address's).

The counts live in the cache: Redis in production, shared by every web process. When Redis is
down the cache fails open (config/cache.py), so sign-ins are then not throttled at all; they
are never refused because of the outage.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind `TRUSTED_PROXIES` proxies the address the outermost one saw
    (X-Forwarded-For read from the right, so that a client cannot pick its own address)."""
    hops = settings.TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if hops and len(forwarded) >= hops and forwarded[-hops]:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _counters(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    # Hashed: usernames are user input of any length and alphabet, cache keys are not.
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return [
        (f"login-failures:user:{user}", settings.LOGIN_FAILURES_PER_USER),
        (f"login-failures:ip:{client_ip(request)}", settings.LOGIN_FAILURES_PER_IP),
    ]


def wait_seconds(*, request: HttpRequest, username: str) -> int:
    """0 when a sign-in may be tried now, else the seconds until it may."""
    counters = _counters(request, username)
    keys = [k for key, _ in counters for k in (key, f"{key}:since")]
    stored = cache.get_many(keys)
    now = time.time()
    waits = [
        settings.LOGIN_THROTTLE_SECONDS - (now - stored.get(f"{key}:since", now))
        for key, limit in counters
        if stored.get(key, 0) >= limit
    ]
    return max(1, math.ceil(max(waits))) if waits else 0


def record_failure(*, request: HttpRequest, username: str) -> None:
    window = settings.LOGIN_THROTTLE_SECONDS
    for key, _ in _counters(request, username):
        cache.add(f"{key}:since", time.time(), window)
        cache.add(key, 0, window)
        # ValueError: expired between add and incr, or the cache is down.
        with contextlib.suppress(ValueError):
            cache.incr(key)


def record_success(*, request: HttpRequest, username: str) -> None:
    user_key, _ = _counters(request, username)[0]
    cache.delete_many([user_key, f"{user_key}:since"])


def refusal(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return (
        "Too many failed sign-ins for this account or from your network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
