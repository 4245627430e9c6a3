"""Demo data for the decisions app, one module per feature, each with an idempotent `seed`."""

from __future__ import annotations

from importlib import import_module

PARTS = ("workloads", "records", "usage")


def seed(team, user) -> None:
    for part in PARTS:
        try:
            module = import_module(f"decisions.demo.{part}")
        except ModuleNotFoundError:
            continue
        module.seed(team, user)
