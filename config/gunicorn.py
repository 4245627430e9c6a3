"""gunicorn settings for the web process (Dockerfile, docker-compose.yml, bench/).

Every value can be set from the environment: WEB_CONCURRENCY (workers, default 2 × CPUs + 1),
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_BIND, GUNICORN_ACCESS_LOG ("" for none),
GUNICORN_MAX_REQUESTS.

The application is imported once in the master (`preload_app`) and the objects it made are
frozen out of the garbage collector's reach (`gc.freeze()`) before the workers fork: a full
collection inside a request then walks only what the request made, not the ~10⁵ objects of
Django, DRF and the app's modules (full collections of 130–155 ms were measured inside requests
without it), and the frozen pages stay shared between workers instead of being copied when the
collector touches them. The collector's thresholds are raised in each worker (below).
"""

from __future__ import annotations

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
# A request running longer than this is killed and logged; graceful_timeout bounds a restart.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycle workers now and then (jittered, so they do not all restart at once).
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The heartbeat file on memory, not on a container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108


# Collector thresholds (50,000, 20, 10) instead of the default (700, 10, 10): with the
# defaults, a page of 100 decision records (some 15,000 surviving allocations) still ran
# collections inside the request that walked what the worker built after fork (caches, lazily
# imported modules): API decisions `?q=` measured p95 169 ms against 125–130 ms with these
# (bench/scale.py, docs/PERFORMANCE.md). Cycles a request leaves are still collected within a
# few requests.
GC_THRESHOLDS = (50_000, 20, 10)


def pre_fork(server, worker) -> None:
    # In the master, with the application loaded: what exists now is never garbage.
    gc.freeze()


def post_fork(server, worker) -> None:
    # In the worker: anything the fork itself made joins the frozen generation too.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
